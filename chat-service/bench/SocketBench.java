import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;

/**
 * Load tool of the chat socket benchmark (socket-bench.sh, see ../README.md). Vert.x WebSocket
 * clients (the service's own vertx-core and Netty jars) on two event loops, connections spread
 * over several loopback source addresses (127.0.0.2, 127.0.0.3, …) so that no source address
 * runs out of ephemeral ports. Compiled together with HistoryBench.java, whose tokens it signs.
 *
 * <pre>
 * java -cp &lt;vertx+netty&gt;:&lt;classes&gt; SocketBench idle|messages|all &lt;dir&gt; &lt;port&gt; &lt;server pid&gt; &lt;database&gt;
 * </pre>
 *
 * idle: N authenticated sockets joined to room:chat, held open with heartbeats, the server's RSS
 * and heap after a full GC at each N, the least-squares slope and the class histogram delta.
 * messages: pairs of a sender and a recipient socket, a steady total rate of send_msg, the
 * sender→recipient latency of each receive_msg, and the database checked for every ok'd message.
 * flood: the messages load at one rate, in rounds without and with one hostile socket that sends
 * send_msg as fast as the connection takes them (reconnecting whenever it is closed); the normal
 * pairs' latency both ways, and the server's heap before, during and after.
 * group: one socket per member of one group (conversation pairs + 2), random members sending
 * send_msg to it at a steady rate; every push to every other member counted, with its latency.
 * signals: read markers and typing (issue 16): one socket per user, each the actor of some direct
 * conversations (mark_read, typing) and the watcher of others; a steady total rate of events, the
 * latency of each read/typing push to the watcher, against heartbeat round trips in the same run.
 * presence-baseline, presence (issue 17; socket-bench.sh runs both, each on a fresh service): 5 sockets per user
 * for 2,000 users without contacts (the baseline) or with 50 each, opened user by user in steps with the RSS
 * measured as idle does and every presence_state timed; then, with presence only, paced rejoins and a reconnect
 * storm, every presence_diff they cause counted at every watcher socket, with its latency.
 */
public class SocketBench {

    static final String JOIN = "[\"1\",\"1\",\"room:chat\",\"phx_join\",{}]";
    static final String HEARTBEAT = "[null,\"hb\",\"phoenix\",\"heartbeat\",{}]";
    static final int HEARTBEAT_SECONDS = 30;
    static final long CLOCK_TICKS = 100;

    // Settings (system properties, set by socket-bench.sh).
    final int[] steps = Arrays.stream(System.getProperty("bench.connections", "2000,5000,10000,max").split(","))
            .map(String::trim).mapToInt(s -> s.equals("max") ? Integer.MAX_VALUE : Integer.parseInt(s)).toArray();
    final int maxConnections = Integer.getInteger("bench.maxConnections", Integer.MAX_VALUE);
    final int warmupConnections = Integer.getInteger("bench.warmupConnections", 1000);
    final int holdSeconds = Integer.getInteger("bench.hold", 65);
    final int pairs = Integer.getInteger("bench.pairs", 200);
    final int[] rates = Arrays.stream(System.getProperty("bench.rates", "2000,2000,2000,3000,4000").split(","))
            .map(String::trim).mapToInt(Integer::parseInt).toArray();
    /** Run after the rates above only when one of them was not kept up with: where the knee is. */
    final int[] fallbackRates = Arrays.stream(System.getProperty("bench.fallbackRates", "1000,700,700,700,500,500,500").split(","))
            .map(String::trim).filter(r -> !r.isEmpty()).mapToInt(Integer::parseInt).toArray();
    final int warmupSeconds = Integer.getInteger("bench.warmup", 10);
    final int measureSeconds = Integer.getInteger("bench.seconds", 30);
    final int serverWarmupSeconds = Integer.getInteger("bench.serverWarmup", 60);
    final int addresses = Integer.getInteger("bench.sourceAddresses", 4);
    final int inflight = Integer.getInteger("bench.inflight", 64);
    final String jcmd = System.getProperty("bench.jcmd", "jcmd");
    final int groupMembers = Integer.getInteger("bench.groupMembers", 200);
    final int groupRate = Integer.getInteger("bench.groupRate", 100);
    final int groupRuns = Integer.getInteger("bench.groupRuns", 3);
    final String serverJvm = System.getProperty("bench.serverJvm", "?");

    final Path dir;
    final int port;
    final long serverPid;
    final String db;
    final PrivateKey key;
    final Vertx vertx;
    final List<WebSocketClient> clients = new ArrayList<>();
    final Set<Sock> open = ConcurrentHashMap.newKeySet();
    final AtomicInteger unexpectedCloses = new AtomicInteger();
    final AtomicLong heartbeatReplies = new AtomicLong();
    final AtomicInteger nextSlot = new AtomicInteger();
    volatile String lastCloseReason;

    /** One client socket: its user, and who handles its frames once it has joined. */
    static final class Sock {
        final int slot;
        final long userId;
        volatile WebSocket ws;
        /** The Vert.x context its connection was opened on: its frames are written there (see {@link LoopWrites}). */
        volatile Context context;
        volatile Consumer<String> onText;
        volatile boolean closing;
        /** When its phx_join went out, and how long its presence_state took after it (-1: none yet). */
        volatile long joinSentAt;
        /** The join counts as done at its presence_state, not at its ok reply (the presence modes). */
        volatile boolean awaitState;
        volatile long stateNanos = -1;
        volatile int stateUsers;

