package io.companychat.user.service;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.user.repository.MailOutboxRepository;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;

/**
 * The welcome-mail outbox's backlog as gauges ({@code user_outbox_backlog}, {@code user_outbox_oldest_age_seconds}):
 * a mail server that refuses or drops mails shows as both growing. A gauge is read at the scrape, which cannot wait
 * for the database, so the figures are fetched on the outbox's own poll interval (one indexed count) and kept. Every
 * replica reports the same shared outbox: take the max over replicas, not the sum.
 */
@ApplicationScoped
public class OutboxBacklog {

    private final MailOutboxRepository outbox;
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong oldestMillis = new AtomicLong();

    public OutboxBacklog(MailOutboxRepository outbox, MeterRegistry registry) {
        this.outbox = outbox;
        Gauge.builder("user.outbox.backlog", pending, AtomicLong::get)
                .description("welcome mails not sent yet (due or waiting for a retry), over all replicas").register(registry);
        Gauge.builder("user.outbox.oldest.age", oldestMillis, millis -> millis.get() / 1000.0).baseUnit("seconds")
                .description("age of the oldest mail not sent yet (0 if none)").register(registry);
    }

    @Scheduled(identity = "mail-outbox-backlog", every = "${chat.outbox.poll-interval:1s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return outbox.backlog().invoke(backlog -> {
            pending.set(backlog.pending());
            oldestMillis.set(Math.round(backlog.oldestSeconds() * 1000));
        }).replaceWithVoid().onFailure().recoverWithItem(failure -> {
            Log.debugf("Outbox backlog not read: %s", failure.toString());
            return null;
        });
    }
}
