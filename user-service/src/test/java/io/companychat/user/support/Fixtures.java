package io.companychat.user.support;

import static io.restassured.RestAssured.given;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.restassured.http.ContentType;

/** Users for tests, registered through the real API or described as request bodies. */
public final class Fixtures {

    public static final String NAME = "Ada";
    public static final String SUBNAME = "Lovelace";
    public static final String JOB = "Analyst";
    /** A generated password stands alone on its line of the welcome mail's text. */
    private static final Pattern PASSWORD_LINE = Pattern.compile("(?m)^\\s+([A-Za-z0-9]{20})\\s*$");

    private Fixtures() {
    }

    /** An address no other test uses: {@code <tag>-<random>@example.com}. */
    public static String uniqueEmail(String tag) {
        return tag + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    }

    /** The fields of a registration; a null value leaves the field out. */
    public static Map<String, Object> fields(String name, String subname, String email, String job) {
        Map<String, Object> user = new LinkedHashMap<>();
        putIfPresent(user, "name", name);
        putIfPresent(user, "subname", subname);
        putIfPresent(user, "email", email);
        putIfPresent(user, "job", job);
        return user;
    }

    public static Map<String, Object> registration(Map<String, Object> fields) {
        return Map.of("user", fields);
    }

    public static Map<String, Object> registration(String email) {
        return registration(fields(NAME, SUBNAME, email, JOB));
    }

    /** Registers a user through {@code POST /api/users}; its id. */
    public static long register(String email) {
        return given().contentType(ContentType.JSON).body(registration(email))
                .when().post("/api/users")
                .then().statusCode(201)
                .extract().jsonPath().getLong("id");
    }

    /** The generated password in a welcome mail's text. */
    public static String passwordIn(String mailText) {
        Matcher matcher = PASSWORD_LINE.matcher(mailText);
        if (!matcher.find()) {
            throw new AssertionError("no generated password in the mail text:\n" + mailText);
        }
        return matcher.group(1);
    }

    private static void putIfPresent(Map<String, Object> map, String key, Object value) {
        if (value != null) {
            map.put(key, value);
        }
    }
}
