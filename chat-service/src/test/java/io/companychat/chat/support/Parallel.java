package io.companychat.chat.support;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.restassured.response.Response;

/** Real parallel HTTP requests: one thread each, released together by a barrier. */
public final class Parallel {

    private Parallel() {
    }

    @SafeVarargs
    public static List<Response> run(Supplier<Response>... requests) throws Exception {
        return run(List.of(requests));
    }

    public static List<Response> run(List<Supplier<Response>> requests) throws Exception {
        CyclicBarrier start = new CyclicBarrier(requests.size());
        List<CompletableFuture<Response>> futures = new ArrayList<>();
        for (Supplier<Response> request : requests) {
            futures.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException("parallel start", e);
                }
                return request.get();
            }, runnable -> new Thread(runnable, "parallel-request").start()));
        }
        List<Response> responses = new ArrayList<>();
        for (CompletableFuture<Response> future : futures) {
            responses.add(future.get(30, TimeUnit.SECONDS));
        }
        return responses;
    }
}
