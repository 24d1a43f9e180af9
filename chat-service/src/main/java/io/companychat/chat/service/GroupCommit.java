package io.companychat.chat.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;

/**
 * Group commit: writes that arrive while the database is busy with earlier ones wait in a queue
 * and go in together: one statement, one transaction, one WAL flush for all of them. At most
 * {@code maxBatchesInFlight} batches are in flight; a write that arrives when fewer are goes at
 * once, alone, so a quiet system pays no extra latency and a busy one gets bigger batches instead
 * of a longer queue. Used for messages ({@link MessageWriter}) and read markers ({@link ReadService}).
 *
 * <p>Every caller is answered on its own Vert.x context, and only after the commit: an ok answer
 * always means the write is stored. Hand-written rather than a library: what it does is a queue
 * drained by at most N reactive statements, and no library in the build batches reactive SQL.
 *
 * @param <I> one write
 * @param <O> what became of it; the batch statement answers one per write, in their order
 */
public final class GroupCommit<I, O> {

    private final Function<List<I>, Uni<List<O>>> writeAll;
    private final int maxBatchesInFlight;
    private final int maxBatchSize;
    private final Queue<Pending<I, O>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();

    public GroupCommit(Function<List<I>, Uni<List<O>>> writeAll, int maxBatchesInFlight, int maxBatchSize) {
        this.writeAll = writeAll;
        this.maxBatchesInFlight = maxBatchesInFlight;
        this.maxBatchSize = maxBatchSize;
    }

    /** What became of the write, once its batch is committed. */
    public Uni<O> write(I item) {
        return Uni.createFrom().emitter(emitter -> {
            queue.add(new Pending<>(item, emitter, Vertx.currentContext()));
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
            List<Pending<I, O>> batch = new ArrayList<>();
            for (Pending<I, O> next; batch.size() < maxBatchSize && (next = queue.poll()) != null;) {
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
    private Uni<Void> writeBatch(List<Pending<I, O>> batch) {
        return writeAll.apply(batch.stream().map(Pending::item).toList())
                .map(results -> {
                    for (int i = 0; i < batch.size(); i++) {
                        batch.get(i).succeed(results.get(i));
                    }
                    return (Void) null;
                })
                .onFailure().recoverWithUni(failure -> {
                    if (batch.size() > 1 && isAboutOneRow(failure)) {
                        // One write broke a rule: write them one by one, so only that one fails.
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

    private record Pending<I, O>(I item, UniEmitter<? super O> emitter, Context context) {

        void succeed(O result) {
            onCallersContext(() -> emitter.complete(result));
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
