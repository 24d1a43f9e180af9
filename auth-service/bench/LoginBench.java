import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Logins per second against a running auth-service, and where a login's cost goes. Not a test: run it with
 * {@code java auth-service/bench/LoginBench.java --url http://localhost:8082 --credentials users.txt}, a file of
 * "email password" lines, one user per client (auth-service/bench/run.sh starts everything it needs; logins of one
 * email take turns, so clients sharing a user would measure that queue). JDK only, no build.
 *
 * <p>Reports throughput and latency, the time auth-service spends in each login step (its
 * {@code auth_login_step_seconds} metrics, measured phase only) and, with {@code --auth-pid}/{@code --user-pid},
 * the CPU time each process burnt per login (Linux /proc).
 */
public class LoginBench {

    private static final Pattern STEP = Pattern.compile("^auth_login_step_seconds_(sum|count|max)\\{[^}]*step=\"([a-z]+)\"[^}]*\\} ([0-9.eE+-]+)$");

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        String url = options.getOrDefault("url", "http://localhost:8082");
        // auth-service's metrics are on its management port: the HTTP port + 1000 unless --metrics-url says otherwise
        URI base = URI.create(url);
        String metricsUrl = options.getOrDefault("metrics-url", base.getScheme() + "://" + base.getHost() + ":" + (base.getPort() + 1000));
        List<String> users = Files.readAllLines(Path.of(required(options, "credentials"))).stream()
                .filter(line -> !line.isBlank()).toList();
        int concurrency = Integer.parseInt(options.getOrDefault("concurrency", Integer.toString(users.size())));
        int warmupSeconds = Integer.parseInt(options.getOrDefault("warmup", "10"));
        int seconds = Integer.parseInt(options.getOrDefault("seconds", "20"));
        long authPid = Long.parseLong(options.getOrDefault("auth-pid", "0"));
        long userPid = Long.parseLong(options.getOrDefault("user-pid", "0"));

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        List<HttpRequest> logins = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            String[] user = users.get(i % users.size()).trim().split("\\s+", 2);
            String body = "{\"creds\":{\"email\":\"" + user[0] + "\",\"password\":\"" + user[1] + "\"}}";
            logins.add(HttpRequest.newBuilder(URI.create(url + "/api/login"))
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        }

        System.out.printf("warming up for %d s with %d concurrent clients...%n", warmupSeconds, concurrency);
        run(client, logins, Duration.ofSeconds(warmupSeconds));

        Map<String, double[]> stepsBefore = steps(client, metricsUrl);
        long[] authCpuBefore = cpu(authPid);
        long[] userCpuBefore = cpu(userPid);
        System.out.printf("measuring for %d s...%n", seconds);
        Result result = run(client, logins, Duration.ofSeconds(seconds));
        long[] authCpuAfter = cpu(authPid);
        long[] userCpuAfter = cpu(userPid);
        Map<String, double[]> stepsAfter = steps(client, metricsUrl);

        long ok = result.statuses.getOrDefault(200, new LongAdder()).sum();
        double perSecond = ok / (result.elapsed.toNanos() / 1e9);
        long[] latencies = result.latencies();
        System.out.printf("%nlogins: %d ok in %.1f s = %.1f logins/s with %d clients (%d users); other answers: %s%n",
                ok, result.elapsed.toMillis() / 1000.0, perSecond, concurrency, Math.min(concurrency, users.size()),
                others(result.statuses));
        System.out.printf("latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f%n", percentile(latencies, 50),
                percentile(latencies, 90), percentile(latencies, 99), latencies.length == 0 ? 0 : latencies[latencies.length - 1] / 1e6);

        System.out.println("\nauth-service time per login, by step (mean ms over the measured phase; max ms of the last minutes):");
        double total = 0;
        for (String step : List.of("limits", "credentials", "failure", "forgive", "signing")) {
            double[] before = stepsBefore.getOrDefault(step, new double[3]);
            double[] after = stepsAfter.getOrDefault(step, new double[3]);
            double count = after[1] - before[1];
            double mean = count == 0 ? 0 : (after[0] - before[0]) / count * 1000;
            total += mean;
            System.out.printf("  %-12s %7.2f  max %8.1f  %s%n", step, mean, after[2] * 1000, describe(step));
        }
        System.out.printf("  %-12s %7.2f%n", "sum", total);
        System.out.printf("  server-side max of POST /api/login: %.1f ms (http_server_requests_seconds_max)%n", serverMax(client, metricsUrl) * 1000);

        if (authPid > 0 && ok > 0) {
            System.out.println("\nCPU time per successful login (user+system, whole process, measured phase):");
            System.out.printf("  auth-service  %6.2f ms%n", cpuMillis(authCpuBefore, authCpuAfter) / ok);
            if (userPid > 0) {
                System.out.printf("  user-service  %6.2f ms%n", cpuMillis(userCpuBefore, userCpuAfter) / ok);
            }
        }
    }

    private static String describe(String step) {
        return switch (step) {
            case "limits" -> "PostgreSQL: failures of the email and the address in the window";
            case "credentials" -> "user-service: POST /internal/credentials (its bcrypt, its DB, HTTP)";
            case "failure" -> "PostgreSQL: record a failed login (wrong password only)";
            case "forgive" -> "PostgreSQL: limit re-checked, the email's failures deleted";
            case "signing" -> "RS256 signature of the token (CPU)";
            default -> "";
        };
    }

    private record Result(Map<Integer, LongAdder> statuses, List<long[]> perWorker, Duration elapsed) {

        long[] latencies() {
            long[] all = perWorker.stream().flatMapToLong(Arrays::stream).filter(v -> v > 0).sorted().toArray();
            return all;
        }
    }

    private static Result run(HttpClient client, List<HttpRequest> logins, Duration duration) throws InterruptedException {
        int concurrency = logins.size();
        Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        List<long[]> perWorker = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(concurrency);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        for (int i = 0; i < concurrency; i++) {
            HttpRequest login = logins.get(i);
            long[] latencies = new long[1_000_000];
            perWorker.add(latencies);
            AtomicInteger n = new AtomicInteger();
            Thread worker = new Thread(() -> {
                try {
                    while (System.nanoTime() < end && n.get() < latencies.length) {
                        long t0 = System.nanoTime();
                        int status;
                        try {
                            status = client.send(login, HttpResponse.BodyHandlers.discarding()).statusCode();
                        } catch (IOException e) {
                            status = -1;
                        }
                        latencies[n.getAndIncrement()] = System.nanoTime() - t0;
                        statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
            worker.setDaemon(true);
            worker.start();
        }
        done.await();
        return new Result(statuses, perWorker, Duration.ofNanos(System.nanoTime() - start));
    }

    private static Map<String, double[]> steps(HttpClient client, String url) throws IOException, InterruptedException {
        String metrics = client.send(HttpRequest.newBuilder(URI.create(managementUrl(url) + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, double[]> steps = new HashMap<>();
        for (String line : metrics.split("\n")) {
            Matcher m = STEP.matcher(line.trim());
            if (m.matches()) {
                double[] values = steps.computeIfAbsent(m.group(2), k -> new double[3]);
                values[switch (m.group(1)) { case "sum" -> 0; case "count" -> 1; default -> 2; }] = Double.parseDouble(m.group(3));
            }
        }
        return steps;
    }

    private static double serverMax(HttpClient client, String url) throws IOException, InterruptedException {
        String metrics = client.send(HttpRequest.newBuilder(URI.create(managementUrl(url) + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double max = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("http_server_requests_seconds_max{") && line.contains("uri=\"/api/login\"")) {
                max = Math.max(max, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return max;
    }

    /** utime and stime of a process, in clock ticks (fields 14 and 15 of /proc/pid/stat). */
    private static long[] cpu(long pid) throws IOException {
        if (pid <= 0) {
            return new long[2];
        }
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] { Long.parseLong(fields[11]), Long.parseLong(fields[12]) };
    }

    private static double cpuMillis(long[] before, long[] after) {
        long ticks = (after[0] - before[0]) + (after[1] - before[1]);
        return ticks * 1000.0 / 100; // USER_HZ is 100 on Linux
    }

    private static double percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
    }

    private static String others(Map<Integer, LongAdder> statuses) {
        Map<Integer, Long> others = new TreeMap<>();
        statuses.forEach((status, count) -> {
            if (status != 200) {
                others.put(status, count.sum());
            }
        });
        return others.isEmpty() ? "none" : others.toString();
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
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
