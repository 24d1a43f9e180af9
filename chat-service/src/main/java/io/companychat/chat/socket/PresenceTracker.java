package io.companychat.chat.socket;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.core.JsonGenerator;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.ContactsChanged;
import io.companychat.chat.live.LiveEvent.PresenceChanged;
import io.companychat.chat.repository.PresenceRepository;
import io.companychat.chat.repository.PresenceRepository.Lookup;
import io.companychat.chat.repository.PresenceRepository.Meta;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;

/**
 * Presence on {@code room:chat} (API.md Part 2, "Presence"), for the {@code phoenix} client's
 * {@code Presence} object: {@code presence_state} after every join, {@code presence_diff}s after.
 *
 * <p><b>Where the truth is.</b> Every connection joined to {@code room:chat}, on any replica, is a
 * row of {@code presences}; a join inserts its row and reads, in the same statement, its user's
 * contacts and all their online connections: one lookup whatever the number of contacts. Joins and
 * leaves travel as {@link PresenceChanged} events over the message bus; each replica delivers them
 * to its own sockets of the users concerned. Replicas heartbeat a row of {@code presence_replicas};
 * one silent for {@code chat.presence.replica-timeout} is dead, and the first replica to notice
 * deletes its connections and announces them as leaves. A replica that finds its own heartbeat row
 * gone (it was taken for dead) writes its connections again and announces them as joins. See the
 * README, "Presence", for why this and not a CRDT.
 *
 * <p><b>Who sees what.</b> This replica keeps, for each user with a connection joined here, their
 * contacts, and the reverse: for each contact, the local users who see them. A diff goes to the
 * local connections of its user and of the users who see them. Contacts are read on the first
 * join of a user here and again when a {@link ContactsChanged} names them.
 *
 * <p><b>No diff lost around a lookup.</b> A lookup reads the database at one moment; events are
 * delivered here at another. Every delivered event also goes into a short log; once a lookup's
 * answer is installed, the events logged since the lookup started are applied to the state it
 * sends (joins add their meta by {@code phx_ref}, so an event also in the lookup is harmless; leaves
 * take theirs away), as the client would have applied them as diffs, but in one frame: in a
 * reconnect storm a diff per logged event was most of a join's cost. Installing the contacts and
 * taking the logged events hold the lock that delivering holds, so nothing slips between them; the
 * state is then built and encoded out of the lock (it was most of the lock's hold time in a storm),
 * while the changes that reach the connection meanwhile are held ({@code STATE_PENDING}), merged by
 * {@code phx_ref} as a window's are, and sent right after the state, under the lock again: the client
 * sees the state before any diff of the join, and no change is lost. The sends under the lock only
 * queue frames.
 *
 * <p><b>One diff per window.</b> A connection gets at most one {@code presence_diff} per
 * {@code chat.presence.diff-window} (250 ms): the first change of a quiet window goes at once (the
 * frame is written once for every socket that gets it), later ones are held by {@code phx_ref}, the
 * latest winning, and go as one merged diff when the window ends. The client applies a diff's joins,
 * then its leaves, so holding the latest change of each connection keeps its view exact: a leave
 * then a rejoin of one connection is a join (which replaces the meta), a join then a leave is a
 * leave (the client ignores refs it does not hold). A reconnect storm then costs each watching
 * socket a few frames a second instead of one per change; quiet changes are not delayed.
 *
 * <p><b>The bus restored.</b> While this replica did not listen (NATS away, the LISTEN connection lost), the other
 * replicas' events never came: once it listens again ({@link #busRestored}), every joined connection here gets a fresh
 * {@code presence_state} (its join ref, as after a join; the client diffs it against what it holds by {@code phx_ref}),
 * from the join's lookup done again for its user, the events since applied and the changes meanwhile held
 * ({@code RESYNCING}) exactly as for a join. Users go {@value #RESYNC_BATCH} to a statement, at most
 * {@value #RESYNC_PARALLEL} statements at a time, so that a bus restart with thousands of sockets here does not
 * stampede PostgreSQL. A join whose lookup began before the restoration, and a lookup that outlived the event log,
 * are done again the same way.
 */
