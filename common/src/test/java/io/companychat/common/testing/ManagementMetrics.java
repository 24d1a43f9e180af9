package io.companychat.common.testing;

import static io.restassured.RestAssured.given;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The Prometheus scrape of the service under test, from its management port (quarkus.management.test-port: fixed
 * per module, since {@code @TestHTTPResource(management = true)} does not follow a fixed one).
 */
public final class ManagementMetrics {

    private ManagementMetrics() {
    }

    public static int port() {
        return ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
    }

    public static String scrape() {
        return given().port(port()).when().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /**
     * The value of one series, {@code name} with exactly the labels given in Prometheus' text form
     * ({@code outcome="success"}; empty for none), or 0 when it is not there.
     */
    public static double value(String name, String labels) {
        return value(scrape(), name, labels);
    }

    public static double value(String scrape, String name, String labels) {
        String series = labels.isEmpty() ? Pattern.quote(name) : Pattern.quote(name + "{") + "[^}]*" + Pattern.quote(labels) + "[^}]*\\}";
        Matcher matcher = Pattern.compile("(?m)^" + series + " ([0-9.eE+-]+|NaN)$").matcher(scrape);
        return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
    }
}
