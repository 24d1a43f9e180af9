package io.companychat.user.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The one test profile of user-service, so that the tests needing configuration of their own share one more
 * application start instead of one each: registration limits (RegistrationLimitsTest) and the local run's mock mailer
 * with its mail page (DevMailPageEnabledTest). Neither class looks at what the other's settings change: the limits
 * count per forwarded client address (the page's registrations come from loopback, fewer than the limit), and no
 * limit test reads a mail.
 */
public class LimitsAndLocalRun implements QuarkusTestProfile {

    /** Registrations per client address per hour. */
    public static final int REGISTRATION_LIMIT = 3;
    /** Registrations that may wait for the one bcrypt thread before more are refused with 503. */
    public static final int WAITING_REGISTRATIONS = 6;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "chat.registration.limit", Integer.toString(REGISTRATION_LIMIT),
                "chat.registration.domains", "example.com, Company.Test",
                // One bcrypt thread, so that the queue's order shows in what finishes when.
                "chat.password.hash-threads", "1",
                "chat.password.max-waiting-registrations", Integer.toString(WAITING_REGISTRATIONS),
                // What deploy/local/run.sh sets: no SMTP server, the mock mailer keeps the mails, /dev/sent-mails shows
                // them; listening on every interface (as the local run once did) so that a caller from elsewhere can be tried.
                "quarkus.mailer.mock", "true",
                "chat.dev-mail-page.enabled", "true",
                "quarkus.http.host", "0.0.0.0");
    }
}