@ApplicationScoped
public class PresenceTracker {

    public static final String PRESENCE_STATE = "presence_state";
    public static final String PRESENCE_DIFF = "presence_diff";
    static final byte NONE = 0;
    static final byte JOINING = 1;
    static final byte SYNCED = 2;
    /** The lookup is in and its {@code presence_state} being encoded: changes are held until it is sent. */
    static final byte STATE_PENDING = 3;
    /**
     * Synced, and a fresh {@code presence_state} is being built for it (the bus was restored): changes are held until it
     * is sent, as in {@link #STATE_PENDING}, but a leave or close is the connection's own to announce.
     */
    static final byte RESYNCING = 4;
    /** Events kept for replay: far more than arrive during one lookup. */
    static final int LOG_SIZE = 4096;
    /** Users whose presence one statement reads again after the bus was restored. */
    static final int RESYNC_BATCH = 200;
    /** Such statements at a time, at most. */
    static final int RESYNC_PARALLEL = 2;
    /** A failed one is tried again after this long (the database may be away too). */
    static final long RESYNC_RETRY_MILLIS = 1000;

    private final PresenceRepository presences;
    private final SocketSessions sessions;
    private final PhoenixProtocol protocol;
    private final SocketConfig socketConfig;
    private final ChatConfig config;
    private final Vertx vertx;
    private final String replicaId = "chat-" + UUID.randomUUID();
    private volatile Consumer<Instant> replicaDied = lastSeen -> {
    };
    private final Object lock = new Object();
    /** Local users with a connection joined (or joining) here → their contacts and joined connections. Guarded by lock. */
    private final Map<Long, Watcher> watchers = new HashMap<>();
    /** Contact → the local users who see them. Guarded by lock. */
    private final Map<Long, Set<Long>> seenBy = new HashMap<>();
    /** The last {@link #LOG_SIZE} events delivered here; event number n is at n % LOG_SIZE. Guarded by lock. */
    private final PresenceChanged[] log = new PresenceChanged[LOG_SIZE];
    private long logged;
    private long timer = -1;
    private long flushTimer = -1;
    /** The current diff window's number. Guarded by lock. */
    private int window = 1;
    /** Sessions with held diffs, to send when the window ends. Guarded by lock. */
    private List<SocketSession> holding = new ArrayList<>();
    private volatile boolean stopping;
    /** Local users whose connections get a fresh presence_state, in turn. Guarded by lock. */
    private final Set<Long> toResync = new LinkedHashSet<>();
    /** The users of the statements in flight. Guarded by lock. */
    private final Set<Long> resyncing = new HashSet<>();
    /** Guarded by lock. */
    private int resyncsInFlight;
    /** How often the bus was restored: a join whose lookup spans one is read again. Guarded by lock. */
    private long restorations;
    /** To this replica's {@link #deliver} and the others' (they depend on each other: both are client proxies). */
    private final LiveSockets live;

    public PresenceTracker(PresenceRepository presences, SocketSessions sessions, PhoenixProtocol protocol,
            SocketConfig socketConfig, ChatConfig config, Vertx vertx, LiveSockets live) {
        this.live = live;
        this.presences = presences;
        this.sessions = sessions;
        this.protocol = protocol;
        this.socketConfig = socketConfig;
        this.config = config;
        this.vertx = vertx;
    }

    void start(@Observes StartupEvent startup) {
        heartbeat();
        timer = vertx.setPeriodic(config.presence().heartbeatInterval().toMillis(), id -> heartbeat());
        long windowMillis = config.presence().diffWindow().toMillis();
        if (windowMillis > 0) {
            flushTimer = vertx.setPeriodic(windowMillis, id -> endWindow());
        }
    }

