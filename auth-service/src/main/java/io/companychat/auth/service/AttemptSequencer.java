package io.companychat.auth.service;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Runs the login attempts for one email one after another on this replica, so that parallel guesses are counted
 * one by one: each sees the failures of those before it. Across replicas, at most one attempt per replica can be
 * in flight unseen, so a burst gets at most (replicas - 1) answers beyond the limit. Attempts for different emails
 * do not wait for each other; parallel logins with the right password just queue instead of being refused.
 */
@ApplicationScoped
public class AttemptSequencer {

    private final Map<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    public <T> Uni<T> inTurn(String email, Supplier<Uni<T>> attempt) {
        String key = email.toLowerCase(Locale.ROOT);
        return Uni.createFrom().deferred(() -> {
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> previous = tails.put(key, mine);
            Uni<Void> turn = previous == null ? Uni.createFrom().voidItem() : resumeHere(previous);
            return turn.onItem().transformToUni(ready -> attempt.get())
                    .onTermination().invoke(() -> {
                        mine.complete(null);
                        tails.remove(key, mine);
                    });
        });
    }

    /** Waits for the previous attempt, then continues on this request's Vert.x context, not on the other's. */
    private static Uni<Void> resumeHere(CompletableFuture<Void> previous) {
        Context context = Vertx.currentContext();
        Uni<Void> done = Uni.createFrom().completionStage(previous);
        return context == null ? done : done.emitOn(task -> context.runOnContext(ignored -> task.run()));
    }
}
