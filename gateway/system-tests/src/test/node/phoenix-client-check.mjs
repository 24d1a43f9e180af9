// Drives the chat socket the way a client written for the original Phoenix app does: the real
// `phoenix` npm client, with `ws` as its WebSocket transport, through the gateway.
//
// usage: node phoenix-client-check.mjs <ws endpoint, e.g. ws://localhost:8080/socket> <json args>
//   args: {"sender": {"id", "token"}, "recipient": {"id", "token"}, "conv": <id>, "message": "..."}
// Prints one JSON line with what each side saw; exits 0 when the exchange happened as API.md says.
import { Socket } from "phoenix";
import WebSocket from "ws";

const [endpoint, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs);
const TIMEOUT_MS = 15000;

function connect(token) {
  const socket = new Socket(endpoint, { transport: WebSocket, params: { token }, timeout: TIMEOUT_MS });
  socket.connect();
  return socket;
}

function join(socket) {
  const channel = socket.channel("room:chat", {});
  return new Promise((resolve, reject) => {
    channel.join()
      .receive("ok", () => resolve(channel))
      .receive("error", (reply) => reject(new Error("join refused: " + JSON.stringify(reply))))
      .receive("timeout", () => reject(new Error("join timed out")));
  });
}

function withTimeout(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(what + " timed out")), TIMEOUT_MS)),
  ]);
}

const result = { ok: false };
const senderSocket = connect(args.sender.token);
const recipientSocket = connect(args.recipient.token);
try {
  const senderChannel = await withTimeout(join(senderSocket), "sender join");
  const recipientChannel = await withTimeout(join(recipientSocket), "recipient join");
  const received = new Promise((resolve) => recipientChannel.on("receive_msg", (payload) => resolve(payload)));
  const reply = await withTimeout(new Promise((resolve, reject) => {
    senderChannel.push("send_msg", { user: args.recipient.id, conv: args.conv, message: args.message })
      .receive("ok", resolve)
      .receive("error", (r) => reject(new Error("send_msg refused: " + JSON.stringify(r))))
      .receive("timeout", () => reject(new Error("send_msg reply timed out")));
  }), "send_msg reply");
  result.reply = reply;
  result.received = await withTimeout(received, "receive_msg");
  result.ok = JSON.stringify(result.reply.message) === JSON.stringify(result.received.message);
} catch (error) {
  result.error = String(error.message || error);
} finally {
  senderSocket.disconnect();
  recipientSocket.disconnect();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
