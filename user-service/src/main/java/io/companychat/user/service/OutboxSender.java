package io.companychat.user.service;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.companychat.user.OutboxMail;
import io.companychat.user.config.UserConfig;
import io.companychat.user.repository.MailOutboxRepository;
import io.companychat.user.repository.MailOutboxRepository.ClaimedMail;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.mailer.Mail;
import io.quarkus.mailer.reactive.ReactiveMailer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Delivers the outbox: every poll, each replica leases a batch of due mails (see
 * {@link MailOutboxRepository#CLAIM}), sends them and marks each sent (bodies cleared) or failed
 * (retried with exponential backoff). Mails survive restarts because they live in the database;
 * a mail is sent again only if a replica dies between the SMTP server's acceptance and the mark.
 */
@ApplicationScoped
public class OutboxSender {

    static final int MAX_ERROR_LENGTH = 1000;
    static final Duration SHUTDOWN_MARGIN = Duration.ofSeconds(3);

    private final MailOutboxRepository outbox;
    private final ReactiveMailer mailer;
    private final UserConfig.Outbox config;
    private final Counter sent;
    private final Counter failedAttempts;
    private volatile boolean stopping;
    /** The poll under way (completed when none is): what a stopping service waits for. */
    private final AtomicReference<CompletableFuture<Void>> inFlight =
            new AtomicReference<>(CompletableFuture.completedFuture(null));

    /** The right-hand side of the mails' {@code Message-ID}s: the sender address's domain. */
    private final String messageIdDomain;
    /**
     * Where every send starts: one Vert.x event loop, whatever thread asked for the delivery. The mail client
     * (vertx-mail-client 4.5) connects on the calling thread's context and hands a new connection to the waiting send
     * on the waiter's; when those are two event loops, the server's greeting can arrive before the connection has a
     * reader, and Vert.x drops it: the client then waits for a greeting the server already sent, until the server's
     * idle timeout (421) fails the attempt. Seen in MailOutboxTest's race (senders on plain threads) in CI: a session
     * idle 30 s, the mail sent on its second attempt. From one event loop, connect and hand-over run on one thread.
     * Each send gets a duplicated context of its own on that loop (its own context locals: trace, logging MDC).
     */
    private final Executor mailContext;

    public OutboxSender(MailOutboxRepository outbox, ReactiveMailer mailer, UserConfig config, MeterRegistry registry,
            @ConfigProperty(name = "quarkus.mailer.from") Optional<String> from, Vertx vertx) {
        this.outbox = outbox;
        Context eventLoop = VertxContext.getRootContext(vertx.getOrCreateContext());
        this.mailContext = task -> VertxContext.createNewDuplicatedContext(eventLoop).runOnContext(ignored -> task.run());
        this.messageIdDomain = domainOf(from.orElse(""));
        this.mailer = mailer;
        this.config = config.outbox();
        this.sent = Counter.builder("users.outbox.sent").description("outbox mails sent by this replica").register(registry);
        this.failedAttempts = Counter.builder("users.outbox.failed.attempts")
                .description("failed attempts to send an outbox mail").register(registry);
    }

    @Scheduled(identity = "mail-outbox", every = "${chat.outbox.poll-interval:1s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> poll() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        inFlight.set(done);
        if (stopping) {
            done.complete(null);
            return Uni.createFrom().voidItem();
        }
        return deliverDue().replaceWithVoid().eventually(() -> done.complete(null));
    }

    /**
     * No new claims while the service stops, and the mails being sent are waited for (at most the send timeout and
     * a few seconds), so that each one the mail server took is marked sent before the database pool closes: without
     * the wait, a SIGTERM between the SMTP server's acceptance and the mark sent the mail again once its lease ran
     * out (GracefulShutdownIT saw two welcome mails). Only a replica that dies uncleanly can still send one twice.
     */
    void stop(@Observes ShutdownEvent shutdown) {
        stopping = true;
        Duration patience = config.sendTimeout().plus(SHUTDOWN_MARGIN);
        try {
            inFlight.get().get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            Log.warnf("Stopping with outbox mails still being sent after %s; they are sent again when their lease ends",
                    patience);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            Log.debugf("The last outbox poll failed while stopping: %s", e.getCause());
        }
    }

    /** Claims the due mails of one batch and sends them; the number sent. Safe to run from any number of replicas at once. */
    public Uni<Integer> deliverDue() {
        return outbox.claimDue(config.batchSize(), config.lease())
                .chain(this::deliverAll)
                .onFailure().recoverWithItem(e -> {
                    Log.warnf("Mail outbox poll failed, trying again next poll: %s", e.toString());
                    return 0;
                });
    }

    private Uni<Integer> deliverAll(List<ClaimedMail> claimed) {
        if (claimed.isEmpty()) {
            return Uni.createFrom().item(0);
        }
        return Multi.createFrom().iterable(claimed)
                .onItem().transformToUniAndMerge(this::deliver)
                .collect().with(Collectors.summingInt(delivered -> delivered ? 1 : 0));
    }

    private Uni<Boolean> deliver(ClaimedMail mail) {
        // Deferred: the mailer throws (rather than fails the Uni) on an address it refuses.
        return Uni.createFrom().deferred(() -> mailer.send(Mail.withText(mail.recipient(), mail.subject(), mail.textBody())
                .setHtml(mail.htmlBody()).addHeader("Message-ID", mail.messageId(messageIdDomain))))
                .runSubscriptionOn(mailContext)
                .ifNoItem().after(config.sendTimeout())
                .failWith(() -> new TimeoutException("no answer from the mail server within " + config.sendTimeout()))
                .onItemOrFailure().transformToUni((ignored, sendFailure) -> sendFailure == null
                        ? outbox.markSent(mail.id()).invoke(() -> {
                            sent.increment();
                            Log.debugf("Sent outbox mail %d", mail.id());
                        }).replaceWith(true)
                        : recordFailure(mail, sendFailure).replaceWith(false))
                // Only the database can fail here; the lease runs out and the mail is claimed again.
                .onFailure().recoverWithItem(e -> {
                    Log.warnf("Could not record the outcome of outbox mail %d: %s", mail.id(), e.toString());
                    return false;
                });
    }

    private Uni<Void> recordFailure(ClaimedMail mail, Throwable failure) {
        failedAttempts.increment();
        int attempts = mail.attempts() + 1;
        Duration retryIn = backoff(attempts, config.initialBackoff(), config.maxBackoff());
        String error = describe(failure);
        // An address the mailer refuses stays refused; anything else (the server down, refusing us
        // for a while, misconfigured) may heal, so it is retried until maxAttempts.
        if (failure instanceof IllegalArgumentException || attempts >= config.maxAttempts()) {
            Log.errorf("Giving up outbox mail %d after %d attempt(s) (status FAILED, re-queue it by hand): %s",
                    mail.id(), attempts, error);
            return outbox.markFailed(mail.id(), OutboxMail.Status.FAILED, attempts, error, retryIn);
        }
        Log.warnf("Outbox mail %d not sent (attempt %d), retrying in %s: %s", mail.id(), attempts, retryIn, error);
        return outbox.markFailed(mail.id(), OutboxMail.Status.PENDING, attempts, error, retryIn);
    }

    /** initial, 2×initial, 4×initial, … after the 1st, 2nd, 3rd failed attempt, never above max. */
    static Duration backoff(int failedAttempts, Duration initial, Duration max) {
        int doublings = Math.min(Math.max(failedAttempts - 1, 0), 30);
        Duration wait = initial.multipliedBy(1L << doublings);
        return wait.compareTo(max) > 0 ? max : wait;
    }

    /** The failure as stored in {@code last_error}: the SMTP client's reason, which never carries the mail's body. */
    /** The domain of {@code Name <local@domain>} or {@code local@domain}; {@code localhost} if there is none. */
    static String domainOf(String address) {
        int at = address.lastIndexOf('@');
        String domain = at < 0 ? "" : address.substring(at + 1).replace(">", "").trim();
        return domain.isEmpty() ? "localhost" : domain;
    }

    private static String describe(Throwable failure) {
        String text = failure.getClass().getSimpleName() + ": " + failure.getMessage();
        return text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) : text;
    }
}
