package io.companychat.chat.support;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Real parallel requests (HTTP, socket upgrades): one thread each, released together by a barrier. */
public final class Parallel {

    private Parallel() {
    }

    @SafeVarargs
    public static <T> List<T> run(Supplier<T>... requests) throws Exception {
        return run(List.of(requests));
    }

    public static <T> List<T> run(List<Supplier<T>> requests) throws Exception {
        CyclicBarrier start = new CyclicBarrier(requests.size());
        List<CompletableFuture<T>> futures = new ArrayList<>();
        for (Supplier<T> request : requests) {
            futures.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException("parallel start", e);
                }
                return request.get();
            }, runnable -> new Thread(runnable, "parallel-request").start()));
        }
        List<T> responses = new ArrayList<>();
        for (CompletableFuture<T> future : futures) {
            responses.add(future.get(30, TimeUnit.SECONDS));
        }
        return responses;
    }
}
