// Presence with the real `phoenix` npm client's own `Presence` object, unchanged, on `room:chat`
// (API.md Part 2, "Presence"), against two chat-service replicas: onSync after the join; list()
// holds the caller and online contacts, not strangers; a second device adds a meta, closing it
// removes it, closing the last removes the user; a new contact appears and a removed one
// disappears (within 2 s); both replicas give the same view; a SIGKILLed replica's users leave
// within 60 s.
//
// usage: node presence-check.mjs <json args>
//   args: {"replicas": [ws endpoint of replica 1, of replica 2] (…/socket), "api": gateway base URL,
//          "users": {"ann", "bob", "carl", "dan", "eve"}: {"id", "token"} each}
//   ann shares a direct conversation with bob and one with carl before the run; dan and eve with nobody.
// Talks to its caller over stdio: prints {"need": "kill replica 2"} and waits for a line on stdin once
// it has; its last line is {"ok", "checks": [...], "failed": [...], "error"}.
import { api as apiAt, callerLines, checkList, presenceClient, waitFor } from "./presence-lib.mjs";

const args = JSON.parse(process.argv[2]);
const [replica1, replica2] = args.replicas;
const users = args.users;
const TIMEOUT_MS = 15000;
const CONTACT_CHANGE_MS = 2500; // API.md: within 2 seconds (and a little for this process)
const DEAD_REPLICA_MS = 60000;

const { checks, failed, check } = checkList();
const caller = callerLines();

/** A connected, joined client with its Presence (presence-lib.mjs). */
async function client(name, endpoint) {
  return { name, ...(await presenceClient(name, endpoint, users[name].token, TIMEOUT_MS)) };
}

const api = (method, path, token, body) => apiAt(args.api, method, path, token, body);

/** Waits for the condition; records a check either way, with how long it took. */
async function expectWithin(name, ms, condition, describe) {
  const start = Date.now();
  try {
    await waitFor(condition, ms, name);
    check(name, true);
    return Date.now() - start;
  } catch (error) {
    check(name, false, describe());
    return -1;
  }
}

const ids = Object.fromEntries(Object.entries(users).map(([name, user]) => [name, String(user.id)]));
const keys = (view) => Object.keys(view).sort();
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sorted = (...names) => names.map((name) => ids[name]).sort();
const result = { ok: false };
const open = [];

try {
  const bob = await client("bob", replica2);
  const eve = await client("eve", replica1);
  open.push(bob, eve);

  const annPhone = await client("ann", replica1);
  open.push(annPhone);
  check("onSync fired after the join", annPhone.syncs() > 0);
  check("list() after the join: Ann and her online contact Bob, not Eve", same(keys(annPhone.view()), sorted("ann", "bob")),
    JSON.stringify(annPhone.view()));
  check("one meta per connection", annPhone.view()[ids.ann]?.length === 1 && annPhone.view()[ids.bob]?.length === 1,
    JSON.stringify(annPhone.view()));
  await expectWithin("Bob (replica 2) sees Ann join (replica 1)", CONTACT_CHANGE_MS,
    () => bob.view()[ids.ann]?.length === 1, () => JSON.stringify(bob.view()));
  check("both replicas give the same view", same(annPhone.view(), bob.view()),
    `${JSON.stringify(annPhone.view())} vs ${JSON.stringify(bob.view())}`);

  const phoneRef = annPhone.view()[ids.ann][0];
  const annLaptop = await client("ann", replica2);
  open.push(annLaptop);
  await expectWithin("a second device adds a meta (seen by Bob)", CONTACT_CHANGE_MS,
    () => bob.view()[ids.ann]?.length === 2, () => JSON.stringify(bob.view()));
  await expectWithin("a second device adds a meta (seen on the first device)", CONTACT_CHANGE_MS,
    () => annPhone.view()[ids.ann]?.length === 2, () => JSON.stringify(annPhone.view()));
  check("the second device's own list has both", annLaptop.view()[ids.ann]?.length === 2, JSON.stringify(annLaptop.view()));
  const laptopRef = bob.view()[ids.ann].find((ref) => ref !== phoneRef);

  annLaptop.close();
  open.splice(open.indexOf(annLaptop), 1);
  await expectWithin("closing one device removes its meta, the other stays", CONTACT_CHANGE_MS,
    () => same(bob.view()[ids.ann], [phoneRef]) && same(annPhone.view()[ids.ann], [phoneRef]),
    () => `${JSON.stringify(bob.view())} / ${JSON.stringify(annPhone.view())}`);
  check("each connection has its own phx_ref", typeof laptopRef === "string" && laptopRef !== phoneRef, laptopRef);

  const carl = await client("carl", replica1);
  open.push(carl);
  await expectWithin("Ann sees her contact Carl come online", CONTACT_CHANGE_MS, () => ids.carl in annPhone.view(),
    () => JSON.stringify(annPhone.view()));
  carl.close();
  open.splice(open.indexOf(carl), 1);
  await expectWithin("closing the last device removes the user", CONTACT_CHANGE_MS, () => !(ids.carl in annPhone.view()),
    () => JSON.stringify(annPhone.view()));

  const dan = await client("dan", replica2);
  open.push(dan);
  check("Dan, a stranger, is not in Ann's list", !(ids.dan in annPhone.view()), JSON.stringify(annPhone.view()));
  const group = await api("POST", "/api/conversations", users.dan.token, { title: "Presence", member_ids: [users.ann.id] });
  await expectWithin("a new contact appears (Dan in Ann's list)", CONTACT_CHANGE_MS, () => ids.dan in annPhone.view(),
    () => JSON.stringify(annPhone.view()));
  await expectWithin("a new contact appears (Ann in Dan's list)", CONTACT_CHANGE_MS, () => ids.ann in dan.view(),
    () => JSON.stringify(dan.view()));
  await api("DELETE", `/api/conversations/${group.id}/members/${users.ann.id}`, users.dan.token);
  await expectWithin("a removed member disappears (Dan from Ann's list)", CONTACT_CHANGE_MS,
    () => !(ids.dan in annPhone.view()), () => JSON.stringify(annPhone.view()));
  await expectWithin("a removed member disappears (Ann from Dan's list)", CONTACT_CHANGE_MS,
    () => !(ids.ann in dan.view()), () => JSON.stringify(dan.view()));
  check("Eve's list never held anyone but her", same(keys(eve.view()), sorted("eve")), JSON.stringify(eve.view()));

  // Bob and Dan are on replica 2: it is SIGKILLed, it says goodbye to no one.
  console.log(JSON.stringify({ need: "kill replica 2" }));
  await caller.next("the kill", 60000);
  const leftAfter = await expectWithin("a SIGKILLed replica's users leave within 60 s", DEAD_REPLICA_MS,
    () => !(ids.bob in annPhone.view()), () => JSON.stringify(annPhone.view()));
  result.killedReplicaLeftAfterMs = leftAfter;
  check("the other replica's users stay", ids.ann in annPhone.view() && ids.eve in eve.view(),
    `${JSON.stringify(annPhone.view())} / ${JSON.stringify(eve.view())}`);
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
