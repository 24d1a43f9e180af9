package io.companychat.user.service;

import java.time.Instant;

import io.companychat.user.OutboxMail;

/** The mail that brings a new user the generated password, worded as the original's. */
final class WelcomeMail {

    static final String SUBJECT = "Generated password";

    private WelcomeMail() {
    }

    /** The password stands on a line of its own, so that copying it takes nothing else along. */
    static OutboxMail to(String recipient, String password, Instant now) {
        OutboxMail mail = new OutboxMail();
        mail.recipient = recipient;
        mail.subject = SUBJECT;
        mail.textBody = """
                Welcome to Chat.

                This is your generated password:

                    %s

                You can change it anytime.
                """.formatted(password);
        // The alphabet of generated passwords needs no HTML escaping.
        mail.htmlBody = """
                <h1>Welcome to Chat</h1>
                <p>This is your generated password:</p>
                <p><code style="font-size: 1.2em">%s</code></p>
                <p>You can change it anytime.</p>
                """.formatted(password);
        mail.status = OutboxMail.Status.PENDING;
        mail.attempts = 0;
        mail.nextAttemptAt = now;
        mail.createdAt = now;
        return mail;
    }
}
