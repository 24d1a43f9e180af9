package io.companychat.gateway.web;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The web client the gateway serves at {@code /}. */
@ConfigMapping(prefix = "gateway.web")
public interface WebClientConfig {

    /**
     * Whether the page, after a registration, links to user-service's mail page ({@code /dev/sent-mails} on
     * {@code gateway.user-service-url}). Only the local run turns it on: there the mock mailer keeps the welcome mails
     * and the browser reaches user-service at that URL.
     */
    @WithDefault("false")
    boolean devMailPage();
}
