import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load tool of the scale-out benchmark (bus-bench.sh, see ../README.md, "Benchmark: scale-out on NATS"): 1:1
 * traffic over several replicas on one bus, with each replica's CPU and bus counters over the measured window.
 * Compiled with SocketBench.java (sockets, the open-loop sender, latency and database checks) and
 * HistoryBench.java (tokens).
 *
 * <pre>
 * java -Dbench.ports=p1,p2,p3 -Dbench.pids=pid1,pid2,pid3 … BusBench run &lt;dir&gt; &lt;database&gt; &lt;bus&gt; &lt;round&gt; &lt;results file&gt;
 * java BusBench summary &lt;results file&gt;
 * </pre>
 *
 * run: one socket per user of {@code bench.pairs} pairs spread over the replicas ({@code SocketBench.portOf}), an
 * unmeasured warm-up run of {@code bench.serverWarmup} s, then one run of {@code bench.warmup} + {@code bench.seconds}
 * s at {@code bench.rates}' first rate; appends one line of figures to the results file. summary: the table of every
 * line, the medians per bus and their ratios nats / postgres.
 */
public class BusBench {

    static final long CLOCK_TICKS = Long.getLong("bench.clockTicks", 100);
    static final HttpClient HTTP = HttpClient.newHttpClient();

