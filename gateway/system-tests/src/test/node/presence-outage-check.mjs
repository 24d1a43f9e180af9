// Presence while the bus is away, with the real `phoenix` npm client's own `Presence` object, unchanged, on two
// chat-service replicas (NatsOutageIT): Ann (two devices) on replica 1, Ben on replica 2, Cat and Dan, all four in
// one group (so everyone sees everyone). The bus is taken away (the caller decides how: one replica's link cut, or
// NATS killed); meanwhile Ann's second device leaves, Cat's device on replica 2 leaves and another of hers joins on
// replica 1, and Dan joins on replica 2. Once the bus is back, every client's list() must equal the truth (the
// `presences` table, which the caller reads) within RESYNC_MS, without anyone rejoining.
//
// usage: node presence-outage-check.mjs <json args>
//   args: {"replicas": [ws endpoint of replica 1, of replica 2] (…/socket), "api": gateway base URL,
//          "users": {"ann", "ben", "cat", "dan"}: {"id", "token"} each}
// Talks to its caller over stdio: prints {"need": "away"}, {"need": "back"} and {"need": "truth"} and waits for a
// line on stdin after each (for "truth": {"<user id>": [phx_ref, ...]}); its last line is
// {"ok", "checks": [...], "failed": [...], "error", "resyncedAfterMs"}.
import { Socket, Presence } from "phoenix";
import WebSocket from "ws";
import { createInterface } from "node:readline";

const args = JSON.parse(process.argv[2]);
const [replica1, replica2] = args.replicas;
const users = args.users;
const TIMEOUT_MS = 15000;
const SETTLE_MS = 1500; // the changes made while the bus is away reach the presences table
const RESYNC_MS = 15000; // jnats tries again every second; a busy machine may need a few

const checks = [];
const failed = [];
function check(name, ok, detail) {
  (ok ? checks : failed).push(detail === undefined ? name : `${name}: ${detail}`);
}

const stdinLines = createInterface({ input: process.stdin });
const lines = stdinLines[Symbol.asyncIterator]();

async function ask(need) {
  console.log(JSON.stringify({ need }));
  const answer = await withTimeout(lines.next(), need, 60000);
  return answer.value;
}

/** A connected, joined client with its Presence; view() is {userId: [phx_ref...] sorted} from presence.list(). */
async function client(name, endpoint) {
  const socket = new Socket(endpoint, { transport: WebSocket, params: { token: users[name].token }, timeout: TIMEOUT_MS,
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
  }), `${name} join`);
  const view = () => {
    const seen = {};
    presence.list((id, { metas }) => { seen[id] = metas.map((meta) => meta.phx_ref).sort(); });
    return seen;
  };
  await waitFor(() => syncs > 0, TIMEOUT_MS, `${name}: onSync after the join`);
  return { name: `${name}@${endpoint === replica1 ? 1 : 2}`, view, joinRef: () => channel.joinRef(),
    close: () => socket.disconnect() };
}

function withTimeout(promise, what, ms = TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms); }),
  ]);
}

async function waitFor(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function api(method, path, token, body) {
  const response = await fetch(args.api + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const ids = Object.fromEntries(Object.entries(users).map(([name, user]) => [name, String(user.id)]));
const canonical = (view) => JSON.stringify(Object.fromEntries(Object.keys(view).sort().map((key) => [key, view[key]])));
const result = { ok: false };
const open = [];
const views = (clients) => clients.map((one) => `${one.name} ${canonical(one.view())}`).join("; ");

try {
  await api("POST", "/api/conversations", users.ann.token,
    { title: "Outage", member_ids: [users.ben.id, users.cat.id, users.dan.id] });
  const annPhone = await client("ann", replica1);
  const phoneRef = annPhone.view()[ids.ann]?.[0]; // her only device so far
  const annLaptop = await client("ann", replica1);
  const ben = await client("ben", replica2);
  const catOn2 = await client("cat", replica2);
  open.push(annPhone, annLaptop, ben, catOn2);
  let truth = JSON.parse(await ask("truth"));
  await waitFor(() => open.every((one) => canonical(one.view()) === canonical(truth)), TIMEOUT_MS,
    `every view the truth ${canonical(truth)} before the outage (${views(open)})`);
  const joinRefs = open.map((one) => one.joinRef());

  await ask("away");
  annLaptop.close();
  catOn2.close();
  open.splice(open.indexOf(annLaptop), 1);
  open.splice(open.indexOf(catOn2), 1);
  const catOn1 = await client("cat", replica1);
  const dan = await client("dan", replica2);
  open.push(catOn1, dan);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  truth = JSON.parse(await ask("truth"));
  check("the truth while away: Ann's phone, Ben, Cat's new device, Dan",
    truth[ids.ann]?.length === 1 && truth[ids.ben]?.length === 1 && truth[ids.cat]?.length === 1
      && truth[ids.dan]?.length === 1 && Object.keys(truth).length === 4, canonical(truth));
  const stale = open.filter((one) => canonical(one.view()) !== canonical(truth)).map((one) => one.name);
  console.error(`stale while the bus is away: ${stale.join(", ") || "none"}`);

  await ask("back");
  const back = Date.now();
  try {
    await waitFor(() => open.every((one) => canonical(one.view()) === canonical(truth)), RESYNC_MS, "views");
    result.resyncedAfterMs = Date.now() - back;
    check("every client's view is the truth once the bus is back", true);
  } catch (error) {
    check("every client's view is the truth once the bus is back", false,
      `truth ${canonical(truth)}; ${views(open)}`);
  }
  check("Ann's phone is the one of hers left", same(truth[ids.ann], [phoneRef]), `${phoneRef} vs ${truth[ids.ann]}`);
  check("nobody rejoined", same(joinRefs.slice(0, 1).concat(joinRefs.slice(2, 3)), [annPhone.joinRef(), ben.joinRef()]));
  result.ok = failed.length === 0;
} catch (error) {
  result.error = String(error.message || error);
} finally {
  for (const one of open) one.close();
  stdinLines.close();
}
result.checks = checks;
result.failed = failed;
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