    /** Leaves the others a clean table: this replica's connections go (and are announced by whoever reaps them). */
    void stop(@Observes ShutdownEvent shutdown) {
        stopping = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (flushTimer >= 0) {
            vertx.cancelTimer(flushTimer);
        }
    }

    /**
     * After the ok reply to a join of {@code room:chat}: the connection's row, then its
     * {@code presence_state}, then its join announced. A rejoin sends the state again.
     */
    Uni<Void> joined(SocketSession session) {
        long onlineAt = Instant.now().getEpochSecond();
        String ref = session.connection.id();
        boolean first;
        long since;
        long restored;
        synchronized (lock) {
            first = session.presence == NONE;
            if (first) {
                session.onlineAt = onlineAt;
                watchers.computeIfAbsent(session.userId, user -> new Watcher()).connections++;
            }
            session.presence = JOINING;
            session.heldDiffs = null; // the presence_state to come says it all
            since = logged;
            restored = restorations;
        }
        long at = session.onlineAt;
        return presences.join(ref, replicaId, session.userId, at)
                .onFailure().recoverWithItem(failure -> {
                    Log.warnf("Presence lookup failed; the joining connection sees itself only: %s", failure.toString());
                    return null;
                })
                .invoke(lookup -> sendState(session, lookup, since, restored, first))
                .chain(lookup -> session.presence == SYNCED ? Uni.createFrom().voidItem() : presences.leave(ref)
                        .onFailure().recoverWithNull())
                .replaceWithVoid();
    }

    /**
     * The lookup is in: its contacts are installed and the events logged since it began are taken,
     * under the lock; the {@code presence_state} is built and encoded out of it, while changes for
     * this connection are held ({@code STATE_PENDING}); then, under the lock again, the state goes,
     * and the changes held meanwhile right after it as one diff. A lookup that began before the bus was restored, or
     * outlived the event log, may have missed events: its user is read again once this state is sent.
     */
    private void sendState(SocketSession session, Lookup lookup, long since, long restored, boolean first) {
        List<PresenceChanged> logged;
        Set<Long> contacts;
        boolean readAgain;
        synchronized (lock) {
            if (session.presence != JOINING) {
                return; // left or closed meanwhile: left() saw JOINING and left the row to be deleted here
            }
            readAgain = restorations != restored || this.logged - since > LOG_SIZE;
            Watcher watcher = watchers.get(session.userId);
            if (lookup != null) {
                install(session.userId, watcher, lookup.contacts());
            }
            contacts = watcher.contacts;
            logged = loggedSince(since);
            session.presence = STATE_PENDING;
        }
        String ref = session.connection.id();
        Map<Long, List<Meta>> state = new LinkedHashMap<>();
        if (lookup != null) {
            for (Meta meta : lookup.online()) {
                add(state, meta);
            }
        }
        add(state, new Meta(session.userId, ref, session.onlineAt));
        applyLogged(state, session.userId, contacts, logged);
        String frame = protocol.pushOnJoin(session.chatJoinRef(), ChatChannels.CHAT_TOPIC, PRESENCE_STATE,
                json -> writeUsers(json, state));
        boolean announce;
        synchronized (lock) {
            if (session.presence != STATE_PENDING) {
                return; // left or closed meanwhile, as above
            }
            sendStateAndHeld(session, frame);
            announce = first;
            if (readAgain) {
                toResync.add(session.userId);
            }
        }
        if (announce) {
            publish(new PresenceChanged(session.userId, ref, session.onlineAt, true));
        }
        if (readAgain) {
            pumpResync();
        }
    }

