package io.companychat.common.testing;

import static io.restassured.RestAssured.given;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.ConfigProvider;

import io.restassured.RestAssured;

/**
 * The Prometheus scrape of the service under test: from its management port where the test runs with one
 * (quarkus.management.test-port), else from the test port (the services' tests run without the management interface:
 * see their application.properties).
 */
public final class ManagementMetrics {

    private ManagementMetrics() {
    }

    public static int port() {
        var config = ConfigProvider.getConfig();
        boolean management = config.getOptionalValue("quarkus.management.enabled", Boolean.class).orElse(false);
        return management ? config.getValue("quarkus.management.test-port", Integer.class) : RestAssured.port;
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
