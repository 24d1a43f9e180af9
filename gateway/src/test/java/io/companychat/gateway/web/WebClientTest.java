package io.companychat.gateway.web;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** The web client at {@code /}: its files, their headers, and every other path as before. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class WebClientTest {

    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    /** src="/x", href="/x" in the page; import ... from './x.js' or '../vendor/x.mjs' in its modules. */
    private static final Pattern PAGE_REFERENCE = Pattern.compile("(?:src|href)=\"(/[^\"]*)\"");
    private static final Pattern MODULE_IMPORT = Pattern.compile("from '(\\.{1,2}/[^']+)'");

    @Test
    void pageIsServedAtRoot() {
        Response response = given().get("/");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.contentType()).isEqualTo("text/html; charset=utf-8");
        assertThat(response.asString()).contains("data-testid=\"login-email\"", "<script type=\"module\" src=\"/js/app.js\">");
        assertThat(response.header("Content-Security-Policy")).isEqualTo(CSP);
        assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(response.header("X-Frame-Options")).isEqualTo("DENY");
        assertThat(response.header("Referrer-Policy")).isEqualTo("no-referrer");
        assertThat(response.header("Cache-Control")).isEqualTo("no-cache");
        assertThat(response.header("ETag")).matches("\"[A-Za-z0-9_-]{22}\"");
        assertThat(given().get("/index.html").asString()).isEqualTo(response.asString());
    }

    @Test
    void pageNeedsNothingTheCspForbids() {
        String page = given().get("/").asString();

        assertThat(page).as("inline scripts").doesNotContainPattern("<script(?![^>]*\\ssrc=)[^>]*>");
        assertThat(page).as("style attributes and elements").doesNotContain(" style=", "<style");
        assertThat(page).as("inline event handlers").doesNotContainPattern("\\son[a-z]+=");
        assertThat(page).as("the local run's mail page is off by default").contains(WebAssets.DEV_MAIL_META);
    }

    /** Every file the page and its modules refer to (the phoenix client included) is there, with its type. */
    @Test
    void everyFileThePageLoadsIsServed() {
        Set<String> files = new LinkedHashSet<>();
        collect(PAGE_REFERENCE.matcher(given().get("/").asString()), "/", files);
        Set<String> modules = new LinkedHashSet<>(files);
        while (!modules.isEmpty()) {
            Set<String> next = new LinkedHashSet<>();
            for (String module : modules) {
                if (module.endsWith(".js") || module.endsWith(".mjs")) {
                    collect(MODULE_IMPORT.matcher(given().get(module).asString()), module, next);
                }
            }
            next.removeAll(files);
            files.addAll(next);
            modules = next;
        }

        assertThat(files).contains("/js/app.js", "/js/chat.js", "/vendor/phoenix.mjs", "/styles.css", "/favicon.svg");
        for (String file : files) {
            Response response = given().get(file);
            assertThat(response.statusCode()).as("GET %s", file).isEqualTo(200);
            assertThat(response.contentType()).as("type of %s", file).isEqualTo(typeOf(file));
            assertThat(response.header("Cache-Control")).as(file).isEqualTo("no-cache");
        }
        assertThat(given().get("/vendor/phoenix.mjs").asString()).as("the phoenix package's ES module")
                .contains("export {", "Presence", "Socket");
    }

    @Test
    void unchangedFileIsNotSentAgain() {
        String etag = given().get("/js/app.js").header("ETag");

        Response again = given().header("If-None-Match", etag).get("/js/app.js");
        Response changed = given().header("If-None-Match", "\"something-else\"").get("/js/app.js");

        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.asString()).isEmpty();
        assertThat(again.header("ETag")).isEqualTo(etag);
        assertThat(changed.statusCode()).isEqualTo(200);
    }

    @Test
    void headHasTheHeadersWithoutTheBody() {
        Response get = given().get("/styles.css");
        Response head = given().head("/styles.css");

        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.asString()).isEmpty();
        assertThat(head.header("ETag")).isEqualTo(get.header("ETag"));
        assertThat(head.contentType()).isEqualTo("text/css; charset=utf-8");
    }

    @ParameterizedTest(name = "{0} {1} is 404 JSON")
    @CsvSource({
            "GET,    /js/missing.js",
            "GET,    /js",
            "GET,    /index.html/",
            "GET,    /src/main/resources/web/index.html",
            "GET,    /web/index.html",
            "POST,   /",
            "PUT,    /js/app.js",
            "DELETE, /index.html",
            "GET,    /api/other",
            "GET,    /socket",
    })
    void otherPathsAndMethodsAreStillNotFound(String method, String path) {
        Response response = given().request(method, path);

        assertThat(response.statusCode()).as("%s %s", method, path).isEqualTo(404);
        assertThat(response.contentType()).isEqualTo("application/json");
        assertThat(response.jsonPath().getString("message")).isEqualTo("not found");
        assertThat(response.header("Content-Security-Policy")).isNull();
    }

    @Test
    void servicePathsStillReachTheirServices() {
        Response response = given().get("/api/users");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.jsonPath().getString("service")).isEqualTo("user-service");
        assertThat(response.header("Content-Security-Policy")).as("service answers are passed through untouched").isNull();
    }

    private static void collect(Matcher references, String from, Set<String> into) {
        while (references.find()) {
            String reference = references.group(1);
            into.add(reference.startsWith("/") ? reference
                    : java.net.URI.create("http://x" + from).resolve(reference).getPath());
        }
    }

    private static String typeOf(String file) {
        if (file.endsWith(".js") || file.endsWith(".mjs")) {
            return "text/javascript; charset=utf-8";
        }
        if (file.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        if (file.endsWith(".svg")) {
            return "image/svg+xml";
        }
        return "text/html; charset=utf-8";
    }
}