    /** The state, then the changes held while it was made as one diff: under the lock, so that no later diff overtakes them. */
    private void sendStateAndHeld(SocketSession session, String frame) {
        int maxPending = socketConfig.maxPendingFrames();
        session.send(frame, maxPending);
        session.presence = SYNCED;
        if (session.heldDiffs != null) {
            // Small (what came during one encoding).
            session.diffWindow = window;
            session.send(diff(session.heldDiffs.values()), maxPending);
            session.heldDiffs = null;
        }
    }

    /**
     * This replica listens to the bus again after a loss: the other replicas' presence events published meanwhile never
     * came. Every local user with a joined connection is read again and their connections get a fresh
     * {@code presence_state}.
     */
    public void busRestored() {
        int users;
        synchronized (lock) {
            restorations++;
            toResync.addAll(watchers.keySet());
            users = toResync.size();
        }
        Log.infof("Live events bus restored: the presence of %d users' connections here is read again", users);
        pumpResync();
    }

    /** Starts statements for the users waiting, {@value #RESYNC_BATCH} to one, while fewer than {@value #RESYNC_PARALLEL} run. */
    private void pumpResync() {
        List<List<Long>> batches = new ArrayList<>(RESYNC_PARALLEL);
        synchronized (lock) {
            while (resyncsInFlight < RESYNC_PARALLEL && !toResync.isEmpty()) {
                List<Long> batch = new ArrayList<>(Math.min(RESYNC_BATCH, toResync.size()));
                for (Iterator<Long> users = toResync.iterator(); users.hasNext() && batch.size() < RESYNC_BATCH;) {
                    long user = users.next();
                    if (resyncing.contains(user)) {
                        continue; // read again once its statement in flight is done
                    }
                    users.remove();
                    if (watchers.containsKey(user)) {
                        batch.add(user);
                    }
                }
                if (batch.isEmpty()) {
                    break;
                }
                resyncing.addAll(batch);
                resyncsInFlight++;
                batches.add(batch);
            }
        }
        batches.forEach(this::resync);
    }

    private void resync(List<Long> users) {
        long since;
        synchronized (lock) {
            since = logged;
        }
        presences.lookups(users).subscribe().with(lookups -> {
            boolean done = false;
            try {
                done = resynced(users, lookups, since);
            } finally {
                resyncDone(users, done ? null : users);
            }
        }, failure -> {
            Log.warnf("Presence of %d users not read again (%s); trying again in %d ms", users.size(), failure.toString(),
                    RESYNC_RETRY_MILLIS);
            resyncDone(users, users);
        });
    }

    private void resyncDone(List<Long> users, List<Long> again) {
        synchronized (lock) {
            resyncsInFlight--;
            users.forEach(resyncing::remove);
        }
        if (again != null && !stopping) {
            vertx.setTimer(RESYNC_RETRY_MILLIS, id -> {
                synchronized (lock) {
                    toResync.addAll(again);
                }
                pumpResync();
            });
        }
        pumpResync();
    }

