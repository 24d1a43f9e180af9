package io.companychat.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Services that cannot answer: user-service accepts TCP connections but never says a word (a hung service, caught
 * by the request timeout), auth-service and chat-service point at a closed port (connection refused).
 */
public class DownServicesResource implements QuarkusTestResourceLifecycleManager {

    public static final String REQUEST_TIMEOUT = "1s";

    private ServerSocket silent;

    @Override
    public Map<String, String> start() {
        try {
            // never accept()ed: the kernel still completes the handshake, and no byte ever comes back
            silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            int closed;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                closed = probe.getLocalPort();
            }
            return Map.of(
                    "gateway.user-service-url", "http://127.0.0.1:" + silent.getLocalPort(),
                    "gateway.auth-service-url", "http://127.0.0.1:" + closed,
                    "gateway.chat-service-url", "http://127.0.0.1:" + closed,
                    "gateway.request-timeout", REQUEST_TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        try {
            if (silent != null) {
                silent.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
