package io.companychat.chat.socket;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongPredicate;

/**
 * The ids of the last {@code capacity} messages this replica delivered to its sockets (live, whoever stored them):
 * after a loss of the bus, what it delivered need not be delivered again. Written by every event loop without a lock
 * (one atomic increment and one ordered store per message); read rarely, for a range of ids. A slot overwritten while
 * it is read, or a burst beyond the capacity, can only make a message look undelivered: it is then sent twice, never
 * lost.
 * Hand-written: a fixed ring of longs, which no collection in the build gives without boxing or locking.
 */
final class RecentIds {

    private final AtomicLongArray ids;
    private final AtomicLong next = new AtomicLong();

    RecentIds(int capacity) {
        this.ids = new AtomicLongArray(capacity);
    }

    void add(long id) {
        ids.lazySet((int) (next.getAndIncrement() % ids.length()), id);
    }

    /**
     * Which of the ids from {@code from} to {@code to} (inclusive) are held now: one pass over the ring into a bit set
     * of that range (a read after a loss of the bus asks for the ids of its own messages, a narrow range), no sort.
     */
    LongPredicate heldBetween(long from, long to) {
        BitSet held = new BitSet();
        int size = (int) Math.min(next.get(), ids.length());
        for (int i = 0; i < size; i++) {
            long id = ids.get(i);
            if (id >= from && id <= to && id - from <= Integer.MAX_VALUE) {
                held.set((int) (id - from));
            }
        }
        return id -> id >= from && id <= to && id - from <= Integer.MAX_VALUE && held.get((int) (id - from));
    }
}