    /** What is read at each edge of the measured window. */
    record Sample(long nanos, long[] replicaTicks, double[] received, double[] published, long[] pgTicks, long pgAllTicks,
            long natsTicks) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 6 && args[0].equals("run")) {
            run(Path.of(args[1]), args[2], args[3], Integer.parseInt(args[4]), Path.of(args[5]));
        } else if (args.length == 2 && args[0].equals("summary")) {
            summary(Path.of(args[1]));
        } else {
            System.err.println("usage: BusBench run <dir> <database> <bus> <round> <results file> | summary <results file>");
            System.exit(2);
        }
    }

    static void run(Path dir, String db, String bus, int round, Path results) throws Exception {
        int[] ports = longs("bench.ports").stream().mapToInt(Long::intValue).toArray();
        long[] pids = longs("bench.pids").stream().mapToLong(Long::longValue).toArray();
        long natsPid = Long.getLong("bench.natsPid", 0);
        SocketBench bench = new SocketBench(dir, ports[0], pids[0], db);
        try {
            measure(bench, db, bus, round, ports, pids, natsPid, results);
        } finally {
            bench.vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    static void measure(SocketBench bench, String db, String bus, int round, int[] ports, long[] pids, long natsPid, Path results)
            throws Exception {
        int n = ports.length;
        int pairs = bench.pairs;
        int rate = bench.rates[0];
        // Where each pair's sender and recipient are (replica index), as SocketBench.portOf puts them.
        int[] senderAt = new int[pairs];
        int[] recipientAt = new int[pairs];
        int[] sockets = new int[n];
        int together = 0;
        for (int k = 0; k < pairs; k++) {
            senderAt[k] = indexOf(ports, bench.pairPorts[2 * k]);
            recipientAt[k] = indexOf(ports, bench.pairPorts[2 * k + 1]);
            sockets[senderAt[k]]++;
            sockets[recipientAt[k]]++;
            together += senderAt[k] == recipientAt[k] ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "%n=== CHAT_BUS=%s, round %d: %d replicas (ports %s, pids %s), %d pairs: sockets per replica %s, "
                + "%d pairs (%.1f %%) with both users on one replica%n", bus, round, n, Arrays.toString(ports), Arrays.toString(pids),
                pairs, Arrays.toString(sockets), together, 100.0 * together / pairs);
        long t0 = System.nanoTime();
        List<SocketBench.Sock> socks = bench.openPairs();
        System.out.printf(Locale.ROOT, "%,d sockets opened and joined in %.1f s%n", socks.size(), (System.nanoTime() - t0) / 1e9);
        System.out.printf(Locale.ROOT, "Runs as SocketBench's messages mode prints them (srv%% and srvms: replica 1 only; pg%% and pgms: "
                + "every PostgreSQL process of the machine); run 0 is the warm-up, not counted:%n");
        SocketBench.printRunHeader();
        String stamp = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000);
        int serverWarmup = bench.serverWarmupSeconds;
        if (serverWarmup > 0) {
            bench.run(bench.new Run(0, stamp + "x0", rate, serverWarmup - Math.min(10, serverWarmup / 2), Math.min(10, serverWarmup / 2)),
                    socks);
            Thread.sleep(2000);
        }

        // The backends of this database (the replicas' pools and LISTEN connections), as they are before the run.
        List<Long> backends = backends(bench);
        // Once before, so that the first use of the HTTP client does not hold the sender up at the window's start.
        sample(ports, pids, backends, natsPid);
        List<Sample> edges = new ArrayList<>();
        bench.windowEdge = () -> edges.add(sample(ports, pids, backends, natsPid));
        SocketBench.Run run = bench.new Run(1, stamp + "x1", rate, bench.warmupSeconds, bench.measureSeconds);
        double[] figures = bench.run(run, socks);
        bench.windowEdge = () -> {
        };
        List<Long> backendsAfter = backends(bench);
        if (!backendsAfter.containsAll(backends) || !backends.containsAll(backendsAfter)) {
            System.out.printf("note: the database's backends changed during the run: %s before, %s after (PostgreSQL CPU counts "
                    + "the ones of before)%n", backends, backendsAfter);
        }
        Sample from = edges.get(0);
        Sample to = edges.get(1);
        double seconds = (to.nanos() - from.nanos()) / 1e9;
        int measured = run.total - run.warmupCount;
        // What each replica should get from the bus: with PostgreSQL every message sent from another replica; with
        // NATS the ones for a recipient it holds, sent from another replica (no echo of its own publications).
        long[] stored = new long[n];
        long[] expected = new long[n];
        for (int seq = run.warmupCount; seq < run.total; seq++) {
            int k = seq % pairs;
            stored[senderAt[k]]++;
            for (int r = 0; r < n; r++) {
                boolean fromOther = senderAt[k] != r;
                if (bus.equals("nats") ? fromOther && recipientAt[k] == r : fromOther) {
                    expected[r]++;
                }
            }
        }
        int delivered = 0;
        for (int seq = 0; seq < run.total; seq++) {
            delivered += run.receivedAt.get(seq) != 0 ? 1 : 0;
        }
        long pgTicks = 0;
        for (int b = 0; b < backends.size(); b++) {
            pgTicks += Math.max(0, to.pgTicks()[b] - from.pgTicks()[b]);
        }

        System.out.printf(Locale.ROOT, "%nmeasured window %.1f s, %,d messages sent (%.0f/s); per replica: CPU s (utime + stime), "
                + "CPU ms per message of the whole traffic, events received from the bus (expected from where the users are), "
                + "events published, messages stored (sent from its sockets)%n", seconds, measured, measured / seconds);
        System.out.printf(Locale.ROOT, "%8s %7s %9s %9s %9s %9s %8s %9s%n", "replica", "CPU s", "ms/msg", "received", "expected",
                "recv/msg", "published", "stored");
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "bus=%s round=%d replicas=%d seconds=%.3f messages=%d",
                bus, round, n, seconds, measured));
        double cpuAll = 0;
        double receivedAll = 0;
        for (int r = 0; r < n; r++) {
            double cpu = (to.replicaTicks()[r] - from.replicaTicks()[r]) / (double) CLOCK_TICKS;
            double received = to.received()[r] - from.received()[r];
            double published = to.published()[r] - from.published()[r];
            cpuAll += cpu;
            receivedAll += received;
            System.out.printf(Locale.ROOT, "%8d %7.2f %9.3f %9.0f %9d %9.3f %9.0f %8d%n", ports[r], cpu, 1000 * cpu / measured, received,
                    expected[r], received / measured, published, stored[r]);
            line.append(String.format(Locale.ROOT, " cpu%d=%.2f received%d=%.0f expected%d=%d published%d=%.0f stored%d=%d", r + 1,
                    cpu, r + 1, received, r + 1, expected[r], r + 1, published, r + 1, stored[r]));
        }
        double pgCpu = pgTicks / (double) CLOCK_TICKS;
        double pgAllCpu = (to.pgAllTicks() - from.pgAllTicks()) / (double) CLOCK_TICKS;
        double natsCpu = natsPid > 0 ? (to.natsTicks() - from.natsTicks()) / (double) CLOCK_TICKS : Double.NaN;
        System.out.printf(Locale.ROOT, "%8s %7.2f %9.3f %9.0f %9d %9.3f%n", "all", cpuAll, 1000 * cpuAll / measured, receivedAll,
                Arrays.stream(expected).sum(), receivedAll / measured);
        System.out.printf(Locale.ROOT, "PostgreSQL: the %d backends of %s %.2f CPU s (%.3f ms per message); every postgres process "
                + "of the machine %.2f s (%.3f ms)%n", backends.size(), db, pgCpu, 1000 * pgCpu / measured, pgAllCpu,
                1000 * pgAllCpu / measured);
        if (natsPid > 0) {
            System.out.printf(Locale.ROOT, "nats-server (this bench's own, pid %d): %.2f CPU s (%.3f ms per message)%n", natsPid, natsCpu,
                    1000 * natsCpu / measured);
        }
        boolean allDelivered = delivered == run.total && run.ok.get() == run.total && run.errors.get() == 0
                && run.duplicates.get() == 0;
        System.out.printf(Locale.ROOT, "delivery: %,d of %,d messages of the run delivered (%s), %d error replies, %d duplicates; "
                + "measured window p50 %.1f ms, p99 %.1f ms%n", delivered, run.total, allDelivered ? "all" : "NOT ALL",
                run.errors.get(), run.duplicates.get(), figures[1], figures[3]);
        line.append(String.format(Locale.ROOT, " pg=%.2f pgall=%.2f nats=%.2f p50=%.2f p99=%.2f delivered=%d total=%d errors=%d%n",
                pgCpu, pgAllCpu, natsCpu, figures[1], figures[3], delivered, run.total, run.errors.get()));
        Files.writeString(results, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        bench.current = null;
        bench.closeAll(socks);
    }

    static Sample sample(int[] ports, long[] pids, List<Long> backends, long natsPid) {
        long nanos = System.nanoTime();
        long[] ticks = Arrays.stream(pids).map(SocketBench::procTicks).toArray();
        long[] pg = backends.stream().mapToLong(SocketBench::procTicks).toArray();
        long natsTicks = natsPid > 0 ? SocketBench.procTicks(natsPid) : 0;
        long pgAll;
        try {
            pgAll = SocketBench.postgresTicks();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        List<CompletableFuture<String>> metrics = Arrays.stream(ports).mapToObj(port -> HTTP.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (port + 1000) + "/q/metrics") /* the management port */).build(),
                HttpResponse.BodyHandlers.ofString()).thenApply(HttpResponse::body)).toList();
        double[] received = new double[ports.length];
        double[] published = new double[ports.length];
        for (int r = 0; r < ports.length; r++) {
            String body = metrics.get(r).join();
            received[r] = counter(body, "chat_bus_received_total");
            published[r] = counter(body, "chat_bus_published_total");
        }
        return new Sample(nanos, ticks, received, published, pg, pgAll, natsTicks);
    }

    /** The sum of a counter over its tags (a replica's bus counts under its own tag; PostgreSQL's is there with NATS too). */
    static double counter(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*\\} (\\S+)$").matcher(metrics);
        double sum = 0;
        boolean found = false;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
            found = true;
        }
        if (!found) {
            throw new IllegalStateException(name + " is not in /q/metrics");
        }
        return sum;
    }

    static List<Long> backends(SocketBench bench) throws Exception {
        String out = bench.psql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                + "AND backend_type = 'client backend' ORDER BY pid");
        return out.isEmpty() ? List.of() : Arrays.stream(out.split("\\s+")).map(Long::parseLong).toList();
    }

    static List<Long> longs(String property) {
        return Arrays.stream(System.getProperty(property, "").split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(Long::parseLong).toList();
    }

    static int indexOf(int[] ports, int port) {
        for (int r = 0; r < ports.length; r++) {
            if (ports[r] == port) {
                return r;
            }
        }
        throw new IllegalStateException("port " + port + " is not one of " + Arrays.toString(ports));
    }

    // ---------------------------------------------------------------------------------------------
    // Summary

    static void summary(Path results) throws Exception {
        List<Map<String, String>> runs = new ArrayList<>();
        for (String l : Files.readAllLines(results)) {
            if (l.isBlank()) {
                continue;
            }
            Map<String, String> run = new LinkedHashMap<>();
            for (String field : l.trim().split(" ")) {
                int eq = field.indexOf('=');
                run.put(field.substring(0, eq), field.substring(eq + 1));
            }
            runs.add(run);
        }
        int n = Integer.parseInt(runs.get(0).get("replicas"));
        System.out.printf(Locale.ROOT, "%nSUMMARY: one line per run; CPU in ms per message of the whole traffic (measured window); "
                + "recv/msg = events received from the bus per message sent; PostgreSQL = the bench database's backends%n");
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-8s %5s %7s", "bus", "round", "msgs"));
        for (int r = 1; r <= n; r++) {
            head.append(String.format(Locale.ROOT, " %8s %8s", "r" + r + " ms", "r" + r + " recv"));
        }
        head.append(String.format(Locale.ROOT, " %8s %8s %8s %8s %8s %8s %7s %7s %13s", "repl ms", "recv/msg", "pg ms", "pgall ms",
                "nats ms", "total ms", "p50", "p99", "delivered"));
        System.out.println(head);
        Map<String, List<double[]>> byBus = new LinkedHashMap<>();
        for (Map<String, String> run : runs) {
            double messages = Double.parseDouble(run.get("messages"));
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-8s %5s %7.0f", run.get("bus"), run.get("round"), messages));
            double cpu = 0;
            double received = 0;
            for (int r = 1; r <= n; r++) {
                double c = Double.parseDouble(run.get("cpu" + r));
                double rec = Double.parseDouble(run.get("received" + r));
                cpu += c;
                received += rec;
                row.append(String.format(Locale.ROOT, " %8.3f %8.0f", 1000 * c / messages, rec));
            }
            double[] f = { 1000 * cpu / messages, received / messages, 1000 * Double.parseDouble(run.get("pg")) / messages,
                    1000 * Double.parseDouble(run.get("pgall")) / messages, 1000 * Double.parseDouble(run.get("nats")) / messages,
                    Double.parseDouble(run.get("p50")), Double.parseDouble(run.get("p99")), 0 };
            // The bus's whole cost: the replicas, the database's backends and nats-server (0 when it is not ours).
            f[7] = f[0] + f[2] + (Double.isNaN(f[4]) ? 0 : f[4]);
            row.append(String.format(Locale.ROOT, " %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7.1f %7.1f %13s", f[0], f[1], f[2], f[3], f[4],
                    f[7], f[5], f[6], run.get("delivered") + "/" + run.get("total")));
            System.out.println(row);
            byBus.computeIfAbsent(run.get("bus"), b -> new ArrayList<>()).add(f);
        }
        System.out.printf(Locale.ROOT, "%nmedians (CPU in ms per message)%n%-8s %4s %11s %9s %9s %10s %9s %9s %7s %7s%n", "bus", "runs",
                "replicas", "recv/msg", "pg", "pg all", "nats", "total", "p50", "p99");
        for (Map.Entry<String, List<double[]>> e : byBus.entrySet()) {
            List<double[]> v = e.getValue();
            System.out.printf(Locale.ROOT, "%-8s %4d %11.3f %9.3f %9.3f %10.3f %9.3f %9.3f %7.1f %7.1f%n", e.getKey(), v.size(),
                    SocketBench.median(v, 0), SocketBench.median(v, 1), SocketBench.median(v, 2), SocketBench.median(v, 3),
                    SocketBench.median(v, 4), SocketBench.median(v, 7), SocketBench.median(v, 5), SocketBench.median(v, 6));
        }
        List<double[]> pg = byBus.get("postgres");
        List<double[]> nats = byBus.get("nats");
        if (pg != null && nats != null) {
            System.out.printf(Locale.ROOT, "%-8s %4s %10.2fx %8.2fx %8.2fx %9.2fx %9s %8.2fx %6.2fx %6.2fx%n", "nats/pg", "",
                    SocketBench.median(nats, 0) / SocketBench.median(pg, 0), SocketBench.median(nats, 1) / SocketBench.median(pg, 1),
                    SocketBench.median(nats, 2) / SocketBench.median(pg, 2), SocketBench.median(nats, 3) / SocketBench.median(pg, 3),
                    "", SocketBench.median(nats, 7) / SocketBench.median(pg, 7), SocketBench.median(nats, 5) / SocketBench.median(pg, 5),
                    SocketBench.median(nats, 6) / SocketBench.median(pg, 6));
        }
    }
}
