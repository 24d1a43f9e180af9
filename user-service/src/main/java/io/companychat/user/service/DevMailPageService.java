package io.companychat.user.service;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.user.config.UserConfig;
import io.companychat.user.repository.MailOutboxRepository;
import io.quarkus.mailer.Mail;
import io.quarkus.mailer.MockMailbox;
import io.smallrye.mutiny.Uni;

/**
 * The local run's stand-in for an inbox (the original had {@code /sent_mails}): the mails the mock
 * mailer kept, for the most recent outbox recipients. With a real SMTP server the mock mailbox
 * stays empty, so real mails never show here; and the page exists only when
 * {@code chat.dev-mail-page.enabled} is set.
 */
@ApplicationScoped
public class DevMailPageService {

    static final int MAX_RECIPIENTS = 100;

    private final boolean enabled;
    private final MockMailbox mailbox;
    private final MailOutboxRepository outbox;

    public DevMailPageService(UserConfig config, MockMailbox mailbox, MailOutboxRepository outbox) {
        this.enabled = config.devMailPage().enabled();
        this.mailbox = mailbox;
        this.outbox = outbox;
    }

    public boolean enabled() {
        return enabled;
    }

    public Uni<String> render() {
        return outbox.recentRecipients(MAX_RECIPIENTS).map(this::render);
    }

    private String render(List<String> recipients) {
        StringBuilder html = new StringBuilder("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Sent mails (mock mailer)</title>
                <style>body{font-family:sans-serif;margin:2em}article{border:1px solid #ccc;padding:1em;margin:1em 0}
                pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}</style></head><body>
                <h1>Sent mails</h1>
                <p>Mails kept by the mock mailer of this user-service (newest recipients first). Nothing here was really sent.</p>
                """);
        int shown = 0;
        for (String recipient : recipients) {
            for (Mail mail : mailbox.getMailsSentTo(recipient)) {
                shown++;
                html.append("<article><h2>").append(escape(mail.getSubject())).append("</h2>")
                        .append("<p>To: ").append(escape(recipient)).append("</p>")
                        .append("<pre>").append(escape(mail.getText())).append("</pre>");
                if (mail.getHtml() != null) {
                    html.append("<details><summary>HTML body</summary><pre>").append(escape(mail.getHtml()))
                            .append("</pre></details>");
                }
                html.append("</article>\n");
            }
        }
        if (shown == 0) {
            html.append("<p><em>No mails yet. Register a user and reload.</em></p>\n");
        }
        return html.append("</body></html>\n").toString();
    }

    static String escape(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