    /**
     * As {@link #sendState} for every synced connection of these users: the lookups' contacts installed and the events
     * since taken under the lock, the states built out of it while changes are held ({@code RESYNCING}), then sent with
     * what was held, under the lock again.
     *
     * @return false if the event log no longer holds every event since the lookups began (they are to be done again)
     */
    private boolean resynced(List<Long> users, Map<Long, Lookup> lookups, long since) {
        List<SocketSession> pending = new ArrayList<>();
        Map<Long, Set<Long>> contactsOf = new HashMap<>();
        List<PresenceChanged> events;
        synchronized (lock) {
            if (logged - since > LOG_SIZE) {
                return false;
            }
            events = loggedSince(since);
            for (long user : users) {
                Watcher watcher = watchers.get(user);
                if (watcher == null) {
                    continue; // gone meanwhile
                }
                install(user, watcher, lookups.getOrDefault(user, Lookup.NOTHING).contacts());
                contactsOf.put(user, watcher.contacts);
                sessions.forEachOfUser(user, session -> {
                    if (session.presence == SYNCED) { // one joining gets its state from its own lookup
                        session.presence = RESYNCING;
                        session.heldDiffs = null; // in the lookup, or among the events since it began
                        pending.add(session);
                    }
                });
            }
        }
        Map<Long, Map<Long, List<Meta>>> stateOf = new HashMap<>();
        for (SocketSession session : pending) {
            Map<Long, List<Meta>> state = stateOf.computeIfAbsent(session.userId, user -> {
                Map<Long, List<Meta>> online = new LinkedHashMap<>();
                lookups.getOrDefault(user, Lookup.NOTHING).online().forEach(meta -> add(online, meta));
                return online;
            });
            add(state, new Meta(session.userId, session.connection.id(), session.onlineAt)); // its row may be gone: see restore()
        }
        stateOf.forEach((user, state) -> applyLogged(state, user, contactsOf.get(user), events));
        List<String> frames = new ArrayList<>(pending.size());
        for (SocketSession session : pending) {
            Map<Long, List<Meta>> state = stateOf.get(session.userId);
            frames.add(protocol.pushOnJoin(session.chatJoinRef(), ChatChannels.CHAT_TOPIC, PRESENCE_STATE,
                    json -> writeUsers(json, state)));
        }
        synchronized (lock) {
            for (int i = 0; i < pending.size(); i++) {
                SocketSession session = pending.get(i);
                if (session.presence == RESYNCING) { // else it left, closed or rejoined meanwhile
                    sendStateAndHeld(session, frames.get(i));
                }
            }
        }
        return true;
    }

    /** The connection left {@code room:chat} or closed: its row goes and its leave is announced. */
    Uni<Void> left(SocketSession session) {
        byte was;
        synchronized (lock) {
            was = session.presence;
            if (was == NONE) {
                return Uni.createFrom().voidItem();
            }
            session.presence = NONE;
            session.heldDiffs = null;
            Watcher watcher = watchers.get(session.userId);
            if (watcher != null && --watcher.connections == 0) {
                uninstall(session.userId, watcher);
                watchers.remove(session.userId);
            }
        }
        if (was == JOINING || was == STATE_PENDING) {
            return Uni.createFrom().voidItem(); // joined() deletes the row once its insert is done
        }
        String ref = session.connection.id();
        PresenceChanged leave = new PresenceChanged(session.userId, ref, session.onlineAt, false);
        return presences.leave(ref)
                .onFailure().invoke(failure -> Log.warnf("Presence row %s not deleted (%s); it goes with this replica",
                        ref, failure.toString()))
                .onFailure().recoverWithNull()
                .invoke(() -> publish(leave));
    }

    /** A join or leave from any replica (this one too): to the sockets here that should see it. */
    public void deliver(PresenceChanged event) {
        synchronized (lock) {
            log[(int) (logged++ % LOG_SIZE)] = event;
            String frame = null;
            Set<Long> watching = seenBy.get(event.userId());
            List<PresenceChanged> changes = List.of(event);
            if (watchers.containsKey(event.userId())) {
                frame = diff(event);
                sendToSynced(event.userId(), changes, frame);
            }
            if (watching != null) {
                for (long user : watching) {
                    if (frame == null) {
                        frame = diff(event);
                    }
                    sendToSynced(user, changes, frame);
                }
            }
        }
    }

    /**
     * Conversations changed who shares one with {@code userIds}: the local ones among them read
     * their contacts again, and their connections get the newcomers' joins and the departed's leaves.
     */
    public void contactsChanged(ContactsChanged event) {
        for (long user : event.userIds()) {
            boolean here;
            long since;
            synchronized (lock) {
                here = watchers.containsKey(user);
                since = logged;
            }
            if (here) {
                refreshContacts(user, since);
            }
        }
    }

