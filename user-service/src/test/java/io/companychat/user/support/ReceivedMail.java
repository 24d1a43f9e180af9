package io.companychat.user.support;

import java.io.IOException;
import java.util.Arrays;
import java.util.stream.Collectors;

import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;

/** A mail as the SMTP server received it. */
public record ReceivedMail(String from, String to, String subject, String text, String html, String messageId) {

    static ReceivedMail of(MimeMessage message) {
        try {
            String to = Arrays.stream(message.getAllRecipients()).map(Object::toString).collect(Collectors.joining(","));
            return new ReceivedMail(message.getFrom()[0].toString(), to, message.getSubject(),
                    part(message, "text/plain"), part(message, "text/html"), message.getMessageID());
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException("unreadable mail", e);
        }
    }

    private static String part(Part part, String type) throws MessagingException, IOException {
        if (part.isMimeType(type)) {
            return part.getContent().toString();
        }
        if (part.isMimeType("multipart/*")) {
            Multipart multipart = (Multipart) part.getContent();
            for (int i = 0; i < multipart.getCount(); i++) {
                BodyPart body = multipart.getBodyPart(i);
                String found = part(body, type);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }
}
