// Entry point: which view the address and the session call for.

import { onUnauthorized } from './api.js';
import { bindAuth, showAuth } from './auth.js';
import { ChatApp } from './chat.js';
import { drafts, session } from './session.js';

const AUTH_ROUTES = { '#/login': 'login', '#/register': 'register', '#/registered': 'registered' };
const CONVERSATION = /^#\/c\/\d+$/;
/** A session removed by another tab this close to its expiry was ended by the expiry (that tab's timer came first). */
const EXPIRY_SLACK_MS = 5000;

let chat = null;
// The conversation that was open when the session ended (expired, or refused by the server): the next login goes
// back to it. A link to a conversation opened while logged out keeps its address until the login.
let returnTo = null;

function stopChat() {
  chat?.stop();
  chat = null;
}

function route() {
  const current = session.current();
  const hash = location.hash;
  if (!current) {
    stopChat();
    showAuth(AUTH_ROUTES[hash] ?? 'login');
    return;
  }
  // Another tab logged in again (a new token, maybe someone else's): the chat starts again with it, as a reload would.
  if (chat && (chat.me.id !== current.user.id || chat.token !== current.token)) stopChat();
  if (AUTH_ROUTES[hash]) {
    location.replace('#/');
    return;
  }
  if (!chat) {
    chat = new ChatApp(current, { loggedOut: () => loggedOut() });
  }
  const open = /^#\/c\/(\d+)$/.exec(hash);
  chat.show(open ? Number(open[1]) : null);
}

function loggedOut(notice) {
  returnTo = notice && CONVERSATION.test(location.hash) ? location.hash : null;
  stopChat();
  session.clear();
  if (location.hash !== '#/login') history.replaceState(null, '', '#/login');
  showAuth('login', { notice });
}

/** After a login: the conversation the address names, else the one open when the session ended, else the list. */
function enter() {
  const target = CONVERSATION.test(location.hash) ? location.hash : returnTo ?? '#/';
  returnTo = null;
  if (location.hash === target || (target === '#/' && location.hash === '')) route();
  else location.hash = target;
}

/**
 * Another tab of this browser logged out or in (the `storage` event; this tab's own writes fire none). Logged out
 * there: this tab goes to the login page and says why, rather than failing on its next request. Logged in there with
 * a new token: this tab carries on with it (route() starts the chat again), at the list if it is someone else.
 */
function sessionChanged(current) {
  if (!current) {
    if (!chat) return;
    const expired = chat.expiresAt - EXPIRY_SLACK_MS <= Date.now();
    // A logout drops this tab's drafts too; an expired session keeps them for the next login (only that user's).
    if (!expired) drafts.clear();
    loggedOut(expired ? 'Your session has expired. Please log in again.' : 'You logged out in another tab.');
    return;
  }
  if (chat?.token === current.token) return;
  if (chat && chat.me.id !== current.user.id) {
    returnTo = null;
    history.replaceState(null, '', '#/');
  }
  enter();
}

onUnauthorized(() => loggedOut('Your session has ended. Please log in again.'));
session.onChange(sessionChanged);
window.addEventListener('hashchange', route);
bindAuth({ loggedIn: enter });
route();