    private void refreshContacts(long user, long since) {
        presences.contacts(user).chain(contacts -> {
            List<Long> changed = new ArrayList<>();
            synchronized (lock) {
                Watcher watcher = watchers.get(user);
                if (watcher == null) {
                    return Uni.createFrom().nullItem();
                }
                Set<Long> now = new HashSet<>(contacts);
                for (long before : watcher.contacts) {
                    if (!now.contains(before)) {
                        changed.add(before);
                    }
                }
                for (long contact : contacts) {
                    if (!watcher.contacts.contains(contact)) {
                        changed.add(contact);
                    }
                }
            }
            if (changed.isEmpty()) {
                return Uni.createFrom().nullItem();
            }
            return presences.online(changed).invoke(online -> {
                synchronized (lock) {
                    Watcher watcher = watchers.get(user);
                    if (watcher == null) {
                        return;
                    }
                    Set<Long> before = new HashSet<>(watcher.contacts);
                    install(user, watcher, contacts);
                    List<PresenceChanged> changes = new ArrayList<>();
                    for (Meta meta : online) {
                        boolean nowContact = watcher.contacts.contains(meta.userId());
                        if (nowContact != before.contains(meta.userId())) {
                            changes.add(new PresenceChanged(meta.userId(), meta.phxRef(), meta.onlineAt(), nowContact));
                        }
                    }
                    if (!changes.isEmpty()) {
                        sendToSynced(user, changes, diff(changes));
                    }
                    sessions.forEachOfUser(user, session -> {
                        if (session.presence == SYNCED || session.presence == STATE_PENDING || session.presence == RESYNCING) {
                            replayNewContacts(session, before, watcher, since);
                        }
                    });
                }
            });
        }).subscribe().with(ok -> {
        }, failure -> Log.warnf("Contacts of user %d not refreshed: %s", user, failure.toString()));
    }

    /** The heartbeat of this replica, its restoration if it was taken for dead, and the reaping of dead ones. */
    private void heartbeat() {
        if (stopping) {
            return;
        }
        presences.heartbeat(replicaId)
                .chain(wasMissing -> wasMissing ? restore() : Uni.createFrom().voidItem())
                .chain(() -> presences.reap(config.presence().replicaTimeout()))
                .subscribe().with(reaped -> {
                    reaped.connections().forEach(
                            meta -> publish(new PresenceChanged(meta.userId(), meta.phxRef(), meta.onlineAt(), false)));
                    if (reaped.deadSince() != null) {
                        Log.infof("A replica silent since %s was taken for dead", reaped.deadSince());
                        replicaDied.accept(reaped.deadSince());
                    }
                }, failure -> Log.warnf("Presence heartbeat failed: %s", failure.toString()));
    }

    /**
     * What to do when this replica finds another one dead (its heartbeat silent for {@code chat.presence.replica-timeout}),
     * given when that one was last seen: what it stored but had not announced yet never reached anyone live.
     */
    public void onReplicaDied(Consumer<Instant> action) {
        this.replicaDied = action;
    }

    /** Writes this replica's joined connections again (they were reaped, or never written) and announces them. */
    private Uni<Void> restore() {
        List<Meta> mine = new ArrayList<>();
        synchronized (lock) {
            for (long user : watchers.keySet()) {
                sessions.forEachOfUser(user, session -> {
                    if (session.presence == SYNCED || session.presence == STATE_PENDING || session.presence == RESYNCING) { // a pending one's row is written too
                        mine.add(new Meta(user, session.connection.id(), session.onlineAt));
                    }
                });
            }
        }
        return presences.restore(replicaId, mine).invoke(() -> mine.forEach(
                meta -> publish(new PresenceChanged(meta.userId(), meta.phxRef(), meta.onlineAt(), true))));
    }

    private void publish(PresenceChanged event) {
        live.publish(event);
    }

