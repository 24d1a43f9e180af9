package io.companychat.chat.socket;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The received frames of one socket that wait while an earlier one is being handled, bounded in number and in
 * characters. It exists only while frames wait: a socket with nothing to handle holds no queue (an idle socket costs
 * one null field), a socket handling one frame with none behind it holds the shared {@link #NONE}. Not thread-safe:
 * {@link SocketSession} guards it.
 */
final class WaitingFrames {

    /** What a frame offered to the socket's queue becomes. */
    enum Admission {
        /** Queued: it runs once the frames before it have been handled. */
        QUEUED,
        /** Not queued: the client is told to slow down. */
        REFUSED,
        /** Not queued, and the client kept sending after its refusals: the socket is to be closed. */
        CLOSE,
        /** Not queued: the socket is being closed already. */
        DROPPED
    }

    /** One frame being handled, none waiting. Shared, holds nothing. */
    static final WaitingFrames NONE = new WaitingFrames(null);

    private final ArrayDeque<Waiting> frames;
    private int chars;
    /** Frames refused since the queue was last empty. */
    private int refused;
    /** Set once the socket is to be closed: nothing is queued or run any more. */
    private boolean closed;

    private WaitingFrames(ArrayDeque<Waiting> frames) {
        this.frames = frames;
    }

    static WaitingFrames create() {
        return new WaitingFrames(new ArrayDeque<>(8));
    }

    boolean isNone() {
        return frames == null;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Queues the frame if both bounds leave room for it; refuses it otherwise, and counts the refusals: the one
     * after {@code maxFrames} refusals closes the queue (see {@link #close()}).
     */
    Admission offer(Runnable frame, Runnable drop, int length, int maxFrames, int maxChars) {
        if (closed) {
            return Admission.DROPPED;
        }
        if (frames.size() < maxFrames && (long) chars + length <= maxChars) {
            frames.add(new Waiting(frame, drop, length));
            chars += length;
            return Admission.QUEUED;
        }
        refused++;
        return refused <= maxFrames ? Admission.REFUSED : Admission.CLOSE;
    }

    /** Takes the oldest waiting frame off the queue; null when none waits or the queue is closed. */
    Runnable next() {
        Waiting next = closed ? null : frames.poll();
        if (next == null) {
            return null;
        }
        chars -= next.length();
        return next.frame();
    }

    boolean isEmpty() {
        return frames.isEmpty();
    }

    /** Closes the queue: the waiting frames will not run; what drops each of them is returned. */
    List<Runnable> close() {
        closed = true;
        List<Runnable> drops = new ArrayList<>(frames.size());
        frames.forEach(waiting -> drops.add(waiting.drop()));
        frames.clear();
        chars = 0;
        return drops;
    }

    /** A queued frame: how to run it, how to let it go unhandled, and how many characters it holds. */
    private record Waiting(Runnable frame, Runnable drop, int length) {
    }
}
