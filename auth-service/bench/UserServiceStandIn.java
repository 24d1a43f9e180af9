import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * user-service's credential check without the hashing: answers POST /internal/credentials at once, so that a
 * benchmark through it measures auth-service's own cost. Any email {@code <name>@example.com} with the given password
 * is a user. JDK only: {@code java auth-service/bench/UserServiceStandIn.java --port 18081 --token T --password P}.
 */
public class UserServiceStandIn {

    public static void main(String[] args) throws IOException {
        int port = 18081;
        String token = null;
        String password = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--token" -> token = args[i + 1];
                case "--password" -> password = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        // Without this the JDK server's separate header and body writes meet delayed ACKs: +40 ms per call.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        String serviceToken = token;
        Pattern email = Pattern.compile("\"email\":\"([a-z0-9.+-]+@example\\.com)\"");
        String expectedPassword = "\"password\":\"" + password + "\"";
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 512);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/internal/credentials", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (!serviceToken.equals(exchange.getRequestHeaders().getFirst("X-Service-Token"))) {
                respond(exchange, 401, "{\"message\":\"service credential required\"}");
            } else if (email.matcher(body).find() && body.contains(expectedPassword)) {
                Matcher found = email.matcher(body);
                found.find();
                respond(exchange, 200, "{\"id\":" + Math.abs(found.group(1).hashCode()) + ",\"name\":\"Bench\",\"subname\":\"Mark\","
                        + "\"email\":\"" + found.group(1) + "\",\"job\":\"load\"}");
            } else {
                respond(exchange, 401, "{\"message\":\"invalid email or password\"}");
            }
        });
        server.createContext("/q/health/ready", exchange -> respond(exchange, 200, "{\"status\":\"UP\"}"));
        server.start();
        System.out.println("user-service stand-in on port " + port);
    }

    private static void respond(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
