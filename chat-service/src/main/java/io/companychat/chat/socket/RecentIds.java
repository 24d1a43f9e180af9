package io.companychat.chat.socket;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The ids of the last {@code capacity} messages this replica delivered to its sockets (live, whoever stored them):
 * after a loss of the bus, what it delivered need not be delivered again. Written by every event loop without a lock
 * (one atomic increment and one ordered store per message); read rarely, as a snapshot. A slot overwritten while it is
 * read, or a burst beyond the capacity, can only make a message look undelivered: it is then sent twice, never lost.
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

    /** The ids held now, ascending (duplicates possible). */
    long[] snapshot() {
        int size = (int) Math.min(next.get(), ids.length());
        long[] copy = new long[size];
        for (int i = 0; i < size; i++) {
            copy[i] = ids.get(i);
        }
        Arrays.sort(copy);
        return copy;
    }
}
