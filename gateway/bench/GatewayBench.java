import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Load tool of the gateway benchmark (gateway-bench.sh, see ../README.md): the same load straight to chat-service
 * and through the gateway in one run. Compiled together with chat-service/bench/SocketBench.java and
 * HistoryBench.java, whose socket generator, measurements and tokens it drives (same package: the default one).
 *
 * <pre>
 * java -cp &lt;vertx+netty&gt;:&lt;classes&gt; GatewayBench &lt;dir&gt; &lt;chat port&gt; &lt;chat pid&gt; &lt;gateway port&gt; &lt;gateway pid&gt; &lt;database&gt;
 *     [&lt;reference proxy port&gt; &lt;reference proxy pid&gt;]
 * </pre>
 *
 * idle: sockets opened through the gateway in steps, the gateway's RSS, heap and files after a full GC at each step,
 * the least-squares slope per tunnelled socket and the heap growth by class. messages: 1:1 send_msg at each rate,
 * straight to chat-service and through the gateway in alternating order, sender→recipient latency and the CPU of
 * both processes per delivered message; with a reference proxy (haproxy in TCP mode, see gateway-bench.sh), through
 * it as a third path: what any process between the clients and chat-service costs on this machine. rest: a history
 * page and a message post, straight and through the gateway alternately on one kept-alive connection each.
 */
public class GatewayBench {

    final List<String> phases = List.of(System.getProperty("bench.phases", "idle,messages,rest").split(","));
    final int[] idleSteps = ints(System.getProperty("bench.idleSteps", "2000,5000,max"));
    final int idleWarmup = Integer.getInteger("bench.idleWarmup", 1000);
    final int pairs = Integer.getInteger("bench.pairs", 100);
    final int[] rates = ints(System.getProperty("bench.rates", "2000,3000,4000,5000"));
    final int rounds = Integer.getInteger("bench.rounds", 2);
    final int warmupSeconds = Integer.getInteger("bench.warmup", 5);
    final int measureSeconds = Integer.getInteger("bench.seconds", 15);
    final int serverWarmupSeconds = Integer.getInteger("bench.serverWarmup", 30);
    final int restRequests = Integer.getInteger("bench.restRequests", 2000);
    final int restWarmup = Integer.getInteger("bench.restWarmup", 10000);

    final Path dir;
    final int chatPort;
    final long chatPid;
    final int gatewayPort;
    final long gatewayPid;
    final String db;
    final SocketBench direct;
    final SocketBench gateway;
    /** The paths the messages phase drives, in the first round's order: direct, the gateway, the reference proxy if any. */
    final List<Leg> legs = new ArrayList<>();
    int runIndex;

