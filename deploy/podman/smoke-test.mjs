// Smoke test of a running company chat, through the gateway only, as a client sees it (API.md):
// register two people, read their generated passwords, log in, open a conversation, exchange a
// message over the Phoenix Channels socket, find it in the history, log out.
// The passwords come from user-service's mock-mail page (/dev/sent-mails, dev overlay only), read
// on user-service's own port: the gateway never routes it.
// Environment: GATEWAY_URL, GATEWAY_MANAGEMENT_URL, USER_SERVICE_URL (set by run-dev.sh).
// One line per step; exits 1 at the first failure.

import WebSocket from "ws";

const GATEWAY = required("GATEWAY_URL");
const MANAGEMENT = required("GATEWAY_MANAGEMENT_URL");
const USER_SERVICE = required("USER_SERVICE_URL");
const RUN = `${Date.now().toString(36)}${process.pid}`;
const STEP_TIMEOUT_MS = 15_000;

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set (run this through deploy/podman/run-dev.sh)`);
  return value.replace(/\/$/, "");
}

function fail(message) {
  console.log(`FAIL ${message}`);
  process.exit(1);
}

async function step(name, fn) {
  let timer;
  try {
    const result = await Promise.race([
      fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no result after ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS))),
    ]);
    console.log(`ok   ${name}`);
    return result;
  } catch (e) {
    fail(`${name}: ${e.message}`);
  } finally {
    clearTimeout(timer);
  }
}

// retry503: a safe request answered 503 (a dependency still warming up) is retried after its
// Retry-After, as API.md tells clients to, a few times
async function http(method, url, { body, token, retry503 = false } = {}) {
  for (let attempt = 1; ; attempt++) {
    const res = await request(method, url, { body, token });
    if (!(retry503 && res.status === 503 && attempt < 4)) return res;
    const wait = Math.min(Number(res.headers.get("retry-after")) || 1, 3);
    console.log(`     (${method} ${new URL(url).pathname}: 503 ${res.text.slice(0, 80)}; retrying in ${wait} s)`);
    await sleep(wait * 1000);
  }
}

async function request(method, url, { body, token }) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

function expectStatus(res, wanted, what) {
  if (res.status !== wanted) throw new Error(`${what}: HTTP ${res.status}, expected ${wanted}: ${res.text.slice(0, 200)}`);
  return res.json;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The generated password stands on a line of its own after "This is your generated password:".
async function passwordFor(email) {
  for (;;) {
    const res = await fetch(`${USER_SERVICE}/dev/sent-mails`);
    if (res.status !== 200) throw new Error(`GET /dev/sent-mails on user-service: HTTP ${res.status} (is CHAT_DEV_MAIL_PAGE_ENABLED=true with the mock mailer?)`);
    const html = await res.text();
    for (const article of html.split("<article>")) {
      if (!article.includes(`To: ${email}<`)) continue;
      const m = /generated password:\s*\n\s*(\S+)\s*\n/.exec(article);
      if (m) return m[1];
    }
    await sleep(500); // the outbox sends within a second or so
  }
}

// A Phoenix Channels (serializer 2.0.0) client: frames are [join_ref, ref, topic, event, payload].
class PhoenixSocket {
  constructor(token) {
    this.ref = 0;
    this.frames = [];
    this.waiters = [];
    this.url = `${GATEWAY.replace(/^http/, "ws")}/socket/websocket?token=${encodeURIComponent(token)}&vsn=2.0.0`;
  }

  open() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url);
      this.ws.on("open", resolve);
      this.ws.on("unexpected-response", (_, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      this.ws.on("error", reject);
      this.ws.on("message", (data) => {
        this.frames.push(JSON.parse(String(data)));
        this.waiters = this.waiters.filter((w) => !w());
      });
    });
  }

  push(topic, event, payload, joinRef = null) {
    const ref = String(++this.ref);
    this.ws.send(JSON.stringify([joinRef ?? ref, ref, topic, event, payload]));
    return ref;
  }

  // the first frame (already received or still to come) that matches
  next(match) {
    return new Promise((resolve) => {
      const look = () => {
        const i = this.frames.findIndex(match);
        if (i < 0) return false;
        resolve(this.frames.splice(i, 1)[0]);
        return true;
      };
      if (!look()) this.waiters.push(look);
    });
  }

  async reply(ref) {
    const [, , , , payload] = await this.next((f) => f[1] === ref && f[3] === "phx_reply");
    return payload;
  }

  async join(topic) {
    const ref = this.push(topic, "phx_join", {});
    this.joinRef = ref;
    const payload = await this.reply(ref);
    if (payload?.status !== "ok") throw new Error(`phx_join ${topic}: ${JSON.stringify(payload)}`);
  }

  close() {
    this.ws?.close();
  }
}

// ------------------------------------------------------------------ the steps

await step("gateway ready on its management port", async () => {
  const res = await http("GET", `${MANAGEMENT}/q/health/ready`);
  expectStatus(res, 200, "GET /q/health/ready");
});

await step("gateway hides internal routes and health", async () => {
  for (const path of ["/internal/users/1", "/q/health"]) {
    const res = await http("GET", `${GATEWAY}${path}`);
    if (res.status !== 404) throw new Error(`GET ${path} through the gateway: HTTP ${res.status}, expected 404`);
  }
});

const people = {};
for (const name of ["alice", "bob"]) {
  const email = `${name}.${RUN}@smoke.example.com`;
  const user = await step(`register ${name}`, async () => {
    const res = await http("POST", `${GATEWAY}/api/users`, {
      body: { user: { name, subname: "Smoke", email, job: "tester" } },
    });
    const body = expectStatus(res, 201, "POST /api/users");
    if (!Number.isInteger(body?.id)) throw new Error(`no id in ${res.text}`);
    if ("password" in body) throw new Error("the response carries a password");
    return body;
  });
  people[name] = { email, id: user.id };
}

for (const [name, person] of Object.entries(people)) {
  person.password = await step(`read ${name}'s generated password from the mock mails`, () => passwordFor(person.email));
}

