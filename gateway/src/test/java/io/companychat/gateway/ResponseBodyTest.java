package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.HeldBody;
import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * What the client gets of a service's answer while its body is still arriving (README, "Behaviour where API.md is
 * silent"): a small body leaves the gateway whole, with its head; a large one streams; a service gone within a small
 * body is the JSON 502, not a cut answer.
 */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class ResponseBodyTest {

    private static final String PATH = "/api/users/7";
    private static final int SMALL_BODY = 1000;
    /** Above the 64 KB the gateway gathers. */
    private static final int LARGE_BODY = 256 * 1024;
    /** How long nothing may arrive while the small body is held; the service's first part is written at once. */
    private static final int HOLD_MILLIS = 700;
    private static final int TIMEOUT_MILLIS = 10_000;

    @TestHTTPResource("/")
    URL gateway;

    @BeforeEach
    void holdNextBody() {
        HeldBody.reset();
    }

    @AfterEach
    void releaseBody() {
        HeldBody.release();
    }

    @Test
    void smallBodyReachesClientOnlyWholeWithItsHead() throws Exception {
        try (Socket socket = request(SMALL_BODY)) {
            InputStream in = socket.getInputStream();
            socket.setSoTimeout(HOLD_MILLIS);
            assertThatThrownBy(in::read).as("a byte of the answer while the service still held %d of its %d body bytes",
                    SMALL_BODY - HeldBody.FIRST_PART, SMALL_BODY).isInstanceOf(SocketTimeoutException.class);

            HeldBody.release();
            socket.setSoTimeout(TIMEOUT_MILLIS);
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200");
            assertThat(head.toLowerCase(Locale.ROOT)).contains("content-length: " + SMALL_BODY);
            assertThat(in.readNBytes(SMALL_BODY)).isEqualTo(HeldBody.body(SMALL_BODY));
        }
    }

    @Test
    void largeBodyStreamsBeforeItIsWhole() throws Exception {
        try (Socket socket = request(LARGE_BODY)) {
            InputStream in = socket.getInputStream();
            socket.setSoTimeout(TIMEOUT_MILLIS);
            String head = readHead(in);
            assertThat(head).as("head of a %d-byte answer whose body is held", LARGE_BODY).startsWith("HTTP/1.1 200");
            assertThat(head.toLowerCase(Locale.ROOT)).contains("content-length: " + LARGE_BODY);
            assertThat(in.readNBytes(HeldBody.FIRST_PART)).as("the part the service wrote").isEqualTo(HeldBody.body(HeldBody.FIRST_PART));

            HeldBody.release();
            assertThat(in.readNBytes(LARGE_BODY - HeldBody.FIRST_PART)).isEqualTo(HeldBody.body(LARGE_BODY - HeldBody.FIRST_PART));
        }
    }

    @Test
    void serviceGoneWithinSmallBodyIs502Json() {
        Response response = given().header(HeldBody.HEADER, SMALL_BODY + ";cut").get(PATH);

        assertThat(response.statusCode()).as("status when the service closed within the body").isEqualTo(502);
        assertThat(response.contentType()).isEqualTo("application/json");
        assertThat(response.header("Retry-After")).isEqualTo("5");
        assertThat(response.jsonPath().getString("message")).isEqualTo("user-service is unavailable");
    }

    private Socket request(int bodyLength) throws IOException {
        Socket socket = new Socket("localhost", gateway.getPort());
        String request = "GET " + PATH + " HTTP/1.1\r\nHost: localhost\r\n" + HeldBody.HEADER + ": " + bodyLength + "\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** The response head as it came, its blank line included. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int c = in.read();
            if (c < 0) {
                throw new AssertionError("connection closed within the response head: " + head);
            }
            head.write(c);
            matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : (c == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
