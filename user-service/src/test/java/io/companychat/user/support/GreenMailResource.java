package io.companychat.user.support;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Points the service's mailer at a real SMTP server (GreenMail) for the run, instead of the mock mailer. */
public class GreenMailResource implements QuarkusTestResourceLifecycleManager {

    private TestMailServer mailServer;

    @Override
    public Map<String, String> start() {
        mailServer = TestMailServer.startOnFreePort();
        return Map.of(
                "quarkus.mailer.mock", "false",
                "quarkus.mailer.host", "127.0.0.1",
                "quarkus.mailer.port", Integer.toString(mailServer.port()),
                "quarkus.mailer.start-tls", "DISABLED",
                "quarkus.mailer.tls", "false");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(mailServer,
                new TestInjector.AnnotatedAndMatchesType(InjectMailServer.class, TestMailServer.class));
    }

    @Override
    public void stop() {
        if (mailServer != null) {
            mailServer.close();
        }
    }
}
