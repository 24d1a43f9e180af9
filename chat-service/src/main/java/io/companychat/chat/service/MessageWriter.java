package io.companychat.chat.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.chat.repository.MessageRepository.NewRow;
import io.companychat.chat.repository.MessageRepository.Written;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;

/**
 * Group commit for messages. Messages that arrive while the database is busy with earlier ones
 * wait in a queue and go in together: one multi-row INSERT, one transaction, one WAL flush for
 * all of them. At most {@code chat.messages.write-batches} batches are in flight; a message that
 * arrives when fewer are is written at once, alone, so a quiet system pays no extra latency and
 * a busy one gets bigger batches instead of a longer queue.
 *
 * <p>Every caller is answered on its own Vert.x context, and only after the commit: an ok reply
 * always means the message is stored.
 */
@ApplicationScoped
public class MessageWriter {

    private final MessageRepository messages;
    private final int maxBatchesInFlight;
    private final int maxBatchSize;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();

    public MessageWriter(MessageRepository messages, ChatConfig config) {
        this.messages = messages;
        this.maxBatchesInFlight = config.messages().writeBatches();
        this.maxBatchSize = config.messages().maxBatchSize();
    }

    /** What became of the row, once its batch is committed (see {@link MessageRepository#insertBatch}). */
    public Uni<Written> write(NewRow row) {
        return Uni.createFrom().emitter(emitter -> {
            queue.add(new Pending(row, emitter, Vertx.currentContext()));
            writeWhatIsQueued();
        });
    }

    private void writeWhatIsQueued() {
        while (!queue.isEmpty()) {
            int running = inFlight.get();
            if (running >= maxBatchesInFlight) {
                return; // the batch that finishes next takes what is queued
            }
            if (!inFlight.compareAndSet(running, running + 1)) {
                continue;
            }
            List<Pending> batch = new ArrayList<>();
            for (Pending next; batch.size() < maxBatchSize && (next = queue.poll()) != null;) {
                batch.add(next);
            }
            if (batch.isEmpty()) {
                inFlight.decrementAndGet();
                continue;
            }
            writeBatch(batch).subscribe().with(done -> batchDone(), failure -> batchDone());
        }
    }

    private void batchDone() {
        inFlight.decrementAndGet();
        writeWhatIsQueued();
    }

    /** Writes the batch and answers each of its callers; never fails itself. */
    private Uni<Void> writeBatch(List<Pending> batch) {
        return messages.insertBatch(batch.stream().map(Pending::row).toList())
                .map(stored -> {
                    for (int i = 0; i < batch.size(); i++) {
                        batch.get(i).succeed(stored.get(i));
                    }
                    return (Void) null;
                })
                .onFailure().recoverWithUni(failure -> {
                    if (batch.size() > 1 && isAboutOneRow(failure)) {
                        // One row broke a constraint: write them one by one, so only that one fails.
                        return Uni.join().all(batch.stream().map(pending -> writeBatch(List.of(pending))).toList())
                                .andCollectFailures().replaceWithVoid();
                    }
                    batch.forEach(pending -> pending.fail(failure));
                    return Uni.createFrom().voidItem();
                });
    }

    /** A data or integrity error (SQLSTATE classes 22 and 23), which a single row can cause. */
    private static boolean isAboutOneRow(Throwable failure) {
        return failure instanceof PgException pg && pg.getSqlState() != null
                && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"));
    }

    private record Pending(NewRow row, UniEmitter<? super Written> emitter, Context context) {

        void succeed(Written stored) {
            onCallersContext(() -> emitter.complete(stored));
        }

        void fail(Throwable failure) {
            onCallersContext(() -> emitter.fail(failure));
        }

        private void onCallersContext(Runnable answer) {
            if (context == null || context == Vertx.currentContext()) {
                answer.run();
            } else {
                context.runOnContext(ignored -> answer.run());
            }
        }
    }
}