    /** The user's contacts are {@code contacts} now: the reverse index follows. Under lock. */
    private void install(long user, Watcher watcher, List<Long> contacts) {
        if (contacts.size() == watcher.contacts.size() && watcher.contacts.containsAll(contacts)) {
            return; // another connection of the user's: the same contacts, already indexed
        }
        Set<Long> now = new HashSet<>(contacts);
        for (long before : watcher.contacts) {
            if (!now.contains(before)) {
                Set<Long> watching = seenBy.get(before);
                if (watching != null && watching.remove(user) && watching.isEmpty()) {
                    seenBy.remove(before);
                }
            }
        }
        for (long contact : now) {
            if (!watcher.contacts.contains(contact)) {
                seenBy.computeIfAbsent(contact, c -> new HashSet<>(4)).add(user);
            }
        }
        watcher.contacts = now;
    }

    private void uninstall(long user, Watcher watcher) {
        install(user, watcher, List.of());
    }

    /** The events logged since {@code since} (at most the last {@link #LOG_SIZE}), oldest first. Under lock. */
    private List<PresenceChanged> loggedSince(long since) {
        long from = Math.max(since, logged - LOG_SIZE);
        List<PresenceChanged> events = new ArrayList<>((int) (logged - from));
        for (long n = from; n < logged; n++) {
            events.add(log[(int) (n % LOG_SIZE)]);
        }
        return events;
    }

    /**
     * The logged events that concern the user or their contacts, applied to the lookup's state as
     * the client would apply them as diffs (joins add a meta, leaves take one away): one
     * {@code presence_state} instead of a diff per event after it.
     */
    private static void applyLogged(Map<Long, List<Meta>> state, long user, Set<Long> contacts, List<PresenceChanged> events) {
        for (PresenceChanged event : events) {
            if (event.userId() != user && !contacts.contains(event.userId())) {
                continue;
            }
            if (event.joined()) {
                add(state, new Meta(event.userId(), event.phxRef(), event.onlineAt()));
            } else {
                List<Meta> metas = state.get(event.userId());
                if (metas != null) {
                    metas.removeIf(meta -> meta.phxRef().equals(event.phxRef()));
                    if (metas.isEmpty()) {
                        state.remove(event.userId());
                    }
                }
            }
        }
    }

    private void replayNewContacts(SocketSession session, Set<Long> before, Watcher watcher, long since) {
        for (long n = Math.max(since, logged - LOG_SIZE); n < logged; n++) {
            PresenceChanged event = log[(int) (n % LOG_SIZE)];
            if (!before.contains(event.userId()) && watcher.contacts.contains(event.userId())) {
                if (session.presence == STATE_PENDING || session.presence == RESYNCING) {
                    hold(session, List.of(event));
                } else {
                    session.send(diff(event), socketConfig.maxPendingFrames());
                }
            }
        }
    }

    /**
     * The changes to the user's synced connections here: as {@code frame} (their diff) at once to a
     * connection that got no diff in this window, held for the window's end otherwise. Under lock.
     */
    private void sendToSynced(long user, List<PresenceChanged> changes, String frame) {
        int maxPending = socketConfig.maxPendingFrames();
        boolean coalesce = flushTimer >= 0;
        sessions.forEachOfUser(user, session -> {
            if (session.presence == STATE_PENDING || session.presence == RESYNCING) {
                hold(session, changes);
                return;
            }
            if (session.presence != SYNCED) {
                return;
            }
            if (!coalesce || (session.heldDiffs == null && session.diffWindow != window)) {
                session.diffWindow = window;
                session.send(frame, maxPending);
                return;
            }
            if (session.heldDiffs == null) {
                session.heldDiffs = new HashMap<>(8);
                holding.add(session);
            }
            hold(session, changes);
        });
    }

    /** Held for the connection's next diff, the latest change of each connection winning. Under lock. */
    private static void hold(SocketSession session, List<PresenceChanged> changes) {
        if (session.heldDiffs == null) {
            session.heldDiffs = new HashMap<>(8);
        }
        for (PresenceChanged change : changes) {
            session.heldDiffs.put(change.phxRef(), change); // the client applies joins, then leaves: order is moot
        }
    }

