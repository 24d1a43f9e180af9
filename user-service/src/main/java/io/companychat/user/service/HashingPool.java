package io.companychat.user.service;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.common.error.ApiException;
import io.companychat.user.config.UserConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * The only threads that run bcrypt: a fixed number (one per processor by default), fed from one queue in which
 * password checks (logins, password changes) always come before registrations. Each kind may have a bounded
 * number of tasks waiting; past it the task is refused at once with 503 and {@code Retry-After}, so a flood of
 * registrations costs at most those threads' CPU and a short queue, never memory or the logins' turn.
 * <p>
 * A refused registration stores nothing; a login that finds the checks' queue full gets the same 503 (auth-service
 * answers its client 503 in turn). Work resumes on the caller's Vert.x context, as {@code executeBlocking} does, so
 * Hibernate Reactive keeps its session.
 */
@ApplicationScoped
public class HashingPool {

    /** Lower goes first. */
    public enum Priority {
        CHECK, REGISTRATION
    }

    static final long RETRY_AFTER_SECONDS = 1;

    private final ThreadPoolExecutor executor;
    private final Map<Priority, AtomicInteger> waiting = new EnumMap<>(Priority.class);
    private final Map<Priority, Integer> maxWaiting = new EnumMap<>(Priority.class);
    private final Map<Priority, Counter> refused = new EnumMap<>(Priority.class);
    private final AtomicLong sequence = new AtomicLong();

    public HashingPool(UserConfig config, MeterRegistry registry) {
        UserConfig.Password password = config.password();
        int threads = Math.max(1, password.hashThreads().orElse(Runtime.getRuntime().availableProcessors()));
        AtomicInteger threadNumber = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new PriorityBlockingQueue<>(),
                work -> {
                    Thread thread = new Thread(work, "bcrypt-" + threadNumber.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        // At least one: a task is counted as waiting from its admission until a thread starts it.
        maxWaiting.put(Priority.CHECK, Math.max(1, password.maxWaitingChecks()));
        maxWaiting.put(Priority.REGISTRATION, Math.max(1, password.maxWaitingRegistrations()));
        for (Priority priority : Priority.values()) {
            AtomicInteger count = new AtomicInteger();
            waiting.put(priority, count);
            String kind = priority.name().toLowerCase();
            Gauge.builder("users.password.hashing.waiting", count, AtomicInteger::get)
                    .description("bcrypt tasks waiting for a thread").tag("kind", kind).register(registry);
            refused.put(priority, Counter.builder("users.password.hashing.refused")
                    .description("bcrypt tasks refused because too many were waiting").tag("kind", kind).register(registry));
        }
    }

    /** Runs the work on a bcrypt thread, or fails with 503 when too many tasks of its kind are waiting. */
    public <T> Uni<T> run(Priority priority, Callable<T> work) {
        return Uni.createFrom().emitter(emitter -> {
            if (!admit(priority)) {
                refused.get(priority).increment();
                emitter.fail(ApiException.unavailable(priority == Priority.REGISTRATION
                        ? "too many registrations right now, try again shortly"
                        : "too many password checks right now, try again shortly", RETRY_AFTER_SECONDS, null));
                return;
            }
            Context context = Vertx.currentContext();
            executor.execute(new Task(priority, sequence.getAndIncrement(), () -> {
                waiting.get(priority).decrementAndGet();
                T result = null;
                Throwable failure = null;
                try {
                    result = work.call();
                } catch (Throwable t) {
                    failure = t;
                }
                T item = result;
                Throwable error = failure;
                Runnable emit = () -> {
                    if (error == null) {
                        emitter.complete(item);
                    } else {
                        emitter.fail(error);
                    }
                };
                if (context == null) {
                    emit.run();
                } else {
                    context.runOnContext(ignored -> emit.run());
                }
            }));
        });
    }

    private boolean admit(Priority priority) {
        AtomicInteger count = waiting.get(priority);
        int limit = maxWaiting.get(priority);
        while (true) {
            int now = count.get();
            if (now >= limit) {
                return false;
            }
            if (count.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }

    /** Queue order: priority first, then arrival. */
    private record Task(Priority priority, long sequence, Runnable work) implements Runnable, Comparable<Task> {

        @Override
        public void run() {
            work.run();
        }

        @Override
        public int compareTo(Task other) {
            int byPriority = priority.compareTo(other.priority);
            return byPriority != 0 ? byPriority : Long.compare(sequence, other.sequence);
        }
    }
}
