package io.companychat.user.rest;

import java.net.InetAddress;
import java.net.UnknownHostException;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.ResponseHeader;

import io.companychat.common.error.ApiException;
import io.companychat.user.service.DevMailPageService;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

/**
 * The local run's mail page; 404 unless {@code chat.dev-mail-page.enabled} (never in a real deployment), and 404
 * to anyone but a caller on this machine: the page shows generated passwords.
 */
@Path("/dev/sent-mails")
public class DevMailPageResource {

    private final DevMailPageService page;

    public DevMailPageResource(DevMailPageService page) {
        this.page = page;
    }

    @GET
    @Produces(MediaType.TEXT_HTML)
    @ResponseHeader(name = "Cache-Control", value = "no-store")
    @ResponseHeader(name = "Content-Security-Policy", value = "default-src 'none'; style-src 'unsafe-inline'")
    public Uni<String> sentMails(HttpServerRequest http) {
        if (!page.enabled() || !fromLoopback(http)) {
            throw ApiException.notFound();
        }
        return page.render();
    }

    /**
     * Both the TCP peer and the client it speaks for (a trusted proxy's X-Forwarded-For, which Vert.x puts in
     * {@code remoteAddress()}) are loopback addresses: a request relayed from elsewhere by a proxy on this machine
     * is refused too.
     */
    private static boolean fromLoopback(HttpServerRequest http) {
        return isLoopback(http.connection().remoteAddress()) && isLoopback(http.remoteAddress());
    }

    private static boolean isLoopback(SocketAddress address) {
        if (address == null || address.hostAddress() == null) {
            return false;
        }
        String host = address.hostAddress();
        if (!host.matches("[0-9A-Fa-f:.]+")) {
            return false; // not an IP literal: never resolved here
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
