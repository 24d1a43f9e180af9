package io.companychat.chat.socket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The open sockets of one user on this replica. Opening and closing a socket cost amortized O(1): a socket takes
 * the next free slot at the end of the array and leaves a hole when it closes, and the array is copied only when
 * it is full (into one twice the size, or the same size once half of it is holes) or a quarter full. Readers (live
 * delivery, sweeps) walk the array without a lock and skip the holes: a socket never moves within an array, so a
 * walk meets each socket at most once; one that opened after the walk began may be missed, as with a snapshot.
 */
final class UserSockets {

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(SocketSession[].class);
    private static final int SMALLEST_TO_SHRINK = 8;

    private volatile SocketSession[] slots;
    /** Sockets held; guarded by this. */
    private int count;
    /** Slots at and after this index have never been used since the array was made; guarded by this. */
    private int end;

    /** Completes once the bus brings this replica the user's events ({@link io.companychat.chat.live.MessageBus#follow}). */
    final CompletionStage<Void> followed;

    UserSockets(SocketSession first, CompletionStage<Void> followed) {
        this.followed = followed;
        slots = new SocketSession[] { first };
        first.slot = 0;
        count = 1;
        end = 1;
    }

    /** Adds the socket unless the user already holds {@code max} of them (0: no limit); whether it was added. */
    synchronized boolean add(SocketSession session, int max) {
        if (max > 0 && count >= max) {
            return false;
        }
        SocketSession[] current = slots;
        if (end == current.length) {
            current = copy(count <= current.length / 2 ? current.length : current.length * 2);
        }
        session.slot = end;
        SLOT.setVolatile(current, end++, session);
        count++;
        return true;
    }

    /** Removes the socket if it is here; how many are left. */
    synchronized int remove(SocketSession session) {
        SocketSession[] current = slots;
        int i = session.slot;
        if (i < 0 || i >= end || current[i] != session) {
            return count;
        }
        SLOT.setVolatile(current, i, null);
        session.slot = -1;
        count--;
        while (end > 0 && current[end - 1] == null) {
            end--;
        }
        if (count > 0 && current.length >= SMALLEST_TO_SHRINK && count <= current.length / 4) {
            copy(current.length / 2);
        }
        return count;
    }

    synchronized int count() {
        return count;
    }

    void forEach(Consumer<SocketSession> action) {
        SocketSession[] current = slots;
        for (int i = 0; i < current.length; i++) {
            SocketSession session = (SocketSession) SLOT.getVolatile(current, i);
            if (session != null) {
                action.accept(session);
            }
        }
    }

    /** Moves the sockets, in order and without holes, to a new array of {@code capacity} slots and publishes it. */
    private SocketSession[] copy(int capacity) {
        SocketSession[] current = slots;
        SocketSession[] copied = new SocketSession[capacity];
        int n = 0;
        for (int i = 0; i < end; i++) {
            SocketSession session = current[i];
            if (session != null) {
                session.slot = n;
                copied[n++] = session;
            }
        }
        end = n;
        slots = copied;
        return copied;
    }
}
