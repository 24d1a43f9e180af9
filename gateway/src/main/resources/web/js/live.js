// The chat socket: the phoenix client's Socket, the room:chat channel and its Presence, on this page's origin
// (a relative endpoint, so the upgrade carries this origin and passes the gateway's Origin check).

import { Presence, Socket } from '../vendor/phoenix.mjs';

const EVENTS = ['receive_msg', 'conversation', 'conversation_removed', 'read', 'typing', 'message_updated',
  'message_deleted'];

export class LiveError extends Error {
  constructor(reason, response) {
    super(reason);
    this.reason = reason;
    this.response = response;
  }
}

/**
 * Connects and joins room:chat. `since()` gives the newest message id received over this socket (live or replayed):
 * a rejoin (after a network drop or a server restart) asks for what came in meanwhile. Handlers: `event(name,
 * payload)`, `presence(Set of user ids)`, `status('joined' | 'down' | 'refused', detail)`, where a 'joined' after an
 * earlier one has `detail` true (a rejoin: what the replay does not cover, edits, deletions and removals, is to be
 * read again).
 */
export function connectLive(token, { since, event, presence, status }) {
  // The token as phoenix's authToken (Sec-WebSocket-Protocol), not in ?token=: the URL of a socket that fails is
  // printed in the console by the browser itself. No `logger` and no `debug` either: phoenix then logs nothing.
  const socket = new Socket('/socket', { authToken: token });
  let joinedOnce = false;
  const channel = socket.channel('room:chat', () => {
    const last = joinedOnce ? since() : null;
    return last ? { since: last } : {};
  });
  const present = new Presence(channel);
  present.onSync(() => presence(new Set(present.list((id) => String(id)))));
  for (const name of EVENTS) channel.on(name, (payload) => event(name, payload));
  socket.onError(() => status('down'));
  socket.onClose(() => status('down'));
  channel.join()
    .receive('ok', () => {
      const rejoin = joinedOnce;
      joinedOnce = true;
      status('joined', rejoin);
    })
    .receive('error', (response) => status('refused', response?.reason));
  channel.onError(() => status('down'));
  socket.connect();

  return {
    get joined() {
      return socket.isConnected() && channel.state === 'joined';
    },
    /** Resolves with the reply's response; rejects with a LiveError ('timeout' when nothing answered). */
    push(name, payload, timeout = 10000) {
      return new Promise((resolve, reject) => {
        channel.push(name, payload, timeout)
          .receive('ok', resolve)
          .receive('error', (response) => reject(new LiveError(response?.reason ?? 'refused', response)))
          .receive('timeout', () => reject(new LiveError('timeout')));
      });
    },
    disconnect() {
      socket.disconnect();
    },
  };
}
