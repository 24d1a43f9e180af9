import java.io.IOException;
import java.math.BigInteger;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load tool of the history benchmark (see ../README.md), a single-file Java program with no
 * dependencies: {@code java HistoryBench.java keys <dir>} makes the signing key and the JWKS
 * the service verifies with; {@code java HistoryBench.java run <dir> <base-url> <samples.csv>
 * <deep-long.csv>} measures history pages and prints p50/p90/p99 per scenario; {@code java
 * HistoryBench.java list <dir> <base-url> <user> <conversations.csv>} measures that user's
 * conversation list against a history page of their conversations, in alternating rounds
 * (read-bench.sh); {@code java HistoryBench.java search <dir> <base-url> <user> <conversations.csv>
 * <scenarios.tsv>} measures that user's searches the same way (search-bench.sh).
 */
public class HistoryBench {

    static final String ISSUER = "company-chat";
    static final String KEY_ID = "bench";
    static final int LONG_CONVERSATION = 1;

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "keys" -> keys(Path.of(args[1]));
            case "run" -> run(Path.of(args[1]), args[2], Path.of(args[3]), Path.of(args[4]));
            case "list" -> list(Path.of(args[1]), args[2], Long.parseLong(args[3]), Path.of(args[4]));
            case "search" -> search(Path.of(args[1]), args[2], Long.parseLong(args[3]), Path.of(args[4]), Path.of(args[5]));
            default -> {
                System.err.println("usage: HistoryBench keys <dir> | run <dir> <base-url> <samples.csv> <deep-long.csv>"
                        + " | list <dir> <base-url> <user> <conversations.csv>"
                        + " | search <dir> <base-url> <user> <conversations.csv> <scenarios.tsv>");
                System.exit(2);
            }
        }
    }

    static void keys(Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        RSAPublicKey key = (RSAPublicKey) pair.getPublic();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("jwks.json"), "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\""
                + KEY_ID + "\",\"n\":\"" + base64Url(key.getModulus()) + "\",\"e\":\"" + base64Url(key.getPublicExponent())
                + "\"}]}");
        Files.write(dir.resolve("signing-key.der"), pair.getPrivate().getEncoded());
    }

    /** One sampled conversation: a participant, and the cursor of its second page. */
    record Sample(long conversationId, long userId, long secondPageBefore) {
    }

    record Scenario(String name, List<String> paths, List<String> tokens) {
    }

    static PrivateKey signingKey(Path dir) throws Exception {
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(dir.resolve("signing-key.der"))));
    }

    static void run(Path dir, String baseUrl, Path samplesFile, Path deepLongFile) throws Exception {
        PrivateKey signingKey = signingKey(dir);
        List<Sample> samples = Files.readAllLines(samplesFile).stream().filter(l -> !l.isBlank()).map(l -> l.split(","))
                .map(f -> new Sample(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]))).toList();
        List<Long> deepLong = Files.readAllLines(deepLongFile).stream().filter(l -> !l.isBlank()).map(Long::parseLong).toList();
        Map<Long, String> tokens = new HashMap<>();
        for (Sample sample : samples) {
            tokens.computeIfAbsent(sample.userId(), id -> token(signingKey, id));
        }
        String longToken = token(signingKey, 1);

        List<Scenario> scenarios = List.of(
                new Scenario("first page, one of 10,000 conversations",
                        samples.stream().map(s -> path(s.conversationId(), null)).toList(),
                        samples.stream().map(s -> tokens.get(s.userId())).toList()),
                new Scenario("second (last) page, one of 10,000 conversations",
                        samples.stream().map(s -> path(s.conversationId(), s.secondPageBefore())).toList(),
                        samples.stream().map(s -> tokens.get(s.userId())).toList()),
                new Scenario("first page, the 100,000-message conversation",
                        List.of(path(LONG_CONVERSATION, null)), List.of(longToken)),
                new Scenario("deep page (50,000-99,900 back), the 100,000-message conversation",
                        deepLong.stream().map(before -> path(LONG_CONVERSATION, before)).toList(),
                        deepLong.stream().map(before -> longToken).toList()));

        int requests = Integer.getInteger("bench.requests", 10_000);
        int warmup = Integer.getInteger("bench.warmup", 20_000);
        List<Integer> concurrencies = Arrays.stream(System.getProperty("bench.concurrency", "1,4").split(","))
                .map(String::trim).map(Integer::parseInt).toList();

        for (Scenario scenario : scenarios) {
            checkOnce(baseUrl, scenario);
        }
        System.out.printf(Locale.ROOT, "warm-up: %,d requests over all scenarios%n", warmup);
        for (Scenario scenario : scenarios) {
            measure(baseUrl, scenario, warmup / scenarios.size(), 2);
        }
        System.out.printf(Locale.ROOT, "%nlimit=50, %,d requests per row, closed loop%n", requests);
        System.out.printf(Locale.ROOT, "%-68s %5s %8s %8s %8s %8s %8s%n", "scenario", "conc", "p50 ms", "p90 ms", "p99 ms",
                "max ms", "req/s");
        for (int concurrency : concurrencies) {
            for (Scenario scenario : scenarios) {
                Result result = measure(baseUrl, scenario, requests, concurrency);
                System.out.printf(Locale.ROOT, "%-68s %5d %8.2f %8.2f %8.2f %8.2f %8.0f%s%n", scenario.name(), concurrency,
                        result.percentile(50), result.percentile(90), result.percentile(99), result.percentile(100),
                        result.throughput(), result.errors() > 0 ? "  ERRORS: " + result.errors() : "");
            }
        }
    }

    record Result(long[] nanos, int errors, double seconds) {
        double percentile(double p) {
            int index = (int) Math.ceil(p / 100.0 * nanos.length) - 1;
            return nanos[Math.max(0, Math.min(nanos.length - 1, index))] / 1_000_000.0;
        }

        double throughput() {
            return nanos.length / seconds;
        }
    }

    static Result measure(String baseUrl, Scenario scenario, int requests, int concurrency) throws Exception {
        long[] nanos = new long[requests];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(concurrency);
        long started = System.nanoTime();
        List<Future<?>> running = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            running.add(workers.submit(() -> {
                try (Connection connection = new Connection(URI.create(baseUrl))) {
                    for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                        int pick = ThreadLocalRandom.current().nextInt(scenario.paths().size());
                        long t0 = System.nanoTime();
                        int status = connection.get(scenario.paths().get(pick), scenario.tokens().get(pick)).status();
                        nanos[i] = System.nanoTime() - t0;
                        if (status != 200) {
                            errors.incrementAndGet();
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> worker : running) {
            worker.get();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        workers.shutdown();
        Arrays.sort(nanos);
        return new Result(nanos, errors.get(), seconds);
    }

    /** Fails loudly unless the scenario's first request answers a page of messages. */
    static void checkOnce(String baseUrl, Scenario scenario) throws Exception {
        checkOnce(baseUrl, scenario, "\"conversation_id\"", "messages");
    }

    /** Fails loudly unless the scenario's first request answers 200 with {@code field} in it; returns the body. */
    static String checkOnce(String baseUrl, Scenario scenario, String field, String things) throws Exception {
        try (Connection connection = new Connection(URI.create(baseUrl))) {
            Response response = connection.get(scenario.paths().get(0), scenario.tokens().get(0));
            int count = response.body().split(java.util.regex.Pattern.quote(field), -1).length - 1;
            if (response.status() != 200 || count == 0) {
                throw new IllegalStateException(scenario.name() + ": HTTP " + response.status() + " " + response.body());
            }
            System.out.printf(Locale.ROOT, "check: %-66s HTTP %d, %d %s%n", scenario.name(), response.status(), count, things);
            return response.body();
        }
    }

    /**
     * The conversation list of one user (issue 16's benchmark), one client: rounds of a baseline (the
     * first history page of a random one of the user's conversations) then the list, so that both are
     * measured under the same conditions; per round p50/p90/p99, then the medians and their ratio.
     */
    static void list(Path dir, String baseUrl, long userId, Path conversationsFile) throws Exception {
        String token = token(signingKey(dir), userId);
        List<Long> conversations = Files.readAllLines(conversationsFile).stream().filter(l -> !l.isBlank())
                .map(l -> Long.parseLong(l.trim())).toList();
        Scenario baseline = new Scenario("baseline: GET /api/conversations/{id}/messages?limit=50",
                conversations.stream().map(c -> path(c, null)).toList(), conversations.stream().map(c -> token).toList());
        Scenario list = new Scenario("GET /api/conversations (" + conversations.size() + " conversations)",
                List.of("/api/conversations"), List.of(token));
        int rounds = Integer.getInteger("bench.rounds", 5);
        int listRequests = Integer.getInteger("bench.listRequests", 1_000);
        int pageRequests = Integer.getInteger("bench.requests", 2_000);
        int concurrency = Integer.getInteger("bench.concurrency", 1);
        double goal = Double.parseDouble(System.getProperty("bench.goalP99", "20"));

        checkOnce(baseUrl, baseline);
        String body = checkOnce(baseUrl, list, "\"unread_count\"", "conversations");
        java.util.regex.Matcher unread = java.util.regex.Pattern.compile("\"unread_count\":(\\d+)").matcher(body);
        long unreadSum = 0;
        int unreadMax = 0;
        int tenThousand = 0;
        while (unread.find()) {
            int n = Integer.parseInt(unread.group(1));
            unreadSum += n;
            unreadMax = Math.max(unreadMax, n);
            tenThousand += n >= 10_000 ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "list of user %d: %,d bytes, %,d unread in all, %d conversations with >= 10,000 unread (most: %,d)%n",
                userId, body.length(), unreadSum, tenThousand, unreadMax);
        System.out.printf(Locale.ROOT, "warm-up: %,d list requests, %,d history pages%n", listRequests / 2, pageRequests);
        measure(baseUrl, baseline, pageRequests, concurrency);
        measure(baseUrl, list, listRequests / 2, concurrency);

        System.out.printf(Locale.ROOT, "%n%d rounds of %,d history pages then %,d lists, %d client(s), closed loop; ms from request written to response read%n",
                rounds, pageRequests, listRequests, concurrency);
        System.out.printf(Locale.ROOT, "%5s %-56s %8s %8s %8s %8s %8s%n", "round", "scenario", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s");
        List<Result> pages = new ArrayList<>();
        List<Result> lists = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (Scenario scenario : List.of(baseline, list)) {
                Result result = measure(baseUrl, scenario, scenario == list ? listRequests : pageRequests, concurrency);
                (scenario == list ? lists : pages).add(result);
                System.out.printf(Locale.ROOT, "%5d %-56s %8.2f %8.2f %8.2f %8.2f %8.0f%s%n", round, scenario.name(), result.percentile(50),
                        result.percentile(90), result.percentile(99), result.percentile(100), result.throughput(),
                        result.errors() > 0 ? "  ERRORS: " + result.errors() : "");
            }
        }
        double pageP50 = medianOf(pages, 50), pageP99 = medianOf(pages, 99);
        double listP50 = medianOf(lists, 50), listP99 = medianOf(lists, 99);
        System.out.printf(Locale.ROOT, "%nmedians of %d rounds: list p50 %.2f ms, p99 %.2f ms; baseline (history page) p50 %.2f ms, p99 %.2f ms; "
                + "ratio list/baseline: p50 %.1fx, p99 %.1fx%n", rounds, listP50, listP99, pageP50, pageP99, listP50 / pageP50, listP99 / pageP99);
        System.out.printf(Locale.ROOT, "goal p99 < %.0f ms: %s (median p99 %.2f ms; worst round %.2f ms)%n", goal,
                listP99 < goal ? "MET" : "NOT MET", listP99, lists.stream().mapToDouble(r -> r.percentile(99)).max().orElse(0));
    }

    /**
     * Searches of one user (issue 18's benchmark), one client: each line of {@code scenarios.tsv} is
     * {@code name <TAB> all|each <TAB> query <TAB> query…}: a request searches one of the queries (at random)
     * over all the user's conversations, or ({@code each}) with {@code conversation_id} one of them at random.
     * After a warm-up, rounds of every scenario in turn, the baseline (a history page) first; per round
     * p50/p90/p99, then the medians of the rounds against the goal.
     */
    static void search(Path dir, String baseUrl, long userId, Path conversationsFile, Path scenariosFile) throws Exception {
        String token = token(signingKey(dir), userId);
        List<Long> conversations = Files.readAllLines(conversationsFile).stream().filter(l -> !l.isBlank())
                .map(l -> Long.parseLong(l.trim())).toList();
        List<Scenario> scenarios = new ArrayList<>();
        scenarios.add(new Scenario("baseline: a history page (limit 50) of one of the " + conversations.size(),
                conversations.stream().map(c -> path(c, null)).toList(), conversations.stream().map(c -> token).toList()));
        for (String line : Files.readAllLines(scenariosFile)) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t");
            List<String> paths = new ArrayList<>();
            for (int i = 2; i < fields.length; i++) {
                String base = "/api/messages/search?q=" + URLEncoder.encode(fields[i], StandardCharsets.UTF_8);
                if (fields[1].equals("each")) {
                    conversations.forEach(c -> paths.add(base + "&conversation_id=" + c));
                } else {
                    paths.add(base);
                }
            }
            scenarios.add(new Scenario(fields[0], paths, paths.stream().map(p -> token).toList()));
        }
        int rounds = Integer.getInteger("bench.rounds", 3);
        int requests = Integer.getInteger("bench.requests", 500);
        int warmup = Integer.getInteger("bench.warmup", 300);
        double goal = Double.parseDouble(System.getProperty("bench.goalP99", "50"));

        for (Scenario scenario : scenarios) {
            try (Connection connection = new Connection(URI.create(baseUrl))) {
                Response response = connection.get(scenario.paths().get(0), token);
                if (response.status() != 200) {
                    throw new IllegalStateException(scenario.name() + ": HTTP " + response.status() + " " + response.body());
                }
                int found = response.body().split("\"conversation_id\"", -1).length - 1;
                System.out.printf(Locale.ROOT, "check: %-60s HTTP 200, %d messages on the first page (%s)%n", scenario.name(),
                        found, scenario.paths().get(0));
            }
        }
        System.out.printf(Locale.ROOT, "warm-up: %,d requests per scenario%n", warmup);
        for (Scenario scenario : scenarios) {
            measure(baseUrl, scenario, warmup, 1);
        }
        System.out.printf(Locale.ROOT, "%n%d rounds of %,d requests per scenario, one client, closed loop; ms from request written to response read%n",
                rounds, requests);
        System.out.printf(Locale.ROOT, "%5s %-60s %8s %8s %8s %8s %8s%n", "round", "scenario", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s");
        Map<Scenario, List<Result>> results = new java.util.LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            for (Scenario scenario : scenarios) {
                Result result = measure(baseUrl, scenario, requests, 1);
                results.computeIfAbsent(scenario, s -> new ArrayList<>()).add(result);
                System.out.printf(Locale.ROOT, "%5d %-60s %8.2f %8.2f %8.2f %8.2f %8.0f%s%n", round, scenario.name(), result.percentile(50),
                        result.percentile(90), result.percentile(99), result.percentile(100), result.throughput(),
                        result.errors() > 0 ? "  ERRORS: " + result.errors() : "");
            }
        }
        System.out.printf(Locale.ROOT, "%nmedians of %d rounds (goal p99 < %.0f ms):%n%-60s %8s %8s %8s %10s  %s%n", rounds, goal, "scenario",
                "p50 ms", "p90 ms", "p99 ms", "worst p99", "goal");
        for (Map.Entry<Scenario, List<Result>> e : results.entrySet()) {
            double p99 = medianOf(e.getValue(), 99);
            System.out.printf(Locale.ROOT, "%-60s %8.2f %8.2f %8.2f %10.2f  %s%n", e.getKey().name(), medianOf(e.getValue(), 50),
                    medianOf(e.getValue(), 90), p99, e.getValue().stream().mapToDouble(r -> r.percentile(99)).max().orElse(0),
                    e.getKey() == scenarios.get(0) ? "" : p99 < goal ? "met" : "NOT MET");
        }
    }

    static double medianOf(List<Result> results, double percentile) {
        double[] values = results.stream().mapToDouble(r -> r.percentile(percentile)).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    record Response(int status, String body) {
    }

    /**
     * One kept-alive HTTP/1.1 connection, used by one thread: the request written in one
     * segment, the response read in full. Keeps the client's own cost (and its thread hand-offs)
     * out of the figures as far as possible.
     */
    static final class Connection implements AutoCloseable {

        private final String host;
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(URI base) throws IOException {
            host = base.getHost() + ":" + base.getPort();
            socket = new Socket(base.getHost(), base.getPort());
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            out = socket.getOutputStream();
        }

        Response get(String path, String token) throws IOException {
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                    + "\r\nAccept: application/json\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String statusLine = line();
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            int length = -1;
            boolean chunked = false;
            for (String header = line(); !header.isEmpty(); header = line()) {
                String lower = header.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Integer.parseInt(lower.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
                    body.write(in.readNBytes(size));
                    line();
                }
                line();
            } else if (length >= 0) {
                body.write(in.readNBytes(length));
            }
            return new Response(status, body.toString(StandardCharsets.UTF_8));
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    static String path(long conversationId, Long before) {
        return "/api/conversations/" + conversationId + "/messages?limit=50" + (before == null ? "" : "&before=" + before);
    }

    static String token(PrivateKey key, long userId) {
        try {
            long now = Instant.now().getEpochSecond();
            String header = base64Url("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" + KEY_ID + "\"}");
            String claims = base64Url("{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + userId + "\",\"upn\":\"bench" + userId
                    + "@example.com\",\"groups\":[\"user\"],\"jti\":\"" + UUID.randomUUID() + "\",\"iat\":" + now
                    + ",\"exp\":" + (now + 3600) + "}");
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(key);
            signature.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
            return header + "." + claims + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String base64Url(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
