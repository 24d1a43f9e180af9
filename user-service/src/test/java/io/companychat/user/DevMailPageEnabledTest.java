package io.companychat.user;

import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.Collections;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.user.support.Fixtures;
import io.companychat.user.support.LimitsAndLocalRun;
import io.companychat.user.support.Rows;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.response.Response;

/** The local run: no SMTP server, the mock mailer keeps the mails, and /dev/sent-mails shows them. */
@QuarkusTest
@TestProfile(LimitsAndLocalRun.class)
@WithTestResource(PostgresTestResource.class)
class DevMailPageEnabledTest {

    private static final String PAGE = "/dev/sent-mails";
    private static final Duration MAIL_TIMEOUT = Duration.ofSeconds(20);

    @InjectTestDatabase
    TestDatabase database;

    @Test
    void pageShowsTheMockedWelcomeMailWithAPasswordThatVerifies() {
        String email = uniqueEmail("local");
        Fixtures.register(email);

        String page = awaitPageContaining(email);
        String article = page.substring(page.indexOf("To: " + email));
        String text = article.substring(article.indexOf("<pre>") + "<pre>".length(), article.indexOf("</pre>"));

        assertThat(page).contains("<h2>Generated password</h2>");
        String password = Fixtures.passwordIn(text);
        String hash = (String) new Rows(database).one("SELECT password_hash FROM users WHERE email = ?", email).get("password_hash");
        assertThat(BcryptUtil.matches(password, hash)).as("the password on the page verifies").isTrue();
    }

    @Test
    void pageEscapesWhatItShows() {
        String email = "o'hara&co-" + uniqueEmail("escaped");
        Fixtures.register(email);

        String page = awaitPageContaining("o&#39;hara&amp;co-");

        assertThat(page).doesNotContain("o'hara&co-");
    }

    @Test
    void pageIs404ToACallerFromAnotherAddress() throws SocketException {
        String address = nonLoopbackAddress();

        Response response = given().baseUri("http://" + address).port(RestAssured.port).when().get(PAGE);

        assertThat(response.statusCode()).as("the page asked for over %s", address).isEqualTo(404);
        assertThat(response.jsonPath().getString("message")).isEqualTo("not found");
        assertThat(response.asString()).doesNotContain("Generated password");
    }

    @Test
    void pageIs404ToARequestRelayedFromElsewhereByAProxyOnThisMachine() {
        Response response = given().header("X-Forwarded-For", "203.0.113.9").when().get(PAGE);

        assertThat(response.statusCode()).isEqualTo(404);
    }

    @Test
    void pageIsHtmlAndNeverCached() {
        Response response = given().when().get(PAGE);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("text/html");
        assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        assertThat(response.header("Content-Security-Policy")).contains("default-src 'none'");
    }

    /** An address of this machine that is not loopback (the test machines have one on their network interface). */
    private static String nonLoopbackAddress() throws SocketException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress() && !address.isLinkLocalAddress()) {
                    return address.getHostAddress();
                }
            }
        }
        throw new AssertionError("this machine has no non-loopback IPv4 address to call from");
    }

    private static String awaitPageContaining(String text) {
        return Awaitility.await("the page showing " + text).atMost(MAIL_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .until(() -> given().when().get(PAGE).then().statusCode(200).extract().asString(), page -> page.contains(text));
    }
}
