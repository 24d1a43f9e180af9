package io.companychat.gateway.support;

import java.net.MalformedURLException;
import java.net.URL;

import org.eclipse.microprofile.config.ConfigProvider;

/**
 * URLs on the gateway's management interface under test. Its test port is fixed (see
 * application.properties), and {@code @TestHTTPResource(management = true)} does not follow a
 * fixed one, so the URLs are built from the configured port.
 */
public final class ManagementUrls {

    private ManagementUrls() {
    }

    public static URL of(String path) {
        int port = ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
        try {
            return new URL("http://localhost:" + port + path);
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(path, e);
        }
    }
}
