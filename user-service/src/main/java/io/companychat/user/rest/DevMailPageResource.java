package io.companychat.user.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.ResponseHeader;

import io.companychat.common.error.ApiException;
import io.companychat.user.service.DevMailPageService;
import io.smallrye.mutiny.Uni;

/** The local run's mail page; 404 unless {@code chat.dev-mail-page.enabled} (never in a real deployment). */
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
    public Uni<String> sentMails() {
        if (!page.enabled()) {
            throw ApiException.notFound();
        }
        return page.render();
    }
}