    /** The window ends: every connection with held changes gets them as one diff, and no other diff before the next window. */
    private void endWindow() {
        List<SocketSession> ending;
        List<Map<String, PresenceChanged>> held;
        synchronized (lock) {
            window++;
            if (holding.isEmpty()) {
                return;
            }
            ending = holding;
            holding = new ArrayList<>();
            held = new ArrayList<>(ending.size());
            for (SocketSession session : ending) {
                if (session.presence != SYNCED) {
                    // Rejoining or gone since: its presence_state says it all, or nothing is owed. Resyncing: what it holds
                    // goes right after its new presence_state.
                    held.add(null);
                    continue;
                }
                held.add(session.heldDiffs);
                session.heldDiffs = null;
                session.diffWindow = window;
            }
        }
        // Out of the lock: each diff is this connection's own; a change coming meanwhile is held for the next window.
        // A user's connections here mostly hold the same changes (they see the same users): one frame for those.
        int maxPending = socketConfig.maxPendingFrames();
        Map<Long, Encoded> lastOfUser = new HashMap<>();
        for (int i = 0; i < ending.size(); i++) {
            Map<String, PresenceChanged> changes = held.get(i);
            if (changes == null) {
                continue;
            }
            SocketSession session = ending.get(i);
            Encoded last = lastOfUser.get(session.userId);
            if (last == null || !last.changes().equals(changes)) {
                last = new Encoded(changes, diff(changes.values()));
                lastOfUser.put(session.userId, last);
            }
            session.send(last.frame(), maxPending);
        }
    }

    private String diff(PresenceChanged event) {
        return diff(List.of(event));
    }

    /** One diff of several changes, each connection's latest only. */
    private String diff(Collection<PresenceChanged> changes) {
        Map<Long, List<Meta>> joins = new LinkedHashMap<>();
        Map<Long, List<Meta>> leaves = new LinkedHashMap<>();
        for (PresenceChanged change : changes) {
            add(change.joined() ? joins : leaves, new Meta(change.userId(), change.phxRef(), change.onlineAt()));
        }
        return protocol.pushOnJoin(null, ChatChannels.CHAT_TOPIC, PRESENCE_DIFF, json -> {
            json.writeStartObject();
            json.writeFieldName("joins");
            writeUsers(json, joins);
            json.writeFieldName("leaves");
            writeUsers(json, leaves);
            json.writeEndObject();
        });
    }

    private static void add(Map<Long, List<Meta>> users, Meta meta) {
        List<Meta> metas = users.computeIfAbsent(meta.userId(), user -> new ArrayList<>(4));
        for (Meta known : metas) {
            if (known.phxRef().equals(meta.phxRef())) {
                return;
            }
        }
        metas.add(meta);
    }

    /** {@code {"<user id>": {"metas": [{"phx_ref", "online_at"}, ...]}, ...}}: a state, or one side of a diff. */
    private static void writeUsers(JsonGenerator json, Map<Long, List<Meta>> users) throws IOException {
        json.writeStartObject();
        for (Map.Entry<Long, List<Meta>> user : users.entrySet()) {
            json.writeFieldName(Long.toString(user.getKey()));
            json.writeStartObject();
            json.writeArrayFieldStart("metas");
            for (Meta meta : user.getValue()) {
                json.writeStartObject();
                json.writeStringField("phx_ref", meta.phxRef());
                json.writeNumberField("online_at", meta.onlineAt());
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        json.writeEndObject();
    }

    /** A local user's contacts and how many of their connections here joined {@code room:chat}. */
    private static final class Watcher {
        Set<Long> contacts = Set.of();
        int connections;
    }

    /** The changes a connection held, and their diff. */
    private record Encoded(Map<String, PresenceChanged> changes, String frame) {
    }
}
