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
import { api as apiAt, callerLines, checkList, presenceClient, waitFor } from "./presence-lib.mjs";

const args = JSON.parse(process.argv[2]);
const [replica1, replica2] = args.replicas;
const users = args.users;
const TIMEOUT_MS = 15000;
const SETTLE_MS = 1500; // the changes made while the bus is away reach the presences table
const RESYNC_MS = 15000; // jnats tries again every second; a busy machine may need a few

const { checks, failed, check } = checkList();
const caller = callerLines();

/** A connected, joined client with its Presence (presence-lib.mjs), named with its replica. */
async function client(name, endpoint) {
  const joined = await presenceClient(name, endpoint, users[name].token, TIMEOUT_MS);
  return { name: `${name}@${endpoint === replica1 ? 1 : 2}`, view: joined.view, joinRef: () => joined.channel.joinRef(),
    close: joined.close };
}

const api = (method, path, token, body) => apiAt(args.api, method, path, token, body);

async function ask(need) {
  console.log(JSON.stringify({ need }));
  const answer = await caller.next(need, 60000);
  return answer.value;
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
  caller.close();
}
result.checks = checks;
result.failed = failed;
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