for (const [name, person] of Object.entries(people)) {
  await step(`log in ${name}`, async () => {
    const res = await http("POST", `${GATEWAY}/api/login`, {
      body: { creds: { email: person.email, password: person.password } },
      retry503: true,
    });
    const body = expectStatus(res, 200, "POST /api/login");
    person.token = body?.data?.token;
    if (!person.token) throw new Error(`no token in the login response`);
    if (body.data.user?.id !== person.id) throw new Error(`login answered user ${body.data.user?.id}, expected ${person.id}`);
  });
}

const { alice, bob } = people;
const conversation = await step("alice opens a conversation with bob", async () => {
  const res = await http("POST", `${GATEWAY}/api/conversations`, { token: alice.token, body: { recipient_id: bob.id } });
  const body = expectStatus(res, 201, "POST /api/conversations");
  if (!Number.isInteger(body?.id)) throw new Error(`no id in ${res.text}`);
  return body;
});

const aliceSocket = new PhoenixSocket(alice.token);
const bobSocket = new PhoenixSocket(bob.token);
const content = `hello from the smoke test ${RUN}`;
try {
  await step("both connect to the socket through the gateway and join room:chat", async () => {
    await Promise.all([aliceSocket.open(), bobSocket.open()]);
    await Promise.all([aliceSocket.join("room:chat"), bobSocket.join("room:chat")]);
  });

  await step("alice sends a message, gets phx_reply ok, bob receives receive_msg", async () => {
    const received = bobSocket.next((f) => f[2] === "room:chat" && f[3] === "receive_msg");
    const ref = aliceSocket.push("room:chat", "send_msg", { user: bob.id, conv: conversation.id, message: content }, aliceSocket.joinRef);
    const reply = await aliceSocket.reply(ref);
    if (reply?.status !== "ok" || reply.response?.message?.content !== content) throw new Error(`phx_reply ${JSON.stringify(reply)}`);
    const [, , , , payload] = await received;
    if (payload?.message?.content !== content) throw new Error(`receive_msg ${JSON.stringify(payload)}`);
    if (payload.message.conversation_id !== conversation.id) throw new Error(`receive_msg for conversation ${payload.message.conversation_id}`);
  });
} finally {
  aliceSocket.close();
  bobSocket.close();
}

await step("bob finds the message in the history", async () => {
  const res = await http("GET", `${GATEWAY}/api/conversations/${conversation.id}/messages`, { token: bob.token });
  const body = expectStatus(res, 200, "GET /api/conversations/{id}/messages");
  if (!(body?.data ?? []).some((m) => m.content === content && m.sender_id === alice.id)) throw new Error(`not in ${res.text.slice(0, 200)}`);
});

await step("alice logs out; her token is refused afterwards", async () => {
  expectStatus(await http("POST", `${GATEWAY}/api/logout`, { token: alice.token }), 204, "POST /api/logout");
  for (let i = 0; ; i++) { // revocation reaches user-service through PostgreSQL NOTIFY: allow a moment
    const res = await http("GET", `${GATEWAY}/api/users/me`, { token: alice.token });
    if (res.status === 401) return;
    if (i >= 20) throw new Error(`GET /api/users/me with the revoked token: HTTP ${res.status}, expected 401`);
    await sleep(250);
  }
});

console.log("smoke test passed");