    /** One way to chat-service: the generator that drives it and the pid of the proxy on it (0 for none). */
    record Leg(String name, SocketBench bench, long proxyPid) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6 && args.length != 8) {
            System.err.println("usage: GatewayBench <dir> <chat port> <chat pid> <gateway port> <gateway pid> <database> "
                    + "[<reference proxy port> <reference proxy pid>]");
            System.exit(2);
        }
        GatewayBench bench = new GatewayBench(Path.of(args[0]), Integer.parseInt(args[1]), Long.parseLong(args[2]),
                Integer.parseInt(args[3]), Long.parseLong(args[4]), args[5]);
        if (args.length == 8) {
            bench.legs.add(new Leg("haproxy", new SocketBench(bench.dir, Integer.parseInt(args[6]), Long.parseLong(args[7]), bench.db),
                    Long.parseLong(args[7])));
        }
        try {
            bench.run();
        } finally {
            for (Leg leg : bench.legs) {
                leg.bench().vertx.close();
            }
        }
        System.exit(0);
    }

    GatewayBench(Path dir, int chatPort, long chatPid, int gatewayPort, long gatewayPid, String db) throws Exception {
        this.dir = dir;
        this.chatPort = chatPort;
        this.chatPid = chatPid;
        this.gatewayPort = gatewayPort;
        this.gatewayPid = gatewayPid;
        this.db = db;
        // Each generator measures "its server": chat-service straight, the gateway through it.
        this.direct = new SocketBench(dir, chatPort, chatPid, db);
        this.gateway = new SocketBench(dir, gatewayPort, gatewayPid, db);
        legs.add(new Leg("direct", direct, 0));
        legs.add(new Leg("gateway", gateway, gatewayPid));
    }

    void run() throws Exception {
        System.out.printf(Locale.ROOT, "machine: %d cores, load average %s at the start; generator: Java %s%n",
                Runtime.getRuntime().availableProcessors(), SocketBench.loadAverage(), System.getProperty("java.version"));
        System.out.printf(Locale.ROOT, "chat-service: pid %d, port %d, open files limit %d; gateway: pid %d, port %d, open files limit %d%n",
                chatPid, chatPort, SocketBench.openFilesLimit(chatPid), gatewayPid, gatewayPort, SocketBench.openFilesLimit(gatewayPid));
        Summary summary = new Summary();
        if (phases.contains("idle")) {
            idle(summary);
        }
        if (phases.contains("messages")) {
            messages(summary);
        }
        if (phases.contains("rest")) {
            rest(summary);
        }
        summary.print();
        System.out.printf(Locale.ROOT, "machine load average at the end: %s%n", SocketBench.loadAverage());
    }

    // ---------------------------------------------------------------------------------------------
    // Idle tunnelled sockets

    void idle(Summary summary) throws Exception {
        long firstUser = 2L * pairs + 1;
        SocketBench.Mem start = gateway.measure();
        // The gateway holds two files per tunnelled socket, chat-service and the generator one each.
        long limit = Math.min((SocketBench.openFilesLimit(gatewayPid) - start.fds() - 200) / 2,
                Math.min(SocketBench.openFilesLimit(chatPid) - SocketBench.countFds(chatPid) - 200,
                        SocketBench.openFilesLimit(ProcessHandle.current().pid()) - SocketBench.countFds(ProcessHandle.current().pid()) - 400));
        int[] ns = Arrays.stream(idleSteps).map(n -> (int) Math.min(n, limit)).distinct().sorted().toArray();
        int top = ns[ns.length - 1];
        System.out.printf(Locale.ROOT, "%nIDLE TUNNELLED SOCKETS: up to %,d through the gateway (one user each, users %d..%d), "
                + "each joined to room:chat and heartbeating every 30 s; the gateway's memory after jcmd GC.run at each step%n",
                top, firstUser, firstUser + top - 1);
        long[] users = users(firstUser, top);
        String[] tokens = gateway.tokens(users);
        long[] warmUsers = Arrays.copyOf(users, Math.min(idleWarmup, top));
        List<SocketBench.Sock> warm = gateway.socks(warmUsers);
        int warmFailed = gateway.openAll(warm, gateway.tokens(warmUsers));
        gateway.closeAll(warm);
        Thread.sleep(2000);
        System.out.printf(Locale.ROOT, "warm-up: %,d sockets opened through the gateway, joined and closed (%d failed)%n", warm.size(), warmFailed);

        List<SocketBench.Mem> points = new ArrayList<>();
        SocketBench.Mem base = gateway.measure();
        points.add(base);
        Map<String, long[]> baseHistogram = gateway.histogram();
        System.out.printf(Locale.ROOT, "%9s %9s %9s %9s %9s %9s %9s %9s %9s%n", "sockets", "RSS MB", "KB/sock", "heap MB",
                "KB/sock", "RSS-heap", "KB/sock", "gw files", "opened/s");
        printIdleRow(base, base, 0);
        List<SocketBench.Sock> all = gateway.socks(users);
        int opened = 0;
        int failed = 0;
        for (int n : ns) {
            long t = System.nanoTime();
            failed += gateway.openAll(all.subList(opened, n), Arrays.copyOfRange(tokens, opened, n));
            double rate = (n - opened) / ((System.nanoTime() - t) / 1e9);
            opened = n;
            Thread.sleep(3000);
            SocketBench.Mem mem = gateway.measure();
            points.add(mem);
            printIdleRow(base, mem, rate);
        }
        SocketBench.Mem last = points.get(points.size() - 1);
        System.out.printf(Locale.ROOT, "open sockets %,d, failed to open %d, closed by the server %d%n", gateway.open.size(), failed,
                gateway.unexpectedCloses.get());
        double[] rss = SocketBench.fit(points, SocketBench.Mem::rssKb);
        double[] heap = SocketBench.fit(points, SocketBench.Mem::heapUsedKb);
        double[] files = SocketBench.fit(points, SocketBench.Mem::fds);
        System.out.printf(Locale.ROOT, "least squares over %d points (0..%,d sockets): RSS %.2f KB, heap used %.2f KB, %.2f files per tunnelled socket; "
                + "RSS %.0f MB at 0 sockets%n", points.size(), last.connections(), rss[0], heap[0], files[0], rss[1] / 1024);
        SocketBench.printHistogramDelta(baseHistogram, gateway.histogram(), last.connections());
        summary.idle = new double[] { last.connections(), rss[0], heap[0], files[0], rss[1] / 1024 };
        gateway.closeAll(all);
        Thread.sleep(3000);
        SocketBench.Mem after = gateway.measure();
        System.out.printf(Locale.ROOT, "after closing them all: gateway RSS %.1f MB, heap used %.1f MB, %d files open%n",
                after.rssKb() / 1024.0, after.heapUsedKb() / 1024.0, after.fds());
    }

    void printIdleRow(SocketBench.Mem base, SocketBench.Mem mem, double rate) {
        System.out.printf(Locale.ROOT, "%,9d %9.1f %9s %9.1f %9s %9.1f %9s %9d %9s%n", mem.connections(), mem.rssKb() / 1024.0,
                SocketBench.perConnection(base, mem, SocketBench.Mem::rssKb), mem.heapUsedKb() / 1024.0,
                SocketBench.perConnection(base, mem, SocketBench.Mem::heapUsedKb), mem.nonHeapKb() / 1024.0,
                SocketBench.perConnection(base, mem, SocketBench.Mem::nonHeapKb), mem.fds(),
                rate == 0 ? "-" : String.format(Locale.ROOT, "%.0f", rate));
    }

    static long[] users(long first, int count) {
        long[] users = new long[count];
        for (int i = 0; i < count; i++) {
            users[i] = first + i;
        }
        return users;
    }

    // ---------------------------------------------------------------------------------------------
    // Messages

    void messages(Summary summary) throws Exception {
        String names = String.join(", ", legs.stream().map(Leg::name).toList());
        System.out.printf(Locale.ROOT, "%nMESSAGES: %d pairs (user 2k-1 sends to user 2k in conversation k, one socket each), the same "
                + "sockets' users and conversations straight to chat-service (direct), through the gateway (gateway)%s, opened afresh "
                + "for each run; %d round(s) per rate, each round in another order (%s first in the first), each run %d s warm-up + %d s "
                + "measured; first %d s at half the first rate each way, not counted.%n", pairs,
                legs.size() > 2 ? " and through " + legs.get(2).name() + " in TCP mode (the reference proxy)" : "", rounds, names,
                warmupSeconds, measureSeconds, serverWarmupSeconds);
        System.out.println("Latency (ms) = the recipient's receive_msg - the send; ack = the sender's ok reply - the send. srv% and srvms are the "
                + "process the sockets connect to (chat-service direct, the proxy through one); chat us and proxy us: CPU per "
                + "delivered message over the whole run (warm-up included) of chat-service and of the path's proxy.");
        System.out.printf(Locale.ROOT, "%-8s %3s %6s %7s %9s %7s %7s %7s %4s %6s %6s %6s %7s %7s %7s %7s %5s %5s %5s %5s %5s %5s %5s %5s %5s  %-20s %9s %9s%n",
                "path", "run", "target", "sent/s", "stored+dl", "ok", "pushes", "errors", "dup", "p50", "p90", "p99", "p99.9", "max",
                "ackp50", "ackp99", "cpu%", "srv%", "pg%", "gen%", "other", "srvms", "pgms", "load", "lag", "database", "chat us", "proxy us");
        if (serverWarmupSeconds > 0) {
            int rate = Math.max(1, rates[0] / 2);
            int warm = Math.min(10, serverWarmupSeconds / 2);
            // The JVMs' warm-up (chat-service's and the gateway's JIT); a reference proxy has none to do.
            measure(legs.get(0), rate, warm, serverWarmupSeconds - warm);
            measure(legs.get(1), rate, warm, serverWarmupSeconds - warm);
            // Then 15 s each way at the top rate: higher rates take paths the lower ones do not (several frames per read,
            // bigger insert batches), and the JIT compiled them during the first measured run at a new rate (seen:
            // C2 at 4-5 us per message in both JVMs, and that run's p99 79 ms against 7.5 in the next).
            int top = Arrays.stream(rates).max().orElse(rate);
            if (top > rate) {
                measure(legs.get(0), top, 5, 10);
                measure(legs.get(1), top, 5, 10);
            }
        }
        for (int rate : rates) {
            for (int round = 0; round < rounds; round++) {
                // Round r starts with leg r: with two legs, direct+gateway then gateway+direct; with three, a rotation.
                for (int i = 0; i < legs.size(); i++) {
                    Leg leg = legs.get((round + i) % legs.size());
                    summary.add(leg.name(), rate, measure(leg, rate, warmupSeconds, measureSeconds));
                }
            }
        }
    }

    /** One run on freshly opened sockets: {delivered/s, p50, p90, p99, max, ack p99, chat-service us/msg, proxy us/msg}. */
    double[] measure(Leg leg, int rate, int warmup, int seconds) throws Exception {
        SocketBench bench = leg.bench();
        String path = leg.name();
        long[] users = users(1, 2 * pairs);
        List<SocketBench.Sock> socks = bench.socks(users);
        // Shuffled, as SocketBench does: accepted connections are dealt to the event loops in turn.
        List<Integer> order = new ArrayList<>(IntStream.range(0, socks.size()).boxed().toList());
        Collections.shuffle(order, new Random(42 + runIndex));
        String[] tokens = bench.tokens(users);
        int failed = bench.openAll(order.stream().map(socks::get).toList(), order.stream().map(i -> tokens[i]).toArray(String[]::new));
        if (failed > 0) {
            throw new IllegalStateException(failed + " sockets of the message pairs failed to open (" + path + ")");
        }
        for (int k = 0; k < pairs; k++) {
            socks.get(2 * k).onText = text -> {
                SocketBench.Run run = bench.current;
                if (run != null && text.startsWith("[\"1\",")) {
                    run.reply(text, System.nanoTime());
                }
            };
            socks.get(2 * k + 1).onText = text -> {
                SocketBench.Run run = bench.current;
                if (run != null && text.startsWith("[null,null,\"room:chat\",\"receive_msg\"")) {
                    run.push(text, System.nanoTime());
                }
            };
        }
        Thread.sleep(500);
        int index = ++runIndex;
        String tag = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000) + "g" + index;
        SocketBench.Run run = bench.new Run(index, tag, rate, warmup, seconds);
        long chat0 = SocketBench.procTicks(chatPid);
        long[] proxy0 = cpuTicks(leg.proxyPid());
        Map<String, long[]> chatThreads0 = threads(chatPid);
        Map<String, long[]> proxyThreads0 = threads(leg.proxyPid());
        System.out.printf(Locale.ROOT, "%-8s ", path);
        double[] figures = bench.run(run, socks);
        long[] proxy1 = cpuTicks(leg.proxyPid());
        Map<String, long[]> chatThreads1 = threads(chatPid);
        Map<String, long[]> proxyThreads1 = threads(leg.proxyPid());
        double messages = Math.max(1, run.pushes.get());
        double chatUs = 1e4 * (SocketBench.procTicks(chatPid) - chat0) / messages;
        double proxyUs = 1e4 * (proxy1[0] + proxy1[1] - proxy0[0] - proxy0[1]) / messages;
        System.out.printf(Locale.ROOT, "%-8s     chat-service %.1f us/msg%s%n", "", chatUs, leg.proxyPid() == 0 ? ""
                : String.format(Locale.ROOT, ", %s %.1f us/msg (user %.1f, system %.1f)", path, proxyUs,
                        1e4 * (proxy1[0] - proxy0[0]) / messages, 1e4 * (proxy1[1] - proxy0[1]) / messages));
        System.out.printf(Locale.ROOT, "%-8s     threads (run ended %s): chat-service %s%n", "",
                java.time.LocalTime.now().withNano(0), schedule(chatThreads0, chatThreads1, messages));
        if (leg.proxyPid() != 0) {
            System.out.printf(Locale.ROOT, "%-8s     threads: %s %s%n", "", path, schedule(proxyThreads0, proxyThreads1, messages));
        }
        bench.current = null;
        bench.closeAll(socks);
        Thread.sleep(1000);
        double[] all = Arrays.copyOf(figures, figures.length + 2);
        all[figures.length] = chatUs;
        all[figures.length + 1] = proxyUs;
        return all;
    }

    // ---------------------------------------------------------------------------------------------
    // REST

    void rest(Summary summary) throws Exception {
        System.out.printf(Locale.ROOT, "%nREST: %,d requests of each kind each way after %,d of warm-up, one at a time, straight and through "
                + "the gateway alternately (which goes first alternates too), one kept-alive HTTP/1.1 connection each way; "
                + "history = GET /api/conversations/{k}/messages?limit=50, post = POST /api/conversations/{k}/messages (50 characters), "
                + "k random among the %d pair conversations, as user 2k-1%n", restRequests, restWarmup, pairs);
        String[] tokens = new String[pairs];
        for (int k = 0; k < pairs; k++) {
            tokens[k] = HistoryBench.token(direct.key, 2L * k + 1);
        }
        long[][] nanos = new long[4][restRequests];
        int[] errors = new int[4];
        String[] firstError = new String[4];
        Random random = new Random(7);
        String tag = Long.toString(System.currentTimeMillis() % 1_000_000);
        long[] gw0 = null;
        long chat0 = 0;
        Http.Response[] lastPage = new Http.Response[2];
        try (Http straight = new Http("127.0.0.1", chatPort); Http through = new Http("127.0.0.1", gatewayPort)) {
            for (int i = -restWarmup; i < restRequests; i++) {
                if (i == 0) {
                    gw0 = cpuTicks(gatewayPid);
                    chat0 = SocketBench.procTicks(chatPid);
                }
                int k = random.nextInt(pairs);
                String history = "/api/conversations/" + (k + 1) + "/messages?limit=50";
                String messages = "/api/conversations/" + (k + 1) + "/messages";
                for (int leg = 0; leg < 2; leg++) {
                    boolean isDirect = (i & 1) == leg;
                    Http http = isDirect ? straight : through;
                    int kind = isDirect ? 0 : 1;
                    long t0 = System.nanoTime();
                    Http.Response got = http.send("GET", history, tokens[k], null);
                    long t1 = System.nanoTime();
                    String body = "{\"content\":\"" + String.format(Locale.ROOT, "rest %s %c %08d %-24s", tag, isDirect ? 'd' : 'g', i + restWarmup, "x")
                            + "\"}";
                    Http.Response posted = http.send("POST", messages, tokens[k], body);
                    long t2 = System.nanoTime();
                    if (i >= 0) {
                        nanos[kind][i] = t1 - t0;
                        nanos[kind + 2][i] = t2 - t1;
                    }
                    lastPage[kind] = got;
                    if (got.status() != 200 && errors[kind]++ == 0) {
                        firstError[kind] = got.status() + " " + got.body();
                    }
                    if (posted.status() != 201 && errors[kind + 2]++ == 0) {
                        firstError[kind + 2] = posted.status() + " " + posted.body();
                    }
                }
            }
        }
        long[] gw1 = cpuTicks(gatewayPid);
        double gwUs = 1e4 * (gw1[0] + gw1[1] - gw0[0] - gw0[1]) / (2.0 * restRequests);
        double gwSysUs = 1e4 * (gw1[1] - gw0[1]) / (2.0 * restRequests);
        double chatUs = 1e4 * (SocketBench.procTicks(chatPid) - chat0) / (4.0 * restRequests);
        String[] names = { "history direct", "history gateway", "post direct", "post gateway" };
        System.out.printf(Locale.ROOT, "%-16s %8s %8s %8s %8s %8s %7s%n", "", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
        summary.rest = new double[4][];
        for (int kind = 0; kind < 4; kind++) {
            long[] sorted = nanos[kind].clone();
            Arrays.sort(sorted);
            summary.rest[kind] = new double[] { SocketBench.ms(sorted, 50), SocketBench.ms(sorted, 99) };
            System.out.printf(Locale.ROOT, "%-16s %8.2f %8.2f %8.2f %8.2f %8.2f %7d%s%n", names[kind], SocketBench.ms(sorted, 50),
                    SocketBench.ms(sorted, 90), SocketBench.ms(sorted, 99), SocketBench.ms(sorted, 99.9), SocketBench.ms(sorted, 100),
                    errors[kind], firstError[kind] == null ? "" : "  first: " + firstError[kind]);
        }
        summary.restGatewayUs = gwUs;
        for (int kind = 0; kind < 2; kind++) {
            System.out.printf(Locale.ROOT, "last history page %s: head %d bytes, body %,d bytes%s%n", kind == 0 ? "direct" : "gateway",
                    lastPage[kind].headBytes(), lastPage[kind].bodyBytes(), lastPage[kind].chunked() ? " (chunked)" : " (Content-Length)");
        }
        System.out.printf(Locale.ROOT, "CPU per request: gateway %.0f us (%.0f of it system; requests through it), chat-service %.0f us (all requests); load average %s%n",
                gwUs, gwSysUs, chatUs, SocketBench.loadAverage());
    }

    /** One kept-alive HTTP/1.1 connection, one request at a time, written in one segment (as HistoryBench.Connection). */
    static final class Http implements AutoCloseable {

        record Response(int status, String body, int headBytes, int bodyBytes, boolean chunked) {
        }

        private final String host;
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Http(String host, int port) throws IOException {
            this.host = host + ":" + port;
            socket = new Socket(host, port);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            out = socket.getOutputStream();
        }

        Response send(String method, String path, String token, String body) throws IOException {
            byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                    + "\r\nAccept: application/json\r\n"
                    + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n") + "\r\n";
            ByteArrayOutputStream request = new ByteArrayOutputStream(head.length() + content.length);
            request.write(head.getBytes(StandardCharsets.US_ASCII));
            request.write(content);
            request.writeTo(out);
            out.flush();
            String statusLine = line();
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            int headBytes = statusLine.length() + 2;
            int length = -1;
            boolean chunked = false;
            for (String header = line(); ; header = line()) {
                headBytes += header.length() + 2;
                if (header.isEmpty()) {
                    break;
                }
                String lower = header.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Integer.parseInt(lower.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                }
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            if (chunked) {
                for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
                    answer.write(in.readNBytes(size));
                    line();
                }
                line();
            } else if (length >= 0) {
                answer.write(in.readNBytes(length));
            }
            return new Response(status, answer.toString(StandardCharsets.UTF_8), headBytes, answer.size(), chunked);
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

    // ---------------------------------------------------------------------------------------------
    // Summary

    final class Summary {
        double[] idle;
        /** Per path, per rate, each run's figures (as {@link #measure} returns them). */
        final Map<String, Map<Integer, List<double[]>>> runs = new LinkedHashMap<>();
        double[][] rest;
        double restGatewayUs;

        void add(String path, int rate, double[] figures) {
            runs.computeIfAbsent(path, p -> new LinkedHashMap<>()).computeIfAbsent(rate, r -> new ArrayList<>()).add(figures);
        }

        void print() {
            System.out.printf(Locale.ROOT, "%nSUMMARY (goals: gateway p99 <= 1.3 x direct up to 5,000/s; <= 4 KB RSS per tunnelled socket; "
                    + "REST p99 through the gateway <= direct + 1 ms)%n");
            Map<Integer, List<double[]>> straight = runs.getOrDefault("direct", Map.of());
            List<String> proxies = runs.keySet().stream().filter(path -> !path.equals("direct")).toList();
            if (!straight.isEmpty()) {
                System.out.printf(Locale.ROOT, "%7s %5s %18s", "msg/s", "runs", "direct p50/p99 ms");
                for (String proxy : proxies) {
                    System.out.printf(Locale.ROOT, " | %-8s %16s %9s %9s %8s", proxy, "p50/p99 ms", "p99 ratio", "dl/s", "us/msg");
                }
                System.out.printf(Locale.ROOT, " | %s%n", "chat us/msg: " + String.join(" / ", runs.keySet()));
                for (int rate : straight.keySet()) {
                    List<double[]> d = straight.get(rate);
                    double dp99 = SocketBench.median(d, 3);
                    System.out.printf(Locale.ROOT, "%,7d %5d %8.1f / %7.1f", rate, d.size(), SocketBench.median(d, 1), dp99);
                    StringBuilder chat = new StringBuilder(String.format(Locale.ROOT, "%.1f", SocketBench.median(d, 6)));
                    for (String proxy : proxies) {
                        List<double[]> g = runs.get(proxy).getOrDefault(rate, List.of());
                        if (g.isEmpty()) {
                            System.out.printf(Locale.ROOT, " | %-8s %16s %9s %9s %8s", "", "-", "-", "-", "-");
                            continue;
                        }
                        double gp99 = SocketBench.median(g, 3);
                        System.out.printf(Locale.ROOT, " | %-8s %7.1f / %6.1f %9.2f %9.0f %8.1f", "", SocketBench.median(g, 1), gp99, gp99 / dp99,
                                SocketBench.median(g, 0), SocketBench.median(g, 7));
                        chat.append(String.format(Locale.ROOT, " / %.1f", SocketBench.median(g, 6)));
                    }
                    System.out.printf(Locale.ROOT, " | %s%n", chat);
                }
                System.out.println("(medians over the runs; p99 ratio: the path's p99 / direct's; us/msg: the proxy's CPU per delivered message)");
            }
            if (idle != null) {
                System.out.printf(Locale.ROOT, "idle: %.2f KB RSS (%.2f KB heap) and %.2f files per tunnelled socket, fitted over 0..%,.0f sockets\n",
                        idle[1], idle[2], idle[3], idle[0]);
            }
            if (rest != null) {
                System.out.printf(Locale.ROOT, "REST p50/p99 ms: history direct %.2f / %.2f, gateway %.2f / %.2f (p99 +%.2f ms); "
                        + "post direct %.2f / %.2f, gateway %.2f / %.2f (p99 +%.2f ms); gateway %.0f us CPU per request%n",
                        rest[0][0], rest[0][1], rest[1][0], rest[1][1], rest[1][1] - rest[0][1],
                        rest[2][0], rest[2][1], rest[3][0], rest[3][1], rest[3][1] - rest[2][1], restGatewayUs);
            }
        }
    }

    /** {user, system} clock ticks of one process. */
    static long[] cpuTicks(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[] { Long.parseLong(f[11]), Long.parseLong(f[12]) };
        } catch (IOException | RuntimeException e) {
            return new long[2];
        }
    }

    /**
     * A process's threads by kind (the name without its trailing number: "vert.x-eventloop-thread-", "C2 CompilerThread"),
     * each {CPU ns, ns runnable but waiting for a core, times scheduled}, from /proc/PID/task/TID/schedstat: where the
     * p99 of a path through a proxy goes on a machine whose cores are busy (a wake-up that waits for a core).
     */
    static Map<String, long[]> threads(long pid) {
        Map<String, long[]> byKind = new LinkedHashMap<>();
        if (pid == 0) {
            return byKind;
        }
        try (var tasks = java.nio.file.Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String kind = java.nio.file.Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+$", "");
                    String[] f = java.nio.file.Files.readString(task.resolve("schedstat")).strip().split(" ");
                    long[] sum = byKind.computeIfAbsent(kind, k -> new long[3]);
                    for (int i = 0; i < 3; i++) {
                        sum[i] += Long.parseLong(f[i]);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        return byKind;
    }

    /**
     * Per delivered message over a run: the process's CPU and its wait for a core, in microseconds, the wait per
     * wake-up, then its busiest thread kinds (CPU us/msg, wait us/msg). Threads that ended during the run are not
     * counted (their figures leave with them).
     */
    static String schedule(Map<String, long[]> before, Map<String, long[]> after, double messages) {
        long cpu = 0, wait = 0, slices = 0;
        List<String> kinds = new ArrayList<>();
        Map<String, long[]> delta = new LinkedHashMap<>();
        for (var e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[3]);
            long[] d = { Math.max(0, e.getValue()[0] - b[0]), Math.max(0, e.getValue()[1] - b[1]), Math.max(0, e.getValue()[2] - b[2]) };
            delta.put(e.getKey(), d);
            cpu += d[0];
            wait += d[1];
            slices += d[2];
        }
        delta.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0])).limit(4)
                .forEach(e -> kinds.add(String.format(Locale.ROOT, "%s %.1f/%.1f", e.getKey(), e.getValue()[0] / 1e3 / messages,
                        e.getValue()[1] / 1e3 / messages)));
        return String.format(Locale.ROOT, "cpu %.1f us/msg, waiting for a core %.1f us/msg (%.0f us a wake-up, %.2f wake-ups/msg); busiest: %s",
                cpu / 1e3 / messages, wait / 1e3 / messages, slices == 0 ? 0 : wait / 1e3 / slices, slices / messages, String.join(", ", kinds));
    }

    static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .mapToInt(s -> s.equals("max") ? Integer.MAX_VALUE : Integer.parseInt(s)).toArray();
    }
}
