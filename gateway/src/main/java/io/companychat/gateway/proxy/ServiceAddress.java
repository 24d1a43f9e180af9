package io.companychat.gateway.proxy;

import java.net.URI;

/** Host and port of one service, parsed from its configured base URL. */
public record ServiceAddress(String name, String host, int port) {

    /** {@code host:port}, as a {@code Host} header names the service. */
    public String authority() {
        return host + ":" + port;
    }

    /** Fails at start-up on a URL the gateway cannot use, rather than on the first request. */
    public static ServiceAddress parse(String name, String baseUrl) {
        URI uri;
        try {
            uri = URI.create(baseUrl);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " URL is not a valid URL: " + baseUrl, e);
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException(name + " URL must look like http://host:port, got " + baseUrl);
        }
        String path = uri.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/") || uri.getRawQuery() != null) {
            throw new IllegalArgumentException(name + " URL must not have a path or query (paths are forwarded as they are), got " + baseUrl);
        }
        return new ServiceAddress(name, uri.getHost(), uri.getPort() == -1 ? 80 : uri.getPort());
    }
}
