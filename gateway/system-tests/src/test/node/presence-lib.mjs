// What the presence checks share (presence-check.mjs, presence-outage-check.mjs): a joined client of the real
// `phoenix` npm client with its own `Presence` object, waiting with a deadline, and REST calls through the gateway.
import { Socket, Presence } from "phoenix";
import WebSocket from "ws";
import { createInterface } from "node:readline";

/** The checks a run records: passed ones in checks, failed ones in failed (its last line reports both). */
export function checkList() {
  const checks = [];
  const failed = [];
  const check = (name, ok, detail) => { (ok ? checks : failed).push(detail === undefined ? name : `${name}: ${detail}`); };
  return { checks, failed, check };
}

/** The caller's answers on stdin, a line each: next(what, ms) waits for the next one; close() when done. */
export function callerLines() {
  const input = createInterface({ input: process.stdin });
  const lines = input[Symbol.asyncIterator]();
  return { next: (what, ms) => withTimeout(lines.next(), what, ms), close: () => input.close() };
}

/**
 * A connected, joined client with its Presence; view() is {userId: [phx_ref...] sorted} from presence.list().
 * It never reconnects on its own within a run (a check decides when a client comes back).
 */
export async function presenceClient(name, endpoint, token, timeoutMs) {
  const socket = new Socket(endpoint, { transport: WebSocket, params: { token }, timeout: timeoutMs,
    reconnectAfterMs: () => 60000 });
  socket.connect();
  const channel = socket.channel("room:chat", {});
  const presence = new Presence(channel);
  let syncs = 0;
  presence.onSync(() => { syncs++; });
  await withTimeout(new Promise((resolve, reject) => {
    channel.join()
      .receive("ok", resolve)
      .receive("error", (reply) => reject(new Error(`${name}: join refused: ${JSON.stringify(reply)}`)))
      .receive("timeout", () => reject(new Error(`${name}: join timed out`)));
  }), `${name} join`, timeoutMs);
  const view = () => {
    const seen = {};
    presence.list((id, { metas }) => { seen[id] = metas.map((meta) => meta.phx_ref).sort(); });
    return seen;
  };
  await waitFor(() => syncs > 0, timeoutMs, `${name}: onSync after the join`);
  return { socket, channel, presence, view, syncs: () => syncs, close: () => socket.disconnect() };
}

export function withTimeout(promise, what, ms) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms); }),
  ]);
}

export async function waitFor(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A JSON call through the gateway as the token's user; the answer's JSON (null when empty); throws on an error status. */
export async function api(base, method, path, token, body) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
