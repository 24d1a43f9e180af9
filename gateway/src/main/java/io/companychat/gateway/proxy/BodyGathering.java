package io.companychat.gateway.proxy;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.httpproxy.Body;

/**
 * Gathers a service's response body before the response is written to the client, up to a limit, so that a small
 * answer leaves the gateway in one write with its head (README, "Behaviour where API.md is silent"). Streamed, every
 * piece the HTTP client decoded (one per read from the service, and one per chunk of a chunked body) was written and
 * flushed on its own, and a chunked body's end in one more write: 3 to 4 system calls and TCP segments for a history
 * page.
 */
final class BodyGathering {

    /** A first guess for a body of unknown length (chunked): the buffer grows up to the limit. */
    private static final int UNKNOWN_LENGTH_GUESS = 16 * 1024;

    private BodyGathering() {
    }

    /**
     * The body to send on: all of it in one buffer when it ends within {@code limit} bytes (it is then sent with its
     * length, whether or not the service chunked it), else the gathered start followed by the rest of the stream as
     * it comes. Fails if the stream fails before either.
     */
    static Future<Body> gather(Body body, int limit) {
        ReadStream<Buffer> stream = body.stream();
        Buffer start = Buffer.buffer(body.length() >= 0 ? (int) body.length() : UNKNOWN_LENGTH_GUESS);
        Promise<Body> gathered = Promise.promise();
        stream.exceptionHandler(gathered::tryFail);
        stream.endHandler(v -> gathered.tryComplete(Body.body(start)));
        stream.handler(piece -> {
            start.appendBuffer(piece);
            if (start.length() > limit) {
                // The rest stays in the stream, paused, until whoever sends the body asks for it.
                stream.pause();
                gathered.tryComplete(Body.body(new Prefixed(start, stream), body.length()));
            }
        });
        stream.resume();
        return gathered.future();
    }

    /** A body's gathered start, then the rest of its stream. */
    private static final class Prefixed implements ReadStream<Buffer> {

        private final ReadStream<Buffer> rest;
        private Buffer start;
        private Handler<Buffer> handler;
        private boolean paused = true;

        Prefixed(Buffer start, ReadStream<Buffer> rest) {
            this.start = start;
            this.rest = rest;
        }

        @Override
        public ReadStream<Buffer> handler(Handler<Buffer> handler) {
            this.handler = handler;
            rest.handler(handler);
            return this;
        }

        @Override
        public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
            rest.exceptionHandler(handler);
            return this;
        }

        @Override
        public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
            rest.endHandler(endHandler);
            return this;
        }

        @Override
        public ReadStream<Buffer> pause() {
            paused = true;
            rest.pause();
            return this;
        }

        @Override
        public ReadStream<Buffer> resume() {
            return fetch(Long.MAX_VALUE);
        }

        @Override
        public ReadStream<Buffer> fetch(long amount) {
            paused = false;
            if (start != null && handler != null) {
                Buffer first = start;
                start = null;
                handler.handle(first);
            }
            // the handler may have paused this stream (the client's write queue is full)
            if (!paused) {
                rest.fetch(amount);
            }
            return this;
        }
    }
}