        Sock(int slot, long userId) {
            this.slot = slot;
            this.userId = userId;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5 || !List.of("idle", "messages", "all", "flood", "group", "signals", "presence-baseline", "presence")
                .contains(args[0])) {
            System.err.println("usage: SocketBench idle|messages|all|flood|group|signals|presence-baseline|presence <dir> <port> <server pid> <database>");
            System.exit(2);
        }
        SocketBench bench = new SocketBench(Path.of(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3]), args[4]);
        try {
            bench.header();
            if (args[0].equals("flood")) {
                bench.flood();
                return;
            }
            if (args[0].equals("group")) {
                bench.group();
                return;
            }
            if (args[0].equals("signals")) {
                bench.signals();
                return;
            }
            if (args[0].startsWith("presence")) {
                bench.presence(args[0].equals("presence-baseline"));
                return;
            }
            if (!args[0].equals("messages")) {
                bench.idle();
            }
            if (!args[0].equals("idle")) {
                bench.messages();
            }
        } finally {
            bench.vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    SocketBench(Path dir, int port, long serverPid, String db) throws Exception {
        this.dir = dir;
        this.port = port;
        this.serverPid = serverPid;
        this.db = db;
        this.key = KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(dir.resolve("signing-key.der"))));
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(1)
                .setBlockedThreadCheckInterval(10_000));
        for (int a = 0; a < addresses; a++) {
            clients.add(vertx.createWebSocketClient(new WebSocketClientOptions()
                    .setLocalAddress("127.0.0." + (2 + a))
                    .setMaxConnections(1_000_000)
                    .setConnectTimeout(30_000)
                    .setTcpNoDelay(true)));
        }
        // Heartbeats as the phoenix client sends them: every 30 s per socket, spread over the 30 s.
        AtomicLong tick = new AtomicLong();
        vertx.setPeriodic(1000, id -> {
            long t = tick.incrementAndGet() % HEARTBEAT_SECONDS;
            for (Sock sock : open) {
                if (sock.slot % HEARTBEAT_SECONDS == t) {
                    sock.ws.writeTextMessage(HEARTBEAT);
                }
            }
        });
    }

    void header() throws IOException {
        System.out.printf(Locale.ROOT, "machine: %d cores, load average %s; generator: Java %s, %d loopback source addresses%n",
                Runtime.getRuntime().availableProcessors(), loadAverage(), System.getProperty("java.version"), addresses);
        System.out.printf(Locale.ROOT, "server: pid %d, JVM options %s, open files limit %s (generator: %s)%n", serverPid, serverJvm,
                openFilesLimit(serverPid), openFilesLimit(ProcessHandle.current().pid()));
    }

    // ---------------------------------------------------------------------------------------------
    // Connections

    /** Connects, joins room:chat; completes once the join's ok reply is in (or its presence_state, if the sock awaits it). */
    Future<Void> open(Sock sock, String token) {
        Promise<Void> joined = Promise.promise();
        WebSocketClient client = clients.get(sock.slot % clients.size());
        client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(portOf(sock))
                .setURI("/socket/websocket?token=" + token + "&vsn=2.0.0"))
                .onFailure(joined::tryFail)
                .onSuccess(ws -> {
                    sock.ws = ws;
                    sock.context = Vertx.currentContext();
                    boolean[] joinOk = { false };
                    ws.textMessageHandler(text -> {
                        if (text.startsWith("[null,\"hb\",")) {
                            heartbeatReplies.incrementAndGet();
                        } else if (!joinOk[0]) {
                            if (text.startsWith("[\"1\",\"1\",") && text.contains("\"status\":\"ok\"")) {
                                joinOk[0] = true;
                                open.add(sock);
                                if (!sock.awaitState) {
                                    joined.tryComplete();
                                }
                            } else {
                                joined.tryFail("join refused: " + text);
                            }
                        } else {
                            Consumer<String> handler = sock.onText;
                            if (handler != null) {
                                handler.accept(text);
                            }
                            if (sock.awaitState && text.startsWith(STATE_PREFIX)) {
                                joined.tryComplete();
                            }
                        }
                    });
                    ws.closeHandler(v -> {
                        open.remove(sock);
                        if (!sock.closing) {
                            unexpectedCloses.incrementAndGet();
                            lastCloseReason = ws.closeStatusCode() + " " + ws.closeReason();
                        }
                        joined.tryFail("closed before the join reply: " + ws.closeStatusCode() + " " + ws.closeReason());
                    });
                    ws.exceptionHandler(e -> {
                    });
                    sock.joinSentAt = System.nanoTime();
                    ws.writeTextMessage(JOIN);
                });
        return joined.future();
    }

    /**
     * Several replicas (bus-bench.sh): with {@code bench.ports} (a comma list) each socket goes to one of them, every
     * socket of a user to the same one. The users of the message pairs (1..2 * pairs) are dealt evenly over the ports
     * in an order shuffled with {@code bench.portSeed}, so each pair's sender and recipient are on random replicas,
     * independently of each other; the users after them go round the ports. Without it, every socket goes to {@code port}.
     */
    final int[] ports = Arrays.stream(System.getProperty("bench.ports", "").split(",")).map(String::trim)
            .filter(p -> !p.isEmpty()).mapToInt(Integer::parseInt).toArray();
    final int[] pairPorts = dealPorts(Long.getLong("bench.portSeed", 20));

    int[] dealPorts(long seed) {
        if (ports.length == 0) {
            return new int[0];
        }
        List<Integer> dealt = new ArrayList<>(IntStream.range(0, 2 * pairs).mapToObj(i -> ports[i % ports.length]).toList());
        java.util.Collections.shuffle(dealt, new java.util.Random(seed));
        return dealt.stream().mapToInt(Integer::intValue).toArray();
    }

    int portOf(Sock sock) {
        if (ports.length == 0) {
            return port;
        }
        return sock.userId <= pairPorts.length ? pairPorts[(int) sock.userId - 1] : ports[(int) (sock.userId % ports.length)];
    }

    /** Opens every socket, {@code inflight} handshakes at a time; returns the number that failed. */
    int openAll(List<Sock> socks, String[] tokens) throws InterruptedException {
        Semaphore permits = new Semaphore(inflight);
        CountDownLatch done = new CountDownLatch(socks.size());
        AtomicInteger failed = new AtomicInteger();
        for (int i = 0; i < socks.size(); i++) {
            permits.acquire();
            String token = tokens[i];
            tokens[i] = null;
            open(socks.get(i), token).onComplete(result -> {
                permits.release();
                if (result.failed() && failed.getAndIncrement() < 3) {
                    System.out.println("  connection failed: " + result.cause());
                }
                done.countDown();
            });
        }
        if (!done.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("connections did not complete");
        }
        return failed.get();
    }

    void closeAll(List<Sock> socks) throws InterruptedException {
        for (Sock sock : socks) {
            sock.closing = true;
            if (sock.ws != null) {
                sock.ws.close();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (socks.stream().anyMatch(open::contains) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    List<Sock> socks(long[] users) {
        List<Sock> socks = new ArrayList<>(users.length);
        for (long user : users) {
            socks.add(new Sock(nextSlot.getAndIncrement(), user));
        }
        return socks;
    }

    /** One token per connection (a fresh jti each), signed on every core. */
    String[] tokens(long[] users) {
        return IntStream.range(0, users.length).parallel().mapToObj(i -> HistoryBench.token(key, users[i])).toArray(String[]::new);
    }

    // ---------------------------------------------------------------------------------------------
    // Idle phase

    void idle() throws Exception {
        // Users after the message pairs' ones: user u holds 1 + u % 4 sockets (1 to 4, 2.5 on average).
        long firstUser = 2L * pairs + 1;
        Mem start = measure();
        int limit = Math.min(maxConnections, (int) Math.min(
                openFilesLimit(serverPid) - start.fds() - 200,
                openFilesLimit(ProcessHandle.current().pid()) - countFds(ProcessHandle.current().pid()) - 200));
        int[] ns = Arrays.stream(steps).map(n -> Math.min(n, limit)).distinct().sorted().toArray();
        int top = ns[ns.length - 1];
        long[] users = new long[top];
        for (long user = firstUser, i = 0; i < top; user++) {
            for (long s = 0; s < 1 + user % 4 && i < top; s++) {
                users[(int) i++] = user;
            }
        }
        long[] warmupUsers = new long[Math.min(warmupConnections, top)];
        System.arraycopy(users, 0, warmupUsers, 0, warmupUsers.length);
        System.out.printf(Locale.ROOT, "%nIDLE CONNECTIONS: up to %,d (server has %d files open; both limits %d), users %d..%d with 1-4 sockets each%n",
                top, start.fds(), openFilesLimit(serverPid), firstUser, users[top - 1]);
        long t0 = System.nanoTime();
        String[] tokens = tokens(users);
        String[] warmupTokens = tokens(warmupUsers);
        System.out.printf(Locale.ROOT, "signed %,d tokens in %.1f s%n", tokens.length + warmupTokens.length, (System.nanoTime() - t0) / 1e9);

        // Warm-up: the upgrade, join and heartbeat paths run (and are compiled) before the baseline.
        List<Sock> warm = socks(warmupUsers);
        int warmFailed = openAll(warm, warmupTokens);
        for (Sock sock : warm) {
            sock.ws.writeTextMessage(HEARTBEAT);
        }
        Thread.sleep(1000);
        closeAll(warm);
        Thread.sleep(2000);
        System.out.printf(Locale.ROOT, "warm-up: %,d sockets opened, joined and closed (%d failed)%n", warm.size(), warmFailed);

        List<Mem> points = new ArrayList<>();
        Mem base = measure();
        points.add(base);
        Map<String, long[]> baseHistogram = histogram();
        System.out.printf(Locale.ROOT, "%n%11s %8s %8s %9s %9s %9s %9s %9s %9s %7s %7s%n", "", "RSS", "", "heap", "", "heap",
                "heap", "RSS-heap", "", "server", "opened");
        System.out.printf(Locale.ROOT, "%11s %8s %8s %9s %9s %9s %9s %9s %9s %7s %7s%n", "connections", "MB", "KB/conn", "used MB",
                "KB/conn", "commit MB", "resid MB", "MB", "KB/conn", "fds", "conn/s");
        printRow(base, base, 0);
        List<Sock> all = socks(users);
        int failed = openInSteps(all, tokens, ns, base, points);
        Map<String, long[]> topHistogram = histogram();
        Mem last = points.get(points.size() - 1);
        System.out.printf(Locale.ROOT, "open client sockets %,d, failed to open %d, closed by the server %d%s%n", open.size(), failed,
                unexpectedCloses.get(), lastCloseReason == null ? "" : " (last: " + lastCloseReason + ")");

        double[] rss = fit(points, Mem::rssKb);
        double[] heap = fit(points, Mem::heapUsedKb);
        double[] resident = fit(points, Mem::heapResidentKb);
        double[] nonHeap = fit(points, Mem::nonHeapKb);
        System.out.printf(Locale.ROOT, "%nleast squares over %d points (0..%,d connections):%n", points.size(), last.connections());
        System.out.printf(Locale.ROOT, "  RSS            %6.2f KB per connection, %7.1f MB at 0 -> predicted %,7.0f MB at 100,000%n", rss[0],
                rss[1] / 1024, (rss[1] + rss[0] * 100_000) / 1024);
        System.out.printf(Locale.ROOT, "  heap used      %6.2f KB per connection, %7.1f MB at 0 -> predicted %,7.0f MB at 100,000 (of -Xmx)%n",
                heap[0], heap[1] / 1024, (heap[1] + heap[0] * 100_000) / 1024);
        System.out.printf(Locale.ROOT, "  of the RSS: heap resident %6.2f KB per connection, the rest (native: Netty buffers, malloc, …) %6.2f KB%n",
                resident[0], nonHeap[0]);
        printHistogramDelta(baseHistogram, topHistogram, last.connections());

        if (holdSeconds > 0) {
            long cpu0 = procTicks(serverPid);
            long hb0 = heartbeatReplies.get();
            long t = System.nanoTime();
            Thread.sleep(holdSeconds * 1000L);
            double seconds = (System.nanoTime() - t) / 1e9;
            System.out.printf(Locale.ROOT, "%nheld %,d sockets idle for %.0f s (longer than the 60 s idle timeout): %,d heartbeat replies, "
                    + "%d closed by the server; server CPU %.1f %% of one core%n", open.size(), seconds, heartbeatReplies.get() - hb0,
                    unexpectedCloses.get(), 100.0 * (procTicks(serverPid) - cpu0) / CLOCK_TICKS / seconds);
        }
        closeAll(all);
        Thread.sleep(3000);
        Mem after = measure();
        System.out.printf(Locale.ROOT, "after closing them all: RSS %.1f MB, heap used %.1f MB (baseline %.1f / %.1f MB), %d files open%n",
                after.rssKb() / 1024.0, after.heapUsedKb() / 1024.0, base.rssKb() / 1024.0, base.heapUsedKb() / 1024.0, after.fds());
    }

    /** A row of the idle table; the KB/conn columns are the growth over the 0-connection baseline, per connection. */
    /**
     * Opens the sockets up to each step's count (steps past {@code all} stop at its size), then measures the service
     * and prints a row after each step; how many failed to open.
     */
    int openInSteps(List<Sock> all, String[] tokens, int[] steps, Mem base, List<Mem> points) throws Exception {
        int opened = 0;
        int failed = 0;
        for (int step : steps) {
            int n = Math.min(step, all.size());
            if (n <= opened) {
                continue;
            }
            long t = System.nanoTime();
            failed += openAll(all.subList(opened, n), Arrays.copyOfRange(tokens, opened, n));
            double rate = (n - opened) / ((System.nanoTime() - t) / 1e9);
            opened = n;
            Thread.sleep(3000);
            Mem mem = measure();
            points.add(mem);
            printRow(base, mem, rate);
        }
        return failed;
    }

    void printRow(Mem base, Mem mem, double rate) {
        int n = mem.connections();
        System.out.printf(Locale.ROOT, "%,11d %8.1f %8s %9.1f %9s %9.1f %9.1f %9.1f %9s %7d %7s%n", n, mem.rssKb() / 1024.0,
                perConnection(base, mem, Mem::rssKb), mem.heapUsedKb() / 1024.0, perConnection(base, mem, Mem::heapUsedKb),
                mem.heapCommittedKb() / 1024.0, mem.heapResidentKb() / 1024.0, mem.nonHeapKb() / 1024.0,
                perConnection(base, mem, Mem::nonHeapKb), mem.fds(), rate == 0 ? "-" : String.format(Locale.ROOT, "%.0f", rate));
    }

    static String perConnection(Mem base, Mem mem, java.util.function.ToLongFunction<Mem> kb) {
        int n = mem.connections() - base.connections();
        return n == 0 ? "-" : String.format(Locale.ROOT, "%.2f", (kb.applyAsLong(mem) - kb.applyAsLong(base)) / (double) n);
    }

    /** Least squares y = slope * connections + intercept: {slope, intercept}. */
    static double[] fit(List<Mem> points, java.util.function.ToLongFunction<Mem> y) {
        double n = points.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (Mem p : points) {
            double x = p.connections();
            double v = y.applyAsLong(p);
            sx += x;
            sy += v;
            sxx += x * x;
            sxy += x * v;
        }
        double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        return new double[] { slope, (sy - slope * sx) / n };
    }

    /**
     * The server's memory after a full GC (jcmd GC.run) and a trim of the C heap (jcmd System.trim_native_heap, JDK
     * 17.0.9+: what malloc keeps of memory already freed, mostly the JIT compiler's arenas, goes back to the system),
     * with the number of sockets this tool holds open.
     */
    record Mem(int connections, long rssKb, long heapUsedKb, long heapCommittedKb, long heapResidentKb, long fds) {
        long nonHeapKb() {
            return rssKb - heapResidentKb;
        }
    }

    Mem measure() throws Exception {
        awaitCompilerIdle();
        jcmd("GC.run");
        trimNativeHeap();
        Thread.sleep(500);
        String heapInfo = jcmd("GC.heap_info");
        long used = 0;
        long committed = 0;
        long low = Long.MAX_VALUE;
        long high = 0;
        Matcher generation = Pattern.compile("(?m)^\\s*\\S.*generation\\s+total (\\d+)K, used (\\d+)K \\[0x(\\p{XDigit}+), 0x\\p{XDigit}+, 0x(\\p{XDigit}+)\\)")
                .matcher(heapInfo);
        while (generation.find()) {
            committed += Long.parseLong(generation.group(1));
            used += Long.parseLong(generation.group(2));
            low = Math.min(low, Long.parseUnsignedLong(generation.group(3), 16));
            high = Math.max(high, Long.parseUnsignedLong(generation.group(4), 16));
        }
        if (committed == 0) {
            throw new IllegalStateException("unexpected GC.heap_info (the tool reads the Serial GC's): " + heapInfo);
        }
        String status = Files.readString(Path.of("/proc/" + serverPid + "/status"));
        return new Mem(open.size(), statusKb(status, "VmRSS"), used, committed, residentKb(low, high), countFds(serverPid));
    }

    /** Resident kB of the server's mappings within [low, high): the Java heap's, from /proc/<pid>/smaps. */
    long residentKb(long low, long high) throws IOException {
        long kb = 0;
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/" + serverPid + "/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = start >= low && end <= high;
            } else if (inside && line.startsWith("Rss:")) {
                kb += Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
            }
        }
        return kb;
    }

    static long statusKb(String status, String field) {
        Matcher m = Pattern.compile("(?m)^" + field + ":\\s+(\\d+) kB").matcher(status);
        if (!m.find()) {
            throw new IllegalStateException(field + " not in /proc/<pid>/status");
        }
        return Long.parseLong(m.group(1));
    }

    Map<String, long[]> histogram() throws Exception {
        Map<String, long[]> classes = new HashMap<>();
        Matcher line = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)").matcher(jcmd("GC.class_histogram"));
        while (line.find()) {
            classes.put(line.group(3), new long[] { Long.parseLong(line.group(1)), Long.parseLong(line.group(2)) });
        }
        return classes;
    }

    static void printHistogramDelta(Map<String, long[]> before, Map<String, long[]> after, int connections) {
        Map<String, long[]> delta = new LinkedHashMap<>();
        long total = 0;
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            long[] d = { e.getValue()[0] - b[0], e.getValue()[1] - b[1] };
            delta.put(e.getKey(), d);
            total += d[1];
        }
        System.out.printf(Locale.ROOT, "%nheap by class, growth from 0 to %,d connections (jcmd GC.class_histogram): %.0f bytes per connection in all%n",
                connections, total / (double) connections);
        System.out.printf(Locale.ROOT, "%12s %10s  %s%n", "bytes/conn", "objs/conn", "class");
        delta.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1])).limit(25)
                .forEach(e -> System.out.printf(Locale.ROOT, "%12.1f %10.2f  %s%n", e.getValue()[1] / (double) connections,
                        e.getValue()[0] / (double) connections, e.getKey()));
    }

    /** jcmd Compiler.queue when nothing compiles: no line under "Current compiles:", each compiler's queue "Empty". */
    private static final Pattern COMPILERS_IDLE = Pattern
            .compile("(?s)Current compiles:\\s*C1 compile queue:\\s*Empty\\s*C2 compile queue:\\s*Empty\\s*$");

    private boolean trimNativeHeap = true;

    /**
     * Waits (10 s at most) until the server's JIT compilers have nothing running or queued: a C2 compilation holds
     * MBs of C heap while it runs (up to 20 MB seen in the gateway, Native Memory Tracking's "Arena Chunk"), which no
     * trim can give back, and a step's figure must not depend on whether one was running at that instant.
     */
    void awaitCompilerIdle() throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            String queue = jcmd("Compiler.queue");
            if (!queue.contains("Current compiles:")) {
                System.out.println("bench: unexpected jcmd Compiler.queue output, not waiting for the compilers: " + queue.strip());
                return;
            }
            if (COMPILERS_IDLE.matcher(queue).find()) {
                return;
            }
            Thread.sleep(200);
        }
        System.out.println("bench: the server's JIT compilers were still busy after 10 s; measuring anyway");
    }

    /** Without it (a JDK before 17.0.9), once said: RSS figures then include what malloc keeps of freed memory. */
    void trimNativeHeap() throws Exception {
        if (trimNativeHeap) {
            try {
                jcmd("System.trim_native_heap");
            } catch (IllegalStateException e) {
                trimNativeHeap = false;
                System.out.println("bench: this JDK cannot trim the server's C heap (jcmd System.trim_native_heap): " + e.getMessage().strip());
            }
        }
    }

    String jcmd(String command) throws Exception {
        Process process = new ProcessBuilder(jcmd, Long.toString(serverPid), command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException("jcmd " + command + " failed: " + out);
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // Messages phase

    /** One timed run: per message its send time, the ok reply time, and the delivery time at the recipient. */
    final class Run {
        final int index;
        final String tag;
        final int rate;
        final int total;
        final int warmupCount;
        final long[] sentAt;
        final AtomicLongArray ackAt;
        final AtomicLongArray receivedAt;
        final AtomicLongArray latency;
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicInteger pushes = new AtomicInteger();
        final AtomicInteger duplicates = new AtomicInteger();
        final AtomicLong okIdSum = new AtomicLong();
        volatile String firstError;

        Run(int index, String tag, int rate, int warmup, int measured) {
            this.index = index;
            this.tag = tag;
            this.rate = rate;
            this.warmupCount = rate * warmup;
            this.total = rate * (warmup + measured);
            this.sentAt = new long[total];
            this.ackAt = new AtomicLongArray(total);
            this.receivedAt = new AtomicLongArray(total);
            this.latency = new AtomicLongArray(total);
        }

        /** A reply to the sender: {@code ["1","<run>:<seq>","room:chat","phx_reply",{"status":"ok","response":{"message":{"id":…}}}]}. */
        void reply(String text, long now) {
            if (text.startsWith("null", text.indexOf(',') + 1)) {
                return; // a push of the server's own (presence_state, presence_diff): no ref
            }
            int refStart = text.indexOf(",\"") + 2;
            int colon = text.indexOf(':', refStart);
            int refEnd = text.indexOf('"', refStart);
            if (colon < 0 || colon > refEnd || Integer.parseInt(text, refStart, colon, 10) != index) {
                return;
            }
            int seq = Integer.parseInt(text, colon + 1, refEnd, 10);
            ackAt.set(seq, now);
            if (text.contains("\"status\":\"ok\"")) {
                int id = text.indexOf("\"id\":") + 5;
                int end = id;
                while (Character.isDigit(text.charAt(end))) {
                    end++;
                }
                okIdSum.addAndGet(Long.parseLong(text, id, end, 10));
                ok.incrementAndGet();
            } else {
                if (errors.getAndIncrement() == 0) {
                    firstError = text;
                }
            }
        }

        /** A push to the recipient; the content is {@code b<tag> <seq> <nanoTime at send>}. */
        void push(String text, long now) {
            int content = text.indexOf("\"content\":\"b");
            if (content < 0) {
                return;
            }
            String[] parts = text.substring(content + 12, text.indexOf('"', content + 12)).split(" ");
            if (!parts[0].equals(tag)) {
                return;
            }
            int seq = Integer.parseInt(parts[1]);
            if (!receivedAt.compareAndSet(seq, 0, now)) {
                duplicates.incrementAndGet();
                return;
            }
            latency.set(seq, now - Long.parseLong(parts[2]));
            pushes.incrementAndGet();
        }
    }

    volatile Run current;

    /**
     * One socket per user, opened and joined in a shuffled order: the server hands accepted
     * connections to its event loops in turn, and opening sender, recipient, sender, … would put
     * every sender on one event loop.
     */
    List<Sock> openShuffled(long[] users, String what) throws Exception {
        List<Sock> socks = socks(users);
        List<Integer> order = new ArrayList<>(IntStream.range(0, socks.size()).boxed().toList());
        java.util.Collections.shuffle(order, new java.util.Random(42));
        String[] tokens = tokens(users);
        int failed = openAll(order.stream().map(socks::get).toList(), order.stream().map(i -> tokens[i]).toArray(String[]::new));
        if (failed > 0) {
            throw new IllegalStateException(failed + " sockets " + what + " failed to open");
        }
        return socks;
    }

    /**
     * The sockets of the message pairs, opened and joined: user 2k-1 (index 2k-2) sends to user 2k (index 2k-1) in
     * conversation k; replies and pushes go to the current {@link Run}.
     */
    List<Sock> openPairs() throws Exception {
        long[] users = new long[2 * pairs];
        for (int i = 0; i < users.length; i++) {
            users[i] = i + 1;
        }
        List<Sock> socks = openShuffled(users, "of the message pairs");
        for (int k = 0; k < pairs; k++) {
            socks.get(2 * k).onText = text -> {
                Run run = current;
                if (run != null && text.startsWith("[\"1\",")) {
                    run.reply(text, System.nanoTime());
                }
            };
            socks.get(2 * k + 1).onText = text -> {
                Run run = current;
                if (run != null && text.startsWith("[null,null,\"room:chat\",\"receive_msg\"")) {
                    run.push(text, System.nanoTime());
                }
            };
        }
        return socks;
    }

    static void printRunHeader() {
        System.out.printf(Locale.ROOT, "%3s %6s %7s %9s %7s %7s %7s %4s %6s %6s %6s %7s %7s %7s %7s %5s %5s %5s %5s %5s %5s %5s %5s %5s  %s%n",
                "run", "target", "sent/s", "stored+dl", "ok", "pushes", "errors", "dup", "p50", "p90", "p99", "p99.9", "max",
                "ackp50", "ackp99", "cpu%", "srv%", "pg%", "gen%", "other", "srvms", "pgms", "load", "lag", "database");
    }

    void messages() throws Exception {
        List<Sock> socks = openPairs();
        System.out.printf(Locale.ROOT, "%nMESSAGES: %d pairs (user 2k-1 sends to user 2k in conversation k, one socket each); "
                + "run 0 warms the service up for %d s at half the first rate; then per run %d s warm-up + %d s measured.%n"
                + "Latency (ms) = the recipient's receive_msg - the send, both on the generator's clock; ack = the sender's ok reply - the send.%n"
                + "stored+dl = receive_msg per second in the measured window; cpu%% = the machine (200 = both cores), srv/pg/gen%% = the service, "
                + "PostgreSQL, this generator (100 = one core), other = the rest of the machine; srvms/pgms = CPU ms per delivered message in the service/PostgreSQL; lag = the generator's worst delay behind its schedule (ms).%n",
                pairs, serverWarmupSeconds, warmupSeconds, measureSeconds);
        printRunHeader();
        String stamp = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000);
        Map<Integer, List<double[]>> byRate = new LinkedHashMap<>();
        if (serverWarmupSeconds > 0) {
            // The message path compiled before anything is measured (run 0 is not in the medians).
            run(new Run(0, stamp + "x0", Math.max(1, rates[0] / 2), serverWarmupSeconds - Math.min(10, serverWarmupSeconds / 2),
                    Math.min(10, serverWarmupSeconds / 2)), socks);
            Thread.sleep(2000);
        }
        int saturatedAt = Integer.MAX_VALUE;
        List<Integer> plan = new ArrayList<>(Arrays.stream(rates).boxed().toList());
        for (int r = 0; r < plan.size(); r++) {
            if (r == rates.length && saturatedAt < Integer.MAX_VALUE) {
                System.out.printf(Locale.ROOT, "    %d/s was not kept up with: the fallback rates, to find the knee%n", saturatedAt);
            }
            if (plan.get(r) >= saturatedAt) {
                System.out.printf(Locale.ROOT, "%3d %6d  skipped: %d/s was not kept up with%n", r + 1, plan.get(r), saturatedAt);
                continue;
            }
            Run run = new Run(r + 1, stamp + "x" + (r + 1), plan.get(r), warmupSeconds, measureSeconds);
            double[] figures = run(run, socks);
            byRate.computeIfAbsent(run.rate, x -> new ArrayList<>()).add(figures);
            if (figures[0] < 0.9 * run.rate || figures[3] > 1000) {
                if (saturatedAt == Integer.MAX_VALUE) {
                    Arrays.stream(fallbackRates).forEach(plan::add);
                }
                saturatedAt = Math.min(saturatedAt, run.rate);
            }
            Thread.sleep(2000);
        }
        System.out.printf(Locale.ROOT, "%nmedians by target rate: %6s %4s %9s %6s %6s %6s %7s %7s%n", "target", "runs", "stored+dl", "p50",
                "p90", "p99", "max", "ackp99");
        for (Map.Entry<Integer, List<double[]>> e : byRate.entrySet()) {
            List<double[]> runs = e.getValue();
            System.out.printf(Locale.ROOT, "%24s %6d %4d %9.0f %6.1f %6.1f %6.1f %7.1f %7.1f%n", "", e.getKey(), runs.size(),
                    median(runs, 0), median(runs, 1), median(runs, 2), median(runs, 3), median(runs, 4), median(runs, 5));
        }
        current = null;
        closeAll(socks);
    }

    // ---------------------------------------------------------------------------------------------
    // Group fan-out

    /** One timed group run: per message its send time and ok reply; per delivery its latency. */
    final class GroupRun {
        final String tag;
        final int total;
        final int warmupCount;
        final int receivers;
        final long[] sentAt;
        final AtomicLongArray ackAt;
        /** Latency of each delivery of each message, {@code [seq * receivers + k]}, filled in arrival order per message. */
        final AtomicLongArray latency;
        final AtomicIntegerArray deliveries;
        final AtomicLongArray lastDeliveryAt;
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicInteger duplicates = new AtomicInteger();
        final AtomicInteger pushes = new AtomicInteger();
        final AtomicLong okIdSum = new AtomicLong();
        volatile String firstError;

        GroupRun(String tag, int rate, int warmup, int measured, int receivers) {
            this.tag = tag;
            this.receivers = receivers;
            this.warmupCount = rate * warmup;
            this.total = rate * (warmup + measured);
            this.sentAt = new long[total];
            this.ackAt = new AtomicLongArray(total);
            this.latency = new AtomicLongArray(total * receivers);
            this.deliveries = new AtomicIntegerArray(total);
            this.lastDeliveryAt = new AtomicLongArray(total);
        }

        void reply(String text, long now) {
            if (text.startsWith("null", text.indexOf(',') + 1)) {
                return; // a push of the server's own (presence_state, presence_diff): no ref
            }
            int refStart = text.indexOf(",\"") + 2;
            int colon = text.indexOf(':', refStart);
            int refEnd = text.indexOf('"', refStart);
            if (colon < 0 || colon > refEnd || !text.substring(refStart, colon).equals("g")) {
                return;
            }
            int seq = Integer.parseInt(text, colon + 1, refEnd, 10);
            ackAt.set(seq, now);
            if (text.contains("\"status\":\"ok\"")) {
                int id = text.indexOf("\"id\":") + 5;
                int end = id;
                while (Character.isDigit(text.charAt(end))) {
                    end++;
                }
                okIdSum.addAndGet(Long.parseLong(text, id, end, 10));
                ok.incrementAndGet();
            } else if (errors.getAndIncrement() == 0) {
                firstError = text;
            }
        }

        /** A push to one member; {@code seen} is that socket's record of the messages it got. */
        void push(String text, long now, java.util.BitSet seen) {
            int content = text.indexOf("\"content\":\"g");
            if (content < 0) {
                return;
            }
            String[] parts = text.substring(content + 12, text.indexOf('"', content + 12)).split(" ");
            if (!parts[0].equals(tag)) {
                return;
            }
            int seq = Integer.parseInt(parts[1]);
            if (seen.get(seq)) {
                duplicates.incrementAndGet();
                return;
            }
            seen.set(seq);
            int k = deliveries.getAndIncrement(seq);
            if (k < receivers) {
                latency.set(seq * receivers + k, now - Long.parseLong(parts[2]));
            }
            lastDeliveryAt.accumulateAndGet(seq, now, Math::max);
            pushes.incrementAndGet();
        }
    }

    volatile GroupRun currentGroup;

    /**
     * A group of {@code groupMembers} (conversation {@code pairs + 2}, users 1..n), one socket each;
     * random members send {@code groupRate} messages per second to it; each message is pushed to
     * the {@code n - 1} other members' sockets.
     */
    void group() throws Exception {
        int n = groupMembers;
        long conversation = pairs + 2L;
        long[] users = new long[n];
        for (int i = 0; i < n; i++) {
            users[i] = i + 1;
        }
        List<Sock> socks = socks(users);
        String[] tokens = tokens(users);
        int failed = openAll(socks, tokens);
        if (failed > 0) {
            throw new IllegalStateException(failed + " member sockets failed to open");
        }
        for (Sock sock : socks) {
            java.util.BitSet[] seen = { new java.util.BitSet() };
            GroupRun[] seenFor = { null };
            sock.onText = text -> {
                GroupRun run = currentGroup;
                if (run == null) {
                    return;
                }
                long now = System.nanoTime();
                if (text.startsWith("[\"1\",")) {
                    run.reply(text, now);
                } else if (text.startsWith("[null,null,\"room:chat\",\"receive_msg\"")) {
                    if (seenFor[0] != run) {
                        seenFor[0] = run;
                        seen[0] = new java.util.BitSet(run.total);
                    }
                    run.push(text, now, seen[0]);
                }
            };
        }
        System.out.printf(Locale.ROOT, "%nGROUP: %d members (users 1..%d, conversation %d), one socket each, all on this service; "
                + "random members send %d messages/s to the group; each is pushed to the %d other members' sockets.%n"
                + "Per run %d s warm-up + %d s measured (run 0: %d s more warm-up, not counted). Latency (ms) = a member's receive_msg - the send, "
                + "over every delivery; ack = the sender's ok reply - the send.%n"
                + "srv ms/dl, pg ms/dl = CPU of the service, PostgreSQL per delivery (ms); srv ms/msg per message.%n",
                n, n, conversation, groupRate, n - 1, warmupSeconds, measureSeconds, serverWarmupSeconds);
        System.out.printf(Locale.ROOT, "%3s %6s %8s %9s %9s %6s %5s %4s %7s %6s %6s %6s %7s %7s %6s %6s %5s %5s %5s %5s %9s %9s %9s %5s  %s%n",
                "run", "msgs/s", "expected", "delivered", "dl/s", "ok", "err", "dup", "missing", "p50", "p90", "p99", "max", "ackp99",
                "cpu%", "srv%", "pg%", "gen%", "other", "load", "srvms/dl", "pgms/dl", "srvms/msg", "lag", "database");
        String stamp = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000);
        List<double[]> results = new ArrayList<>();
        for (int r = 0; r <= groupRuns; r++) {
            int warmup = r == 0 ? serverWarmupSeconds : warmupSeconds;
            if (r == 0 && serverWarmupSeconds == 0) {
                continue;
            }
            GroupRun run = new GroupRun(stamp + "g" + r, groupRate, warmup, r == 0 ? Math.min(10, measureSeconds) : measureSeconds, n - 1);
            double[] figures = groupRun(r, run, socks, conversation);
            if (r > 0) {
                results.add(figures);
            }
            Thread.sleep(2000);
        }
        System.out.printf(Locale.ROOT, "%nmedians of runs 1..%d: deliveries/s %.0f (every push: %d/s), p50 %.1f ms, p99 %.1f ms, "
                + "service CPU %.3f ms per delivery (%.2f ms per message), PostgreSQL %.3f ms per delivery%n", results.size(),
                median(results, 0), groupRate * (n - 1), median(results, 1), median(results, 2), median(results, 3),
                median(results, 4), median(results, 5));
        currentGroup = null;
        closeAll(socks);
    }

    /** Returns {deliveries/s, p50, p99, srv ms/delivery, srv ms/message, pg ms/delivery}. */
    double[] groupRun(int index, GroupRun run, List<Sock> socks, long conversation) throws Exception {
        String vacuum = psql("VACUUM ANALYZE conversations, conversation_members, messages");
        if (!vacuum.isEmpty()) {
            System.out.println("    VACUUM: " + vacuum);
        }
        currentGroup = run;
        java.util.Random random = new java.util.Random(index);
        long measuredFrom = 0;
        long[] cpuMeasured = null;
        long srvMeasured = 0, pgMeasured = 0, genMeasured = 0;
        long maxLag = 0;
        long start = System.nanoTime();
        int seq = 0;
        long rate = groupRate;
        while (seq < run.total) {
            long now = System.nanoTime();
            long due = Math.min(run.total, (now - start) * rate / 1_000_000_000L);
            while (seq < due) {
                if (seq == run.warmupCount) {
                    measuredFrom = System.nanoTime();
                    cpuMeasured = machineTicks();
                    srvMeasured = procTicks(serverPid);
                    pgMeasured = postgresTicks();
                    genMeasured = procTicks(ProcessHandle.current().pid());
                }
                long sent = System.nanoTime();
                maxLag = Math.max(maxLag, sent - (start + seq * 1_000_000_000L / rate));
                run.sentAt[seq] = sent;
                String frame = "[\"1\",\"g:" + seq + "\",\"room:chat\",\"send_msg\",{\"conv\":" + conversation
                        + ",\"message\":\"g" + run.tag + " " + seq + " " + sent + "\"}]";
                socks.get(random.nextInt(socks.size())).ws.writeTextMessage(frame);
                seq++;
            }
            LockSupport.parkNanos(1_000_000);
        }
        long measuredTo = System.nanoTime();
        long[] cpu1 = machineTicks();
        long srv1 = procTicks(serverPid);
        long pg1 = postgresTicks();
        long gen1 = procTicks(ProcessHandle.current().pid());
        String load = loadAverage().split(" ")[0];
        long expectedAll = (long) run.total * run.receivers;
        long deadline = measuredTo + TimeUnit.MINUTES.toNanos(2);
        while ((run.ok.get() + run.errors.get() < run.total || run.pushes.get() < (long) run.ok.get() * run.receivers)
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(500);

        double seconds = (measuredTo - measuredFrom) / 1e9;
        int measured = run.total - run.warmupCount;
        long expected = (long) measured * run.receivers;
        long delivered = 0;
        long inWindow = 0;
        long[] latencies = new long[(int) expected];
        long[] acks = new long[measured];
        int nl = 0, na = 0;
        for (int i = run.warmupCount; i < run.total; i++) {
            int got = Math.min(run.deliveries.get(i), run.receivers);
            delivered += got;
            for (int k = 0; k < got; k++) {
                long latency = run.latency.get(i * run.receivers + k);
                latencies[nl++] = latency;
                if (run.sentAt[i] + latency < measuredTo) {
                    inWindow++;
                }
            }
            if (run.ackAt.get(i) != 0) {
                acks[na++] = run.ackAt.get(i) - run.sentAt[i];
            }
        }
        latencies = Arrays.copyOf(latencies, nl);
        acks = Arrays.copyOf(acks, na);
        Arrays.sort(latencies);
        Arrays.sort(acks);
        double perSecond = inWindow / seconds;
        long machine = cpu1[0] - cpuMeasured[0];
        long busy = machine - (cpu1[1] - cpuMeasured[1]);
        double tickSeconds = seconds * CLOCK_TICKS;
        double cpu = 100.0 * busy / machine * Runtime.getRuntime().availableProcessors();
        double srv = 100.0 * (srv1 - srvMeasured) / tickSeconds;
        double pg = 100.0 * (pg1 - pgMeasured) / tickSeconds;
        double gen = 100.0 * (gen1 - genMeasured) / tickSeconds;
        double srvMsPerDelivery = 10 * srv / perSecond;
        double srvMsPerMessage = 10 * srv / (measured / seconds);
        double pgMsPerDelivery = 10 * pg / perSecond;
        String check = groupDatabaseCheck(run);
        System.out.printf(Locale.ROOT, "%3d %6.1f %8d %9d %9.0f %6d %5d %4d %7d %6.1f %6.1f %6.1f %7.1f %7.1f %6.0f %6.0f %5.0f %5.0f %5.0f %5s %9.4f %9.4f %9.3f %5.0f  %s%n",
                index, measured / seconds, expected, delivered, perSecond, run.ok.get(), run.errors.get(), run.duplicates.get(),
                expectedAll - run.pushes.get(), ms(latencies, 50), ms(latencies, 90), ms(latencies, 99), ms(latencies, 100),
                ms(acks, 99), cpu, srv, pg, gen, cpu - srv - pg - gen, load, srvMsPerDelivery, pgMsPerDelivery, srvMsPerMessage,
                maxLag / 1e6, check);
        if (run.firstError != null) {
            System.out.println("    first error reply: " + run.firstError);
        }
        return new double[] { perSecond, ms(latencies, 50), ms(latencies, 99), srvMsPerDelivery, srvMsPerMessage, pgMsPerDelivery };
    }

    String groupDatabaseCheck(GroupRun run) throws Exception {
        String out = psql("SELECT count(*), count(DISTINCT content), coalesce(sum(id), 0) FROM messages WHERE content LIKE 'g" + run.tag + " %'");
        String[] f = out.split(" ");
        long rows = Long.parseLong(f[0]);
        boolean good = rows == run.ok.get() && Long.parseLong(f[1]) == rows && Long.parseLong(f[2]) == run.okIdSum.get();
        return (good ? "OK " : "MISMATCH ") + rows + " rows";
    }

    static double median(List<double[]> runs, int column) {
        double[] values = runs.stream().mapToDouble(f -> f[column]).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /** Runs at the start and at the end of each measured window of {@link #run} (bus-bench.sh reads its counters there). */
    Runnable windowEdge = () -> {
    };

    /** Returns {delivered/s, p50, p90, p99, max, ack p99}. */
    double[] run(Run run, List<Sock> socks) throws Exception {
        // Autovacuum is off on this machine's PostgreSQL: each run starts from vacuumed, analysed
        // tables, as autovacuum would keep them in production.
        String vacuum = psql("VACUUM ANALYZE conversations, messages");
        if (!vacuum.isEmpty()) {
            System.out.println("    VACUUM: " + vacuum);
        }
        current = run;
        long measuredFrom = 0;
        long[] cpuMeasured = null;
        long srvMeasured = 0, pgMeasured = 0, genMeasured = 0;
        int warmupCount = run.warmupCount;
        long maxLag = 0;
        long start = System.nanoTime();
        int seq = 0;
        StringBuilder frame = new StringBuilder(200);
        while (seq < run.total) {
            long now = System.nanoTime();
            long due = Math.min(run.total, (now - start) * run.rate / 1_000_000_000L);
            while (seq < due) {
                if (seq == warmupCount) {
                    measuredFrom = System.nanoTime();
                    cpuMeasured = machineTicks();
                    srvMeasured = procTicks(serverPid);
                    pgMeasured = postgresTicks();
                    genMeasured = procTicks(ProcessHandle.current().pid());
                    windowEdge.run();
                }
                int pair = seq % pairs;
                long sent = System.nanoTime();
                maxLag = Math.max(maxLag, sent - (start + seq * 1_000_000_000L / run.rate));
                run.sentAt[seq] = sent;
                frame.setLength(0);
                frame.append("[\"1\",\"").append(run.index).append(':').append(seq).append("\",\"room:chat\",\"send_msg\",{\"user\":")
                        .append(2 * pair + 2).append(",\"conv\":").append(pair + 1).append(",\"message\":\"b").append(run.tag)
                        .append(' ').append(seq).append(' ').append(sent).append("\"}]");
                socks.get(2 * pair).ws.writeTextMessage(frame.toString());
                seq++;
            }
            LockSupport.parkNanos(200_000);
        }
        long measuredTo = System.nanoTime();
        long[] cpu1 = machineTicks();
        long srv1 = procTicks(serverPid);
        long pg1 = postgresTicks();
        long gen1 = procTicks(ProcessHandle.current().pid());
        windowEdge.run();
        String load = loadAverage().split(" ")[0];
        // Drain: every reply and push (a backlog would spoil the next run), for at most 5 minutes.
        long deadline = measuredTo + TimeUnit.MINUTES.toNanos(5);
        while ((run.ok.get() + run.errors.get() < run.total || run.pushes.get() < run.ok.get()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        double drainSeconds = (System.nanoTime() - measuredTo) / 1e9;
        Thread.sleep(500);

        double seconds = (measuredTo - measuredFrom) / 1e9;
        int delivered = 0;
        long[] latencies = new long[run.total - warmupCount];
        long[] acks = new long[run.total - warmupCount];
        int n = 0, na = 0;
        for (int i = 0; i < run.total; i++) {
            long received = run.receivedAt.get(i);
            if (received >= measuredFrom && received < measuredTo) {
                delivered++;
            }
            if (i >= warmupCount) {
                if (received != 0) {
                    latencies[n++] = run.latency.get(i);
                }
                if (run.ackAt.get(i) != 0) {
                    acks[na++] = run.ackAt.get(i) - run.sentAt[i];
                }
            }
        }
        latencies = Arrays.copyOf(latencies, n);
        acks = Arrays.copyOf(acks, na);
        Arrays.sort(latencies);
        Arrays.sort(acks);
        double deliveredPerSecond = delivered / seconds;
        double sentPerSecond = (run.total - warmupCount) / seconds;
        long machine = (cpu1[0] - cpuMeasured[0]);
        long busy = machine - (cpu1[1] - cpuMeasured[1]);
        double tickSeconds = seconds * CLOCK_TICKS;
        String check = databaseCheck(run);
        double cpu = 100.0 * busy / machine * Runtime.getRuntime().availableProcessors();
        double srv = 100.0 * (srv1 - srvMeasured) / tickSeconds;
        double pg = 100.0 * (pg1 - pgMeasured) / tickSeconds;
        double gen = 100.0 * (gen1 - genMeasured) / tickSeconds;
        System.out.printf(Locale.ROOT, "%3d %6d %7.0f %9.0f %7d %7d %7d %4d %6.1f %6.1f %6.1f %7.1f %7.1f %7.1f %7.1f %5.0f %5.0f %5.0f %5.0f %5.0f %5.2f %5.2f %5s %5.0f  %s%n",
                run.index, run.rate, sentPerSecond, deliveredPerSecond, run.ok.get(), run.pushes.get(), run.errors.get(),
                run.duplicates.get(), ms(latencies, 50), ms(latencies, 90), ms(latencies, 99), ms(latencies, 99.9), ms(latencies, 100),
                ms(acks, 50), ms(acks, 99), cpu, srv, pg, gen, cpu - srv - pg - gen, 10 * srv / deliveredPerSecond,
                10 * pg / deliveredPerSecond, load, maxLag / 1e6, check);
        if (run.firstError != null) {
            System.out.println("    first error reply: " + run.firstError);
        }
        if (run.ok.get() + run.errors.get() < run.total) {
            System.out.printf(Locale.ROOT, "    %d sends got no reply within 5 minutes%n", run.total - run.ok.get() - run.errors.get());
        }
        if (drainSeconds > 1) {
            System.out.printf(Locale.ROOT, "    the last replies and pushes came %.1f s after the last send: a backlog%n", drainSeconds);
        }
        return new double[] { deliveredPerSecond, ms(latencies, 50), ms(latencies, 90), ms(latencies, 99), ms(latencies, 100),
                ms(acks, 99) };
    }

    static double ms(long[] sorted, double percentile) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    String psql(String sql) throws Exception {
        Process process = new ProcessBuilder("psql", "-X", "-q", "-tA", "-F", " ", "-d", db, "-c", sql).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (process.waitFor() != 0) {
            throw new IllegalStateException("psql failed: " + out);
        }
        return out;
    }

    /** Every ok'd message stored exactly once: as many rows as ok replies, distinct contents, the same ids. */
    String databaseCheck(Run run) throws Exception {
        String out = psql("SELECT count(*), count(DISTINCT content), coalesce(sum(id), 0) FROM messages WHERE content LIKE 'b" + run.tag + " %'");
        String[] f = out.split(" ");
        long rows = Long.parseLong(f[0]);
        long distinct = Long.parseLong(f[1]);
        long idSum = Long.parseLong(f[2]);
        boolean good = rows == run.ok.get() && distinct == rows && idSum == run.okIdSum.get();
        return (good ? "OK " : "MISMATCH ") + rows + " rows" + (distinct == rows ? "" : ", " + distinct + " distinct")
                + (idSum == run.okIdSum.get() ? "" : ", ids differ from the ok replies'");
    }

    // ---------------------------------------------------------------------------------------------
    // Read markers and typing (issue 16)

    final int probeRate = Integer.getInteger("bench.probeRate", 100);
    /** Series of runs, {@code mix=rate,rate,…;…}: mix both (typing and mark_read alternately), typing or mark_read (only). */
    final String signalSeries = System.getProperty("bench.signalSeries", "both=2000,3500,5000,5000,5000,6000,8000");
    final double signalGoalRate = Double.parseDouble(System.getProperty("bench.goalRate", "5000"));
    final double signalGoalP99 = Double.parseDouble(System.getProperty("bench.goalP99", "50"));
    /**
     * How long the signals generator sleeps between two looks at its schedule (bench.tickMicros, 1,000 µs): the events
     * due meanwhile go out together, one task per event loop (see {@link LoopWrites}).
     */
    final long signalTickNanos = 1000L * Integer.getInteger("bench.tickMicros", 1000);

    /**
     * Frames to write, handed to the event loop of each one's socket in a single task per loop and tick. Until
     * 2026-12-07 the generator thread wrote each frame itself (Vert.x then queued one task per frame to the socket's
     * event loop and woke that loop for it) and looked at its schedule every 200 µs: that thread took over a quarter
     * of the tool's CPU, more than half of it in the kernel, on a machine whose two cores the service and PostgreSQL
     * share (README, "Benchmark: read state and typing"). The send time stays the generator's, taken before the
     * hand-over, so latencies include the hand-over as before.
     */
    static final class LoopWrites {
        private final Map<Context, List<Object>> byContext = new HashMap<>(4);

        void add(Sock sock, String frame) {
            List<Object> frames = byContext.computeIfAbsent(sock.context, k -> new ArrayList<>());
            frames.add(sock.ws);
            frames.add(frame);
        }

        void flush() {
            for (Map.Entry<Context, List<Object>> e : byContext.entrySet()) {
                List<Object> frames = e.getValue();
                if (frames.isEmpty()) {
                    continue;
                }
                Object[] batch = frames.toArray();
                frames.clear();
                Runnable write = () -> {
                    for (int i = 0; i < batch.length; i += 2) {
                        ((WebSocket) batch[i]).writeTextMessage((String) batch[i + 1]);
                    }
                };
                if (e.getKey() == null) {
                    write.run();
                } else {
                    e.getKey().runOnContext(v -> write.run());
                }
            }
        }
    }

    /** A conversation of the signals load: its actor marks read (its watcher's messages, in order) and types; its watcher gets the pushes. */
    record SignalConversation(long id, long actor, long watcher, long[] messageIds) {
    }

    /**
     * One timed signals run. Event {@code seq} goes to conversation {@code c = seq % C}, its round {@code seq / C}; with
     * mix both each conversation's rounds alternate typing and mark_read, the even conversations starting with typing
     * and the odd ones with mark_read (so the two kinds interleave all along), else all are of the one kind; the k-th mark_read of a
     * conversation marks its k-th message (markers are reset before each run, so every mark_read moves a marker and
     * is announced). A {@code read} push is matched to its mark_read by (conversation, message id); a {@code typing}
     * push to the conversation's last typing sent.
     */
    final class SignalRun {
        final String mix;
        final int conversations;
        final int index;
        final int rate;
        final int total;
        final int warmupCount;
        final int probes;
        final int warmupProbes;
        final long[] sentAt;
        final AtomicLongArray replyAt;
        /** 1 ok, 2 error, per event. */
        final AtomicIntegerArray status;
        final AtomicLongArray pushAt;
        final AtomicIntegerArray lastTyping;
        final long[] probeSentAt;
        final AtomicLongArray probeAt;
        final AtomicInteger errors = new AtomicInteger();
        final AtomicInteger readPushes = new AtomicInteger();
        final AtomicInteger typingPushes = new AtomicInteger();
        final AtomicInteger unmatched = new AtomicInteger();
        final AtomicInteger duplicates = new AtomicInteger();
        volatile String firstError;

        SignalRun(String mix, int index, int rate, int warmup, int measured, int conversations) {
            this.mix = mix;
            this.conversations = conversations;
            this.index = index;
            this.rate = rate;
            this.warmupCount = rate * warmup;
            this.total = rate * (warmup + measured);
            this.warmupProbes = probeRate * warmup;
            this.probes = probeRate * (warmup + measured);
            this.sentAt = new long[total];
            this.replyAt = new AtomicLongArray(total);
            this.status = new AtomicIntegerArray(total);
            this.pushAt = new AtomicLongArray(total);
            this.lastTyping = new AtomicIntegerArray(conversations);
            for (int c = 0; c < conversations; c++) {
                lastTyping.set(c, -1);
            }
            this.probeSentAt = new long[probes];
            this.probeAt = new AtomicLongArray(probes);
        }

        /** {@code ["1","<run>:<seq>","room:chat","phx_reply",{"status":…}]}, or a probe's {@code [null,"p<run>:<n>","phoenix","phx_reply",…]}. */
        void reply(String text, long now, boolean probe) {
            int refStart = text.indexOf(",\"") + (probe ? 3 : 2);
            int colon = text.indexOf(':', refStart);
            int refEnd = text.indexOf('"', refStart);
            if (colon < 0 || colon > refEnd || Integer.parseInt(text, refStart, colon, 10) != index) {
                return;
            }
            int seq = Integer.parseInt(text, colon + 1, refEnd, 10);
            if (probe) {
                probeAt.compareAndSet(seq, 0, now);
                return;
            }
            replyAt.set(seq, now);
            if (text.contains("\"status\":\"ok\"")) {
                status.set(seq, 1);
            } else {
                status.set(seq, 2);
                if (errors.getAndIncrement() == 0) {
                    firstError = text;
                }
            }
        }

        boolean typing(int seq) {
            return mix.equals("typing") || (mix.equals("both") && (seq / conversations + seq % conversations) % 2 == 0);
        }

        /** The k of the event: the how-manieth of its kind on its conversation. */
        int k(int seq) {
            return mix.equals("both") ? seq / conversations / 2 : seq / conversations;
        }

        /** The event that is conversation c's k-th mark_read. */
        int markReadSeq(int c, int k) {
            return mix.equals("both") ? c + conversations * (2 * k + 1 - c % 2) : c + conversations * k;
        }

        void push(int seq, long now, AtomicInteger counter) {
            if (seq < 0 || seq >= total) {
                unmatched.incrementAndGet();
            } else if (!pushAt.compareAndSet(seq, 0, now)) {
                duplicates.incrementAndGet();
            } else {
                counter.incrementAndGet();
            }
        }
    }

    volatile SignalRun currentSignals;

    static long jsonLong(String text, String field) {
        int start = text.indexOf("\"" + field + "\":") + field.length() + 3;
        int end = start;
        while (end < text.length() && Character.isDigit(text.charAt(end))) {
            end++;
        }
        return Long.parseLong(text, start, end, 10);
    }

    /**
     * The signals load: the conversations of {@code <dir>/signals.csv} (id, actor, watcher, the watcher's message ids),
     * one socket per user; open-loop at each rate of {@code bench.rates}, then the medians per rate against the
     * heartbeat round trips measured in the same runs.
     */
    void signals() throws Exception {
        List<SignalConversation> conversations = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("signals.csv"))) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            conversations.add(new SignalConversation(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                    Arrays.stream(f[3].trim().split(" ")).mapToLong(Long::parseLong).toArray()));
        }
        int n = conversations.size();
        long[] ids = conversations.stream().mapToLong(SignalConversation::id).toArray();
        long[] users = conversations.stream().flatMapToLong(c -> java.util.stream.LongStream.of(c.actor(), c.watcher()))
                .distinct().sorted().toArray();
        int fewestMessages = conversations.stream().mapToInt(c -> c.messageIds().length).min().orElse(0);
        int topRate = Arrays.stream(signalSeries.split(";")).flatMap(series -> Arrays.stream(series.split("=")[1].split(",")))
                .mapToInt(r -> Integer.parseInt(r.trim())).max().orElse(0);
        int neededMessages = (int) ((long) topRate * (Math.max(serverWarmupSeconds, warmupSeconds + measureSeconds)) / n + 1);
        if (fewestMessages < neededMessages) {
            throw new IllegalStateException("conversations need " + neededMessages + " messages each for " + topRate
                    + " events/s, they have " + fewestMessages + " (BENCH_SIGNAL_MESSAGES)");
        }
        List<Sock> socks = openShuffled(users, "of the signals' users");
        Sock[] actors = new Sock[n];
        Map<Long, Sock> byUser = new HashMap<>();
        socks.forEach(sock -> byUser.put(sock.userId, sock));
        for (int c = 0; c < n; c++) {
            actors[c] = byUser.get(conversations.get(c).actor());
        }
        for (Sock sock : socks) {
            sock.onText = text -> {
                SignalRun run = currentSignals;
                if (run == null) {
                    return;
                }
                long now = System.nanoTime();
                if (text.startsWith("[\"1\",\"")) { // a reply; the channel's pushes (presence) have no ref
                    run.reply(text, now, false);
                } else if (text.startsWith("[null,\"p")) {
                    run.reply(text, now, true);
                } else if (text.startsWith("[null,null,\"room:chat\",\"read\"")) {
                    int c = Arrays.binarySearch(ids, jsonLong(text, "conversation_id"));
                    int k = c < 0 ? -1 : Arrays.binarySearch(conversations.get(c).messageIds(), jsonLong(text, "message_id"));
                    run.push(k < 0 ? -1 : run.markReadSeq(c, k), now, run.readPushes);
                } else if (text.startsWith("[null,null,\"room:chat\",\"typing\"")) {
                    int c = Arrays.binarySearch(ids, jsonLong(text, "conversation_id"));
                    run.push(c < 0 ? -1 : run.lastTyping.get(c), now, run.typingPushes);
                }
            };
        }
        String signalRate = System.getenv().getOrDefault("CHAT_SIGNAL_RATE", "20 (the default)");
        System.out.printf(Locale.ROOT, "%nSIGNALS: %,d users, one socket each; %,d direct conversations (%d per user as the actor, %d as the watcher), "
                + "each with %d+ messages of its watcher. Event seq goes to conversation seq %% %d, sent by its actor: typing, or mark_read "
                + "of the watcher's next message (markers reset before each run, so every mark_read moves one and is pushed as `read` to the "
                + "watcher).%n"
                + "Per user: rate/%d events/s (service CHAT_SIGNAL_RATE=%s per user); each conversation gets a typing every %d/rate s, "
                + "twice that in the mixed load (the service forwards one per user and conversation per 2 s).%n"
                + "Run 0 warms the service up (mixed) for %d s at half the first rate; then per run %d s warm-up + %d s measured. Baseline: "
                + "heartbeats (%d/s over the same sockets, in the same runs): hb = the heartbeat's round trip.%n"
                + "Latency (ms) = the watcher's read/typing push - the actor's send, both on this generator's clock; ack = the actor's ok reply - the send. "
                + "ok/s = ok replies in the measured window, push/s = pushes received in it; fwd = typing pushes per typing ok'd.%n"
                + "cpu%% = the machine (200 = both cores, the generator included), srv/pg/gen%% = the service, PostgreSQL, this generator "
                + "(100 = one core); lag = the generator's worst delay behind its schedule (ms).%n",
                users.length, n, n / users.length, n / users.length, fewestMessages, n, users.length, signalRate, n, serverWarmupSeconds,
                warmupSeconds, measureSeconds, probeRate);
        System.out.printf(Locale.ROOT, "%3s %6s %7s %7s %7s %5s %5s %6s %6s %6s %6s %6s %6s %7s %6s %6s %6s %6s %5s %5s %5s %5s %5s %5s %5s%n",
                "run", "target", "sent/s", "ok/s", "push/s", "err", "fwd", "rd50", "rd99", "ty50", "ty99", "p50", "p99", "max", "ack50",
                "ack99", "hb50", "hb99", "cpu%", "srv%", "pg%", "gen%", "load", "lag", "miss");
        int runIndex = 0;
        if (serverWarmupSeconds > 0) {
            int first = Integer.parseInt(signalSeries.split("=")[1].split(",")[0].trim());
            signalRun(new SignalRun("both", runIndex++, Math.max(1, first / 2), serverWarmupSeconds - Math.min(10, serverWarmupSeconds / 2),
                    Math.min(10, serverWarmupSeconds / 2), n), conversations, actors, socks);
            Thread.sleep(2000);
        }
        Map<String, List<double[]>> byRate = new LinkedHashMap<>();
        for (String series : signalSeries.split(";")) {
            String mix = series.split("=")[0].trim();
            int[] seriesRates = Arrays.stream(series.split("=")[1].split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            System.out.printf(Locale.ROOT, "-- %s: %s%n", mix, mix.equals("both") ? "typing and mark_read alternately (the issue's load)"
                    : "only " + mix + " (where the time goes)");
            int saturatedAt = Integer.MAX_VALUE;
            for (int rate : seriesRates) {
                runIndex++;
                if (rate >= saturatedAt) {
                    System.out.printf(Locale.ROOT, "%3d %6d  skipped: %d/s was not kept up with%n", runIndex, rate, saturatedAt);
                    continue;
                }
                double[] figures = signalRun(new SignalRun(mix, runIndex, rate, warmupSeconds, measureSeconds, n), conversations, actors, socks);
                byRate.computeIfAbsent(mix + " " + rate, x -> new ArrayList<>()).add(figures);
                if (figures[0] < 0.9 * rate || figures[3] > 1000) {
                    saturatedAt = Math.min(saturatedAt, rate);
                }
                Thread.sleep(2000);
            }
        }
        System.out.printf(Locale.ROOT, "%nmedians by load and target rate (baseline: heartbeat round trip in the same runs):%n%-16s %4s %7s %7s %7s %7s %7s %7s %7s %7s %9s %9s%n",
                "load", "runs", "ok/s", "push/s", "p50", "p99", "hb50", "hb99", "rd99", "ty99", "p50/hb50", "p99/hb99");
        for (Map.Entry<String, List<double[]>> e : byRate.entrySet()) {
            List<double[]> runs = e.getValue();
            System.out.printf(Locale.ROOT, "%-16s %4d %7.0f %7.0f %7.1f %7.1f %7.2f %7.1f %7.1f %7.1f %8.1fx %8.1fx%n", e.getKey(), runs.size(),
                    median(runs, 0), median(runs, 1), median(runs, 2), median(runs, 3), median(runs, 4), median(runs, 5), median(runs, 6),
                    median(runs, 7), median(runs, 2) / median(runs, 4), median(runs, 3) / median(runs, 5));
        }
        int best = 0;
        double[] bestFigures = null;
        for (Map.Entry<String, List<double[]>> e : byRate.entrySet()) {
            int rate = Integer.parseInt(e.getKey().split(" ")[1]);
            if (e.getKey().startsWith("both ") && median(e.getValue(), 0) >= 0.95 * rate && median(e.getValue(), 3) < signalGoalP99
                    && rate > best) {
                best = rate;
                bestFigures = new double[] { median(e.getValue(), 0), median(e.getValue(), 3) };
            }
        }
        System.out.printf(Locale.ROOT, "goal >= %.0f events/s (typing and mark_read) with p99 < %.0f ms to the other member's socket: %s%n",
                signalGoalRate, signalGoalP99, bestFigures == null ? "NOT MET at any rate run"
                        : (best >= signalGoalRate ? "MET" : "NOT MET") + String.format(Locale.ROOT,
                                " (highest target rate kept up with at p99 < %.0f ms: %d/s, %.0f ok/s, p99 %.1f ms)", signalGoalP99,
                                best, bestFigures[0], bestFigures[1]));
        currentSignals = null;
        closeAll(socks);
    }

    /** Returns {ok/s, push/s, p50, p99, hb p50, hb p99, read p99, typing p99}. */
    double[] signalRun(SignalRun run, List<SignalConversation> conversations, Sock[] actors, List<Sock> socks) throws Exception {
        String reset = psql("UPDATE conversation_members SET last_read_id = NULL WHERE last_read_id IS NOT NULL");
        String vacuum = psql("VACUUM ANALYZE conversation_members, messages");
        if (!vacuum.isEmpty() || !reset.isEmpty()) {
            System.out.println("    reset, VACUUM: " + reset + " " + vacuum);
        }
        int n = conversations.size();
        currentSignals = run;
        long measuredFrom = 0;
        Cpu cpu0 = null;
        long maxLag = 0;
        long start = System.nanoTime();
        int seq = 0;
        int probe = 0;
        StringBuilder frame = new StringBuilder(120);
        LoopWrites writes = new LoopWrites();
        while (seq < run.total) {
            long now = System.nanoTime();
            long due = Math.min(run.total, (now - start) * run.rate / 1_000_000_000L);
            while (seq < due) {
                if (seq == run.warmupCount) {
                    measuredFrom = System.nanoTime();
                    cpu0 = Cpu.now(serverPid);
                }
                int c = seq % n;
                SignalConversation conversation = conversations.get(c);
                long sent = System.nanoTime();
                maxLag = Math.max(maxLag, sent - (start + seq * 1_000_000_000L / run.rate));
                run.sentAt[seq] = sent;
                frame.setLength(0);
                frame.append("[\"1\",\"").append(run.index).append(':').append(seq).append("\",\"room:chat\",");
                if (run.typing(seq)) {
                    run.lastTyping.set(c, seq);
                    frame.append("\"typing\",{\"conv\":").append(conversation.id()).append("}]");
                } else {
                    frame.append("\"mark_read\",{\"conv\":").append(conversation.id()).append(",\"message_id\":")
                            .append(conversation.messageIds()[run.k(seq)]).append("}]");
                }
                writes.add(actors[c], frame.toString());
                seq++;
            }
            long probesDue = Math.min(run.probes, (now - start) * probeRate / 1_000_000_000L);
            while (probe < probesDue) {
                run.probeSentAt[probe] = System.nanoTime();
                writes.add(socks.get(probe % socks.size()), "[null,\"p" + run.index + ":" + probe + "\",\"phoenix\",\"heartbeat\",{}]");
                probe++;
            }
            writes.flush();
            LockSupport.parkNanos(signalTickNanos);
        }
        long measuredTo = System.nanoTime();
        Cpu cpu1 = Cpu.now(serverPid);
        String load = loadAverage().split(" ")[0];
        long deadline = measuredTo + TimeUnit.MINUTES.toNanos(2);
        int okReads = 0;
        while (System.nanoTime() < deadline) {
            int replies = 0;
            okReads = 0;
            for (int i = 0; i < run.total; i++) {
                replies += run.status.get(i) != 0 ? 1 : 0;
                okReads += run.status.get(i) == 1 && !run.typing(i) ? 1 : 0;
            }
            if (replies == run.total && run.readPushes.get() >= okReads) {
                break;
            }
            Thread.sleep(100);
        }
        Thread.sleep(500);
        currentSignals = null;

        double seconds = (measuredTo - measuredFrom) / 1e9;
        int measured = run.total - run.warmupCount;
        long[] all = new long[measured];
        long[] reads = new long[measured];
        long[] typings = new long[measured];
        long[] acks = new long[measured];
        int na = 0, nr = 0, nt = 0, nk = 0, okInWindow = 0, pushesInWindow = 0, typingOk = 0, typingPushed = 0, missing = 0;
        for (int i = 0; i < run.total; i++) {
            long reply = run.replyAt.get(i);
            long pushed = run.pushAt.get(i);
            boolean typing = run.typing(i);
            if (run.status.get(i) == 1 && reply >= measuredFrom && reply < measuredTo) {
                okInWindow++;
            }
            if (pushed >= measuredFrom && pushed < measuredTo) {
                pushesInWindow++;
            }
            if (i < run.warmupCount) {
                continue;
            }
            if (reply != 0) {
                acks[nk++] = reply - run.sentAt[i];
            }
            if (run.status.get(i) == 1 && typing) {
                typingOk++;
            }
            if (pushed != 0) {
                long latency = pushed - run.sentAt[i];
                all[na++] = latency;
                if (typing) {
                    typings[nt++] = latency;
                    typingPushed++;
                } else {
                    reads[nr++] = latency;
                }
            } else if (!typing && run.status.get(i) == 1) {
                missing++;
            }
        }
        long[] hb = new long[run.probes - run.warmupProbes];
        int nh = 0;
        for (int p = run.warmupProbes; p < run.probes; p++) {
            if (run.probeAt.get(p) != 0) {
                hb[nh++] = run.probeAt.get(p) - run.probeSentAt[p];
            }
        }
        all = sorted(all, na);
        reads = sorted(reads, nr);
        typings = sorted(typings, nt);
        acks = sorted(acks, nk);
        hb = sorted(hb, nh);
        double[] usage = cpu1.since(cpu0, seconds);
        double okPerSecond = okInWindow / seconds;
        double pushPerSecond = pushesInWindow / seconds;
        System.out.printf(Locale.ROOT, "%3d %6d %7.0f %7.0f %7.0f %5d %5.2f %6.1f %6.1f %6.1f %6.1f %6.1f %6.1f %7.1f %6.1f %6.1f %6.2f %6.1f %5.0f %5.0f %5.0f %5.0f %5s %5.0f %5d%n",
                run.index, run.rate, measured / seconds, okPerSecond, pushPerSecond, run.errors.get(),
                typingOk == 0 ? 0 : typingPushed / (double) typingOk, ms(reads, 50), ms(reads, 99), ms(typings, 50), ms(typings, 99),
                ms(all, 50), ms(all, 99), ms(all, 100), ms(acks, 50), ms(acks, 99), ms(hb, 50), ms(hb, 99), usage[0], usage[1], usage[2],
                usage[3], load, maxLag / 1e6, missing);
        if (run.firstError != null) {
            System.out.println("    first error reply: " + run.firstError);
        }
        if (run.unmatched.get() + run.duplicates.get() > 0) {
            System.out.printf(Locale.ROOT, "    %d pushes matched no event, %d duplicates%n", run.unmatched.get(), run.duplicates.get());
        }
        return new double[] { okPerSecond, pushPerSecond, ms(all, 50), ms(all, 99), ms(hb, 50), ms(hb, 99), ms(reads, 99), ms(typings, 99) };
    }

    static long[] sorted(long[] values, int count) {
        long[] copy = Arrays.copyOf(values, count);
        Arrays.sort(copy);
        return copy;
    }

    /** CPU clock ticks of the machine, the service, PostgreSQL and this generator at one moment. */
    record Cpu(long[] machine, long server, long postgres, long generator) {
        static Cpu now(long serverPid) throws IOException {
            return new Cpu(machineTicks(), procTicks(serverPid), postgresTicks(), procTicks(ProcessHandle.current().pid()));
        }

        /** Since {@code from}: {machine % (200 = both cores), service %, PostgreSQL %, generator % (100 = one core)}. */
        double[] since(Cpu from, double seconds) {
            long all = machine[0] - from.machine[0];
            long busy = all - (machine[1] - from.machine[1]);
            double ticks = seconds * CLOCK_TICKS;
            return new double[] { 100.0 * busy / all * Runtime.getRuntime().availableProcessors(), 100.0 * (server - from.server) / ticks,
                    100.0 * (postgres - from.postgres) / ticks, 100.0 * (generator - from.generator) / ticks };
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Flood phase

    final int floodRate = Integer.getInteger("bench.floodRate", 500);
    final int floodRounds = Integer.getInteger("bench.floodRounds", 2);
    /** Characters of each flooding message's content (4000 is the most a message may hold). */
    final int floodChars = Integer.getInteger("bench.floodChars", 32);
    final int heapSampleMillis = Integer.getInteger("bench.heapSampleMillis", 2000);

    /**
     * Rounds of a quiet run and a flooded run of the same normal load: {@code pairs} pairs sending {@code floodRate}
     * messages/s in all, and in the flooded run one more user (2·pairs+1, conversation pairs+1) whose socket sends
     * send_msg as fast as TCP takes them and reads every reply.
     */
    void flood() throws Exception {
        List<Sock> socks = openPairs();
        Flooder flooder = new Flooder(2L * pairs + 1, 2L * pairs + 2, pairs + 1);
        HeapSampler sampler = new HeapSampler();
        System.out.printf(Locale.ROOT, "%nFLOOD: %d pairs sending %d messages/s in all (%.1f per sender per second); %d rounds of a quiet run "
                + "and a flooded run, each %d s warm-up + %d s measured; the flooder (user %d) sends send_msg of %d characters as fast as its "
                + "socket takes them, reads every reply and reconnects whenever the server closes it. Run 0 warms the service up for %d s.%n"
                + "Heap: used MB from the service's /q/metrics every %d ms (no GC forced; tenured = the old generation), and after a full GC "
                + "(jcmd GC.run) before each run and at the end of each flooded run, the flood still on.%n",
                pairs, floodRate, floodRate / (double) pairs, floodRounds, warmupSeconds, measureSeconds, flooder.user, floodChars,
                serverWarmupSeconds, heapSampleMillis);
        printRunHeader();
        String stamp = Long.toString(System.currentTimeMillis() / 1000 % 1_000_000);
        if (serverWarmupSeconds > 0) {
            run(new Run(0, stamp + "x0", floodRate, serverWarmupSeconds - Math.min(10, serverWarmupSeconds / 2),
                    Math.min(10, serverWarmupSeconds / 2)), socks);
            // The refusal paths compiled too, before anything is measured.
            flooder.start();
            Thread.sleep(10_000);
            flooder.stop();
            System.out.printf(Locale.ROOT, "    flood warm-up, 10 s: %s%n", flooder.summary());
            Thread.sleep(2000);
        }
        List<double[]> quiet = new ArrayList<>();
        List<double[]> flooded = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        double baseHeap = 0;
        double maxDuringHeap = 0;
        double maxSampledTenured = 0;
        for (int round = 1; round <= floodRounds; round++) {
            Mem before = measure();
            baseHeap = Math.max(baseHeap, before.heapUsedKb() / 1024.0);
            sampler.start();
            quiet.add(run(new Run(2 * round - 1, stamp + "x" + (2 * round - 1), floodRate, warmupSeconds, measureSeconds), socks));
            String quietHeap = sampler.stop();
            Mem beforeFlood = measure();
            flooder.start();
            sampler.start();
            flooded.add(run(new Run(2 * round, stamp + "x" + (2 * round), floodRate, warmupSeconds, measureSeconds), socks));
            String floodHeap = sampler.stop();
            maxSampledTenured = Math.max(maxSampledTenured, sampler.maxTenuredMb);
            Mem during = measure();
            flooder.stop();
            maxDuringHeap = Math.max(maxDuringHeap, during.heapUsedKb() / 1024.0);
            notes.add(String.format(Locale.ROOT, "round %d, heap used after a full GC: %.1f MB before the quiet run, %.1f MB before the flood, "
                    + "%.1f MB at the end of the flooded run (flood on)%n  heap during the quiet run: %s%n  heap during the flooded run: %s%n"
                    + "  flooder: %s", round, before.heapUsedKb() / 1024.0, beforeFlood.heapUsedKb() / 1024.0,
                    during.heapUsedKb() / 1024.0, quietHeap, floodHeap, flooder.summary()));
            Thread.sleep(2000);
        }
        Mem after = measure();
        System.out.println();
        notes.forEach(System.out::println);
        double quietP99 = median(quiet, 3);
        double floodP99 = median(flooded, 3);
        System.out.printf(Locale.ROOT, "%nsummary over %d rounds (medians): normal pairs' p99 %.1f ms quiet, %.1f ms flooded: %.2fx "
                + "(p50 %.1f / %.1f ms, delivered %.0f / %.0f per s)%n", floodRounds, quietP99, floodP99, floodP99 / quietP99,
                median(quiet, 1), median(flooded, 1), median(quiet, 0), median(flooded, 0));
        System.out.printf(Locale.ROOT, "heap used after a full GC: at most %.1f MB before the runs, at most %.1f MB during a flood, "
                + "%.1f MB after; the old generation sampled during the floods peaked at %.1f MB%n", baseHeap, maxDuringHeap,
                after.heapUsedKb() / 1024.0, maxSampledTenured);
        current = null;
        closeAll(socks);
        flooder.close();
    }

    /** The hostile client: one socket at a time, send_msg as fast as TCP takes it, every reply read and counted. */
    final class Flooder {
        final long user;
        final long recipient;
        final long conversation;
        /** Its own event loop, so that its writing does not delay the normal sockets' handlers in this process. */
        final Vertx floodVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        final WebSocketClient client = floodVertx.createWebSocketClient(new WebSocketClientOptions()
                .setLocalAddress("127.0.0.9").setConnectTimeout(30_000).setTcpNoDelay(true).setMaxFrameSize(65536)
                .setMaxMessageSize(1 << 20));
        final String padding;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong ok = new AtomicLong();
        final AtomicLong rateLimited = new AtomicLong();
        final AtomicLong slowDown = new AtomicLong();
        final AtomicLong otherReplies = new AtomicLong();
        final AtomicLong connections = new AtomicLong();
        final AtomicLong refusedUpgrades = new AtomicLong();
        final Map<String, AtomicInteger> closes = new ConcurrentHashMap<>();
        volatile boolean on;
        volatile WebSocket ws;
        long startedAt;
        long stoppedAt;
        long seq;
        String firstOther;
        String firstRefusal;

        Flooder(long user, long recipient, long conversation) {
            this.user = user;
            this.recipient = recipient;
            this.conversation = conversation;
            this.padding = "f".repeat(Math.max(1, floodChars - 20));
        }

        void start() {
            sent.set(0);
            ok.set(0);
            rateLimited.set(0);
            slowDown.set(0);
            otherReplies.set(0);
            connections.set(0);
            refusedUpgrades.set(0);
            closes.clear();
            firstOther = null;
            firstRefusal = null;
            startedAt = System.nanoTime();
            on = true;
            floodVertx.runOnContext(v -> connect());
        }

        void stop() throws InterruptedException {
            on = false;
            stoppedAt = System.nanoTime();
            WebSocket current = ws;
            if (current != null) {
                floodVertx.runOnContext(v -> current.close());
            }
            Thread.sleep(1000);
        }

        void close() throws Exception {
            floodVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }

        void connect() {
            if (!on) {
                return;
            }
            client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
                    .setURI("/socket/websocket?token=" + HistoryBench.token(key, user) + "&vsn=2.0.0"))
                    .onFailure(failure -> {
                        if (refusedUpgrades.getAndIncrement() == 0) {
                            firstRefusal = failure.toString();
                        }
                        floodVertx.setTimer(100, id -> connect());
                    })
                    .onSuccess(socket -> {
                        ws = socket;
                        connections.incrementAndGet();
                        socket.textMessageHandler(text -> {
                            if (text.startsWith("[\"1\",\"1\",")) {
                                pump(socket);
                            } else if (text.contains("\"status\":\"ok\"")) {
                                ok.incrementAndGet();
                            } else if (text.contains("rate limited")) {
                                rateLimited.incrementAndGet();
                            } else if (text.contains("slow down")) {
                                slowDown.incrementAndGet();
                            } else if (otherReplies.getAndIncrement() == 0) {
                                firstOther = text.length() > 200 ? text.substring(0, 200) : text;
                            }
                        });
                        socket.closeHandler(v -> {
                            if (on) {
                                closes.computeIfAbsent(socket.closeStatusCode() + " " + socket.closeReason(), k -> new AtomicInteger())
                                        .incrementAndGet();
                                connect();
                            }
                        });
                        socket.exceptionHandler(e -> {
                        });
                        socket.writeTextMessage(JOIN);
                    });
        }

        /** Writes frames until the connection's write queue is full, then again once it drains. */
        void pump(WebSocket socket) {
            while (on && !socket.isClosed() && !socket.writeQueueFull()) {
                socket.writeTextMessage("[\"1\",\"f" + seq + "\",\"room:chat\",\"send_msg\",{\"user\":" + recipient + ",\"conv\":"
                        + conversation + ",\"message\":\"flood " + seq + " " + padding + "\"}]");
                seq++;
                sent.incrementAndGet();
            }
            if (on && !socket.isClosed()) {
                socket.drainHandler(v -> pump(socket));
            }
        }

        String summary() {
            double seconds = ((on ? System.nanoTime() : stoppedAt) - startedAt) / 1e9;
            return String.format(Locale.ROOT, "%,d frames sent in %.0f s (%,.0f/s); replies: %,d ok (stored), %,d rate limited, %,d slow down, "
                    + "%,d other%s; %d connections, %d upgrades refused%s; closed by the server: %s", sent.get(), seconds, sent.get() / seconds,
                    ok.get(), rateLimited.get(), slowDown.get(), otherReplies.get(), firstOther == null ? "" : " (first: " + firstOther + ")",
                    connections.get(), refusedUpgrades.get(), firstRefusal == null ? "" : " (first: " + firstRefusal + ")",
                    closes.isEmpty() ? "never" : closes.toString());
        }
    }

    /** Heap used, from the service's Prometheus metrics (cheap, no GC forced), sampled while a run goes on. */
    final class HeapSampler {
        final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        final List<double[]> samples = new ArrayList<>();
        volatile boolean on;
        Thread thread;
        double maxTenuredMb;

        void start() {
            samples.clear();
            maxTenuredMb = 0;
            on = true;
            thread = new Thread(() -> {
                while (on) {
                    try {
                        samples.add(sample());
                        Thread.sleep(heapSampleMillis);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        System.out.println("    heap sample failed: " + e);
                    }
                }
            }, "heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        /** Stops; the samples as "used (tenured) MB" over time, with their range. */
        String stop() throws InterruptedException {
            on = false;
            thread.interrupt();
            thread.join();
            double minUsed = Double.MAX_VALUE, maxUsed = 0, minTenured = Double.MAX_VALUE, maxTenured = 0;
            StringBuilder series = new StringBuilder();
            for (double[] s : samples) {
                minUsed = Math.min(minUsed, s[0]);
                maxUsed = Math.max(maxUsed, s[0]);
                minTenured = Math.min(minTenured, s[1]);
                maxTenured = Math.max(maxTenured, s[1]);
                series.append(String.format(Locale.ROOT, " %.0f(%.0f)", s[0], s[1]));
            }
            maxTenuredMb = maxTenured;
            return String.format(Locale.ROOT, "%d samples, used %.0f-%.0f MB, tenured %.0f-%.0f MB; used(tenured) MB:%s", samples.size(),
                    minUsed, maxUsed, minTenured, maxTenured, series);
        }

        /** {heap used MB, of it the old generation MB}. */
        double[] sample() throws Exception {
            String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + (port + 1000) + "/q/metrics") /* the management port */)
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            double used = 0;
            double tenured = 0;
            Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\",id=\"([^\"]+)\"[^}]*\\} (\\S+)$").matcher(metrics);
            while (m.find()) {
                double bytes = Double.parseDouble(m.group(2));
                used += bytes;
                if (m.group(1).contains("Tenured") || m.group(1).contains("Old")) {
                    tenured += bytes;
                }
            }
            return new double[] { used / (1 << 20), tenured / (1 << 20) };
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Presence (issue 17)

    static final String STATE_PREFIX = "[\"1\",null,\"room:chat\",\"presence_state\",";
    static final String DIFF_PREFIX = "[null,null,\"room:chat\",\"presence_diff\",";
    final int presenceUsers = Integer.getInteger("bench.presenceUsers", 2000);
    final long presenceFirstUser = Long.getLong("bench.presenceFirstUser", 10001);
    final int socketsPerUser = Integer.getInteger("bench.socketsPerUser", 5);
    /** Each user's contacts: the {@code contacts / 2} users after them and as many before, round the ring. */
    final int contacts = Integer.getInteger("bench.contacts", 50);
    final int[] presenceSteps = Arrays.stream(System.getProperty("bench.presenceSteps", "2000,5000,10000").split(","))
            .map(String::trim).mapToInt(Integer::parseInt).toArray();
    /** "sockets/seconds" of the paced rejoins and of the storm. */
    final String probePlan = System.getProperty("bench.probe", "500/10");
    final String stormPlan = System.getProperty("bench.storm", "2000/5");

    volatile Storm currentStorm;

    /**
     * {@code presenceUsers} users with {@code socketsPerUser} sockets each, opened user by user in steps (the server's
     * RSS after a full GC at each, as idle does). Baseline: the users after them, who have no contacts (no
     * conversation); otherwise each user shares a direct conversation with {@code contacts} others. Then, with every
     * socket up: paced rejoins and the reconnect storm, with every presence_diff they cause counted at every watcher.
     */
    void presence(boolean baseline) throws Exception {
        long first = baseline ? presenceFirstUser + presenceUsers : presenceFirstUser;
        int total = presenceUsers * socketsPerUser;
        System.out.printf(Locale.ROOT, baseline
                ? "%nPRESENCE BASELINE: %,d sockets of %,d users without contacts (users %d..%d, %d sockets each), opened user by user%n"
                : "%nPRESENCE: %,d sockets of %,d users (users %d..%d, %d sockets each), opened user by user; each user has %d contacts "
                        + "(a direct conversation with each of the %d users after them and before them, round the ring)%n",
                total, presenceUsers, first, first + presenceUsers - 1, socketsPerUser, contacts, contacts / 2);

        // Warm-up: the join path with this phase's lookups compiled before the baseline point.
        long[] warmUsers = new long[Math.min(warmupConnections, presenceUsers)];
        for (int i = 0; i < warmUsers.length; i++) {
            warmUsers[i] = first + i;
        }
        List<Sock> warm = socks(warmUsers);
        warm.forEach(sock -> sock.onText = presenceHandler(sock));
        int warmFailed = openAll(warm, tokens(warmUsers));
        Thread.sleep(1000);
        closeAll(warm);
        Thread.sleep(2000);
        System.out.printf(Locale.ROOT, "warm-up: %,d sockets (one per user) opened, joined and closed (%d failed)%n", warm.size(), warmFailed);

        long[] users = new long[total];
        for (int i = 0; i < total; i++) {
            users[i] = first + i / socketsPerUser;
        }
        String[] tokens = tokens(users);
        List<Sock> all = socks(users);
        Sock[][] byUser = new Sock[presenceUsers][socketsPerUser];
        for (int i = 0; i < total; i++) {
            Sock sock = all.get(i);
            sock.onText = presenceHandler(sock);
            byUser[i / socketsPerUser][i % socketsPerUser] = sock;
        }
        List<Mem> points = new ArrayList<>();
        Mem base = measure();
        points.add(base);
        Map<String, long[]> baseHistogram = histogram();
        System.out.printf(Locale.ROOT, "%n%11s %8s %8s %9s %9s %9s %9s %9s %9s %7s %7s%n", "", "RSS", "", "heap", "", "heap",
                "heap", "RSS-heap", "", "server", "opened");
        System.out.printf(Locale.ROOT, "%11s %8s %8s %9s %9s %9s %9s %9s %9s %7s %7s%n", "connections", "MB", "KB/conn", "used MB",
                "KB/conn", "commit MB", "resid MB", "MB", "KB/conn", "fds", "conn/s");
        printRow(base, base, 0);
        int failed = openInSteps(all, tokens, presenceSteps, base, points);
        Map<String, long[]> topHistogram = histogram();
        Mem last = points.get(points.size() - 1);
        System.out.printf(Locale.ROOT, "open client sockets %,d, failed to open %d, closed by the server %d%s%n", open.size(), failed,
                unexpectedCloses.get(), lastCloseReason == null ? "" : " (last: " + lastCloseReason + ")");
        double perSocket = (last.rssKb() - base.rssKb()) / (double) last.connections();
        double[] rss = fit(points, Mem::rssKb);
        double[] heap = fit(points, Mem::heapUsedKb);
        System.out.printf(Locale.ROOT, "RSS per socket: %.2f KB from 0 to %,d sockets; least-squares slope %.2f KB (heap used: slope %.2f KB)%n",
                perSocket, last.connections(), rss[0], heap[0]);
        printHistogramDelta(baseHistogram, topHistogram, last.connections());

        long[] stateLatency = all.stream().mapToLong(sock -> sock.stateNanos).filter(ns -> ns >= 0).sorted().toArray();
        System.out.printf(Locale.ROOT, "%npresence_state after phx_join, the %,d joins above (%d in flight at a time, each done at its presence_state): "
                + "%,d states, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n", all.size(), inflight, stateLatency.length,
                ms(stateLatency, 50), ms(stateLatency, 90), ms(stateLatency, 99), ms(stateLatency, 100));

        Path baselineFile = dir.resolve("presence-baseline.txt");
        if (baseline) {
            Files.writeString(baselineFile, String.format(Locale.ROOT, "%.2f %.2f%n", perSocket, rss[0]));
            closeAll(all);
            return;
        }
        double[] probe = rejoins("PACED REJOINS", byUser, probePlan, socketsPerUser - 2);
        double[] storm = rejoins("RECONNECT STORM", byUser, stormPlan, socketsPerUser - 1);

        System.out.printf(Locale.ROOT, "%nSUMMARY (issue 17's goals)%n");
        if (Files.exists(baselineFile)) {
            String[] b = Files.readString(baselineFile).trim().split(" ");
            double basePerSocket = Double.parseDouble(b[0]);
            double baseSlope = Double.parseDouble(b[1]);
            System.out.printf(Locale.ROOT, "  RSS per socket, %d contacts per user: %.2f KB (slope %.2f); without contacts (baseline, another "
                    + "fresh service in this run): %.2f KB (slope %.2f); ratio %.2f; goal <= 16 KB: %s%n", contacts, perSocket, rss[0],
                    basePerSocket, baseSlope, perSocket / basePerSocket, perSocket <= 16 ? "met" : "MISSED");
        } else {
            System.out.printf(Locale.ROOT, "  RSS per socket, %d contacts per user: %.2f KB (slope %.2f); no baseline this run; goal <= 16 KB: %s%n",
                    contacts, perSocket, rss[0], perSocket <= 16 ? "met" : "MISSED");
        }
        System.out.printf(Locale.ROOT, "  presence_state p50/p99: %.1f / %.1f ms over the %,d bulk joins, %.1f / %.1f ms over the paced "
                + "rejoins, %.1f / %.1f ms over the storm's rejoins; goal p99 < 20 ms: %s%n", ms(stateLatency, 50), ms(stateLatency, 99),
                stateLatency.length, probe[0], probe[1], storm[0], storm[1],
                Math.max(probe[1], storm[1]) < 20 ? "met" : probe[1] < 20 ? "met when paced, MISSED in the storm" : "MISSED");
        System.out.printf(Locale.ROOT, "  storm: %,.0f diffs expected, %,.0f delivered, %,.0f missing; p50 %.1f ms, p99 %.1f ms; "
                + "goal every diff, p99 < 1 s: %s%n", storm[2], storm[3], storm[4], storm[5], storm[6],
                storm[4] == 0 && storm[6] < 1000 ? "met" : "MISSED");
        closeAll(all);
    }

    /** Records each socket's presence_state latency; hands presence_diffs to the running storm. */
    Consumer<String> presenceHandler(Sock sock) {
        sock.awaitState = true;
        return text -> {
            if (text.startsWith(DIFF_PREFIX)) {
                Storm storm = currentStorm;
                if (storm != null) {
                    storm.diff(sock, text, System.nanoTime());
                }
            } else if (text.startsWith(STATE_PREFIX) && sock.stateNanos < 0) {
                sock.stateNanos = System.nanoTime() - sock.joinSentAt;
                int users = 0;
                for (int at = text.indexOf("\"metas\""); at >= 0; at = text.indexOf("\"metas\"", at + 1)) {
                    users++;
                }
                sock.stateUsers = users;
            }
        };
    }

    /** Whether user indexes a and b see each other (the same user, or contacts round the ring). */
    boolean related(int a, int b) {
        int d = Math.abs(a - b);
        return Math.min(d, presenceUsers - d) <= contacts / 2;
    }

    /** A watcher socket: which stormed users' leave and join it got. Touched by its event loop, read after. */
    static final class Watch {
        final int user;
        final java.util.BitSet leaves = new java.util.BitSet();
        final java.util.BitSet joins = new java.util.BitSet();

        Watch(int user) {
            this.user = user;
        }
    }

    /** One round of rejoins: per stormed user (by index) its place, close time and new socket; what the watchers got. */
    final class Storm {
        final int[] stormIndex;
        final AtomicLongArray closeAt;
        final java.util.concurrent.atomic.AtomicReferenceArray<Sock> fresh;
        final Map<Sock, Watch> watches;
        final AtomicLongArray joinLatency;
        final AtomicLongArray leaveLatency;
        final AtomicInteger joins = new AtomicInteger();
        final AtomicInteger leaves = new AtomicInteger();
        final AtomicInteger duplicates = new AtomicInteger();
        final AtomicInteger unrelated = new AtomicInteger();
        final AtomicInteger toRejoined = new AtomicInteger();
        final AtomicInteger others = new AtomicInteger();
        /** presence_diff frames received by any socket while the round runs (a frame may carry several changes). */
        final AtomicInteger frames = new AtomicInteger();
        final AtomicLong lastArrival = new AtomicLong();

        Storm(int[] stormIndex, int count, Map<Sock, Watch> watches, int expectedPerKind) {
            this.stormIndex = stormIndex;
            this.closeAt = new AtomicLongArray(count);
            this.fresh = new java.util.concurrent.atomic.AtomicReferenceArray<>(count);
            this.watches = watches;
            this.joinLatency = new AtomicLongArray(expectedPerKind);
            this.leaveLatency = new AtomicLongArray(expectedPerKind);
        }

        /**
         * {@code {"joins":{"<user>":{"metas":[…]},…},"leaves":{…}}}: every meta of every user counts, as the server
         * merges the changes of one window into one diff.
         */
        void diff(Sock sock, String text, long now) {
            frames.incrementAndGet();
            io.vertx.core.json.JsonObject payload = new io.vertx.core.json.JsonArray(text).getJsonObject(4);
            for (String kind : new String[] {"joins", "leaves"}) {
                io.vertx.core.json.JsonObject users = payload.getJsonObject(kind);
                for (String user : users.fieldNames()) {
                    int metas = users.getJsonObject(user).getJsonArray("metas").size();
                    for (int m = 0; m < metas; m++) {
                        change(sock, "joins".equals(kind), (int) (Long.parseLong(user) - presenceFirstUser), now);
                    }
                }
            }
        }

        /** One connection of user index {@code u} joined or left, as seen by {@code sock}. */
        void change(Sock sock, boolean join, int u, long now) {
            int k = u >= 0 && u < presenceUsers ? stormIndex[u] : -1;
            if (k < 0 || fresh.get(k) == null) { // not stormed, or not yet: a late diff of an earlier round
                others.incrementAndGet();
                return;
            }
            Watch watch = watches.get(sock);
            if (watch == null) {
                toRejoined.incrementAndGet();
                return;
            }
            if (!related(watch.user, u)) {
                unrelated.incrementAndGet();
                return;
            }
            boolean first;
            synchronized (watch) {
                java.util.BitSet seen = join ? watch.joins : watch.leaves;
                first = !seen.get(u);
                seen.set(u);
            }
            if (!first) {
                duplicates.incrementAndGet();
                return;
            }
            lastArrival.accumulateAndGet(now, Math::max);
            if (join) {
                int n = joins.getAndIncrement();
                if (n < joinLatency.length()) {
                    joinLatency.set(n, now - fresh.get(k).joinSentAt);
                }
            } else {
                int n = leaves.getAndIncrement();
                if (n < leaveLatency.length()) {
                    leaveLatency.set(n, now - closeAt.get(k));
                }
            }
        }
    }

    /**
     * Closes socket {@code socketIndex} of {@code count} users spread over the ring and opens a new one for each
     * (phx_join at once), evenly over the plan's seconds, the other sockets held open. Every other socket watches:
     * it should get, for itself and each of its contacts among the stormed users, the closed connection's leave and the
     * new one's join (the user stays online through their other sockets: the server sends per-connection diffs, which
     * the client merges into meta changes). Leave latency from the close, join latency from the new phx_join.
     *
     * @return {state p50, state p99, expected, delivered, missing, diff p50, diff p99} (ms, counts)
     */
    double[] rejoins(String label, Sock[][] byUser, String plan, int socketIndex) throws Exception {
        int count = Integer.parseInt(plan.split("/")[0]);
        double seconds = Double.parseDouble(plan.split("/")[1]);
        if (count > presenceUsers) {
            throw new IllegalArgumentException("at most one socket per user is rejoined: " + plan);
        }
        int[] stormIndex = new int[presenceUsers];
        Arrays.fill(stormIndex, -1);
        int[] stormUsers = new int[count];
        for (int k = 0; k < count; k++) {
            stormUsers[k] = (int) ((long) k * presenceUsers / count);
            stormIndex[stormUsers[k]] = k;
        }
        Map<Sock, Watch> watches = new HashMap<>();
        long expectedPerKind = 0;
        for (int u = 0; u < presenceUsers; u++) {
            for (int i = 0; i < socketsPerUser; i++) {
                Sock sock = byUser[u][i];
                if ((i == socketIndex && stormIndex[u] >= 0) || !open.contains(sock)) {
                    continue;
                }
                watches.put(sock, new Watch(u));
                for (int d = -contacts / 2; d <= contacts / 2; d++) {
                    if (stormIndex[Math.floorMod(u + d, presenceUsers)] >= 0) {
                        expectedPerKind++;
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n%s: socket %d of %,d users (%s) closed and a new one opened and joined, evenly over "
                + "%.0f s (%.0f/s); %,d other sockets watch: %,d presence_diffs expected (a leave and a join per stormed user, at each "
                + "socket of that user and of their contacts)%n", label, socketIndex + 1, count,
                count == presenceUsers ? "every user" : "1 user in " + presenceUsers / count, seconds, count / seconds, watches.size(),
                2 * expectedPerKind);
        long[] stormUserIds = Arrays.stream(stormUsers).mapToLong(u -> presenceFirstUser + u).toArray();
        String[] tokens = tokens(stormUserIds);
        Storm storm = new Storm(stormIndex, count, watches, (int) expectedPerKind);
        int closes0 = unexpectedCloses.get();
        AtomicInteger failed = new AtomicInteger();
        CountDownLatch joined = new CountDownLatch(count);
        Cpu cpu0 = Cpu.now(serverPid);
        currentStorm = storm;
        long start = System.nanoTime();
        long span = (long) (seconds * 1e9);
        long lag = 0;
        for (int k = 0; k < count; k++) {
            long due = start + span * k / count;
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            lag = Math.max(lag, System.nanoTime() - due);
            int u = stormUsers[k];
            Sock old = byUser[u][socketIndex];
            Sock sock = new Sock(nextSlot.getAndIncrement(), presenceFirstUser + u);
            sock.onText = presenceHandler(sock);
            storm.fresh.set(k, sock);
            byUser[u][socketIndex] = sock;
            old.closing = true;
            storm.closeAt.set(k, System.nanoTime());
            old.ws.close();
            open(sock, tokens[k]).onComplete(result -> {
                if (result.failed() && failed.getAndIncrement() < 3) {
                    System.out.println("  rejoin failed: " + result.cause());
                }
                joined.countDown();
            });
        }
        double sentSeconds = (System.nanoTime() - start) / 1e9;
        joined.await(2, TimeUnit.MINUTES);
        // Every expected diff, or 10 s without a new one.
        long expected = 2 * expectedPerKind;
        long seen = -1;
        long quietSince = System.nanoTime();
        while (storm.joins.get() + storm.leaves.get() < expected && System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(10)) {
            Thread.sleep(100);
            long now = storm.joins.get() + storm.leaves.get();
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
            }
        }
        Thread.sleep(500);
        currentStorm = null;
        double elapsed = (System.nanoTime() - start) / 1e9;
        double[] usage = Cpu.now(serverPid).since(cpu0, elapsed);
        long missingLeaves = 0;
        long missingJoins = 0;
        for (Watch watch : watches.values()) {
            synchronized (watch) {
                for (int d = -contacts / 2; d <= contacts / 2; d++) {
                    int u = Math.floorMod(watch.user + d, presenceUsers);
                    if (stormIndex[u] >= 0) {
                        missingLeaves += watch.leaves.get(u) ? 0 : 1;
                        missingJoins += watch.joins.get(u) ? 0 : 1;
                    }
                }
            }
        }
        int joinsIn = Math.min(storm.joins.get(), storm.joinLatency.length());
        int leavesIn = Math.min(storm.leaves.get(), storm.leaveLatency.length());
        long[] joinMs = new long[joinsIn];
        long[] leaveMs = new long[leavesIn];
        long[] both = new long[joinsIn + leavesIn];
        for (int i = 0; i < joinsIn; i++) {
            joinMs[i] = both[i] = storm.joinLatency.get(i);
        }
        for (int i = 0; i < leavesIn; i++) {
            leaveMs[i] = both[joinsIn + i] = storm.leaveLatency.get(i);
        }
        Arrays.sort(joinMs);
        Arrays.sort(leaveMs);
        Arrays.sort(both);
        long[] states = new long[count];
        int statesIn = 0;
        int partialStates = 0;
        for (int k = 0; k < count; k++) {
            Sock sock = storm.fresh.get(k);
            if (sock.stateNanos >= 0) {
                states[statesIn++] = sock.stateNanos;
                partialStates += sock.stateUsers == contacts + 1 ? 0 : 1;
            }
        }
        states = sorted(states, statesIn);
        long delivered = storm.joins.get() + storm.leaves.get();
        System.out.printf(Locale.ROOT, "  sent in %.2f s (the generator at most %.1f ms behind its schedule); %d rejoins failed, %d sockets closed by "
                + "the server%n", sentSeconds, lag / 1e6, failed.get(), unexpectedCloses.get() - closes0);
        System.out.printf(Locale.ROOT, "  presence_state of the rejoined: %,d of %,d, p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d without all %d users "
                + "(the caller and every contact, all online)%n", statesIn, count, ms(states, 50), ms(states, 99), ms(states, 100),
                partialStates, contacts + 1);
        System.out.printf(Locale.ROOT, "  presence_diffs at the watchers: %,d expected, %,d delivered (%,d leaves, %,d joins), missing %,d leaves "
                + "and %,d joins; %d duplicates, %d of stormed users to sockets not their contacts'; the last %.2f s after the first close%n",
                expected, delivered, storm.leaves.get(), storm.joins.get(), missingLeaves, missingJoins, storm.duplicates.get(),
                storm.unrelated.get(), (storm.lastArrival.get() - start) / 1e9);
        System.out.printf(Locale.ROOT, "  presence_diff frames received by all sockets: %,d (%.1f changes per frame)%n", storm.frames.get(),
                delivered / (double) Math.max(1, storm.frames.get()));
        System.out.printf(Locale.ROOT, "  diff latency: all p50 %.1f ms, p99 %.1f ms, max %.1f ms; joins (from the new phx_join) p50 %.1f, p99 %.1f; "
                + "leaves (from the close) p50 %.1f, p99 %.1f%n", ms(both, 50), ms(both, 99), ms(both, 100), ms(joinMs, 50),
                ms(joinMs, 99), ms(leaveMs, 50), ms(leaveMs, 99));
        System.out.printf(Locale.ROOT, "  CPU over %.1f s: machine %.0f %% (200 = both cores), service %.0f %%, PostgreSQL %.0f %%, generator %.0f %%; "
                + "load average %s%n", elapsed, usage[0], usage[1], usage[2], usage[3], loadAverage());
        return new double[] { ms(states, 50), ms(states, 99), expected, delivered, missingLeaves + missingJoins, ms(both, 50), ms(both, 99) };
    }

    // ---------------------------------------------------------------------------------------------
    // /proc

    static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    static long openFilesLimit(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring(26).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no open files limit");
    }

    static long countFds(long pid) throws IOException {
        try (var files = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return files.count();
        }
    }

    /** {all, idle + iowait} clock ticks of the machine. */
    static long[] machineTicks() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            all += Long.parseLong(f[i]);
        }
        return new long[] { all, Long.parseLong(f[4]) + Long.parseLong(f[5]) };
    }

    /** User + system clock ticks of one process (all its threads). */
    static long procTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** All PostgreSQL server processes (the backends, WAL writer, checkpointer, …). */
    static long postgresTicks() throws IOException {
        long ticks = 0;
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs::iterator) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    if (Files.readString(proc.resolve("comm")).trim().equals("postgres")) {
                        ticks += procTicks(Long.parseLong(name));
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return ticks;
    }
}
