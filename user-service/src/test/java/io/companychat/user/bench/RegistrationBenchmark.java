package io.companychat.user.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Registers users against a running user-service and prints registrations per second, and
 * where the time of a registration goes inside the service (bcrypt hashing vs the database
 * transaction), from the service's own timers at {@code /q/metrics}. A tool, not a test; JDK only:
 *
 * <pre>java user-service/src/test/java/io/companychat/user/bench/RegistrationBenchmark.java \
 *     [--url http://localhost:8081] [--users 200] [--concurrency 4]</pre>
 */
public final class RegistrationBenchmark {

    private static final Pattern METRIC = Pattern.compile("(?m)^(users_registration_(?:hash|store)_seconds_(?:count|sum))(?:\\{[^}]*})? ([0-9.E+-]+)$");

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        String url = options.getOrDefault("url", "http://localhost:8081");
        int users = Integer.parseInt(options.getOrDefault("users", "200"));
        int concurrency = Integer.parseInt(options.getOrDefault("concurrency", "4"));
        String run = UUID.randomUUID().toString().substring(0, 8);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        register(client, url, "warmup-" + run, Math.min(20, users), concurrency);
        Map<String, Double> before = metrics(client, url);

        AtomicInteger next = new AtomicInteger();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            workers.add(pool.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < users) {
                    long t0 = System.nanoTime();
                    int status = post(client, url, "bench-" + run + "-" + i + "@example.com");
                    latencies.add(System.nanoTime() - t0);
                    statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> worker : workers) {
            worker.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();

        Map<String, Double> after = metrics(client, url);
        Collections.sort(latencies);
        double hashCount = delta(before, after, "users_registration_hash_seconds_count");
        double storeCount = delta(before, after, "users_registration_store_seconds_count");
        double hashMs = 1000 * delta(before, after, "users_registration_hash_seconds_sum") / hashCount;
        double storeMs = 1000 * delta(before, after, "users_registration_store_seconds_sum") / storeCount;

        System.out.printf("%d registrations, concurrency %d, %.1f s: %.1f registrations/s; statuses %s%n",
                users, concurrency, seconds, users / seconds, new TreeMap<>(statuses));
        System.out.printf("latency ms: p50 %.0f, p95 %.0f, max %.0f%n",
                ms(latencies, 0.50), ms(latencies, 0.95), latencies.get(latencies.size() - 1) / 1e6);
        System.out.printf("inside the service, per registration: bcrypt hash %.1f ms, database transaction %.1f ms (%.0f%% hashing)%n",
                hashMs, storeMs, 100 * hashMs / (hashMs + storeMs));
    }

    private static void register(HttpClient client, String url, String prefix, int count, int concurrency) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String email = prefix + "-" + i + "@example.com";
            results.add(pool.submit(() -> post(client, url, email)));
        }
        for (Future<Integer> result : results) {
            result.get();
        }
        pool.shutdown();
    }

    private static int post(HttpClient client, String url, String email) {
        String body = "{\"user\":{\"name\":\"Bench\",\"subname\":\"Mark\",\"email\":\"" + email + "\",\"job\":\"Load\"}}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/api/users"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static Map<String, Double> metrics(HttpClient client, String url) throws Exception {
        String text = client.send(HttpRequest.newBuilder(URI.create(managementUrl(url) + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> values = new TreeMap<>();
        Matcher matcher = METRIC.matcher(text);
        while (matcher.find()) {
            values.put(matcher.group(1), Double.parseDouble(matcher.group(2)));
        }
        return values;
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String name) {
        return after.getOrDefault(name, 0.0) - before.getOrDefault(name, 0.0);
    }

    private static double ms(List<Long> sorted, double quantile) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(quantile * sorted.size()))) / 1e6;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    /** The service's metrics live on its management port: its HTTP port + 1000 (deploy's convention). */
    private static String managementUrl(String url) {
        URI uri = URI.create(url);
        return uri.getScheme() + "://" + uri.getHost() + ":" + (uri.getPort() + 1000);
    }
}
