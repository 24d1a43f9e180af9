// Entry point: which view the address and the session call for.

import { onUnauthorized } from './api.js';
import { bindAuth, showAuth } from './auth.js';
import { ChatApp } from './chat.js';
import { session } from './session.js';

const AUTH_ROUTES = { '#/login': 'login', '#/register': 'register', '#/registered': 'registered' };
const CONVERSATION = /^#\/c\/\d+$/;

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
  if (chat && chat.me.id !== current.user.id) stopChat();
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

onUnauthorized(() => loggedOut('Your session has ended. Please log in again.'));
session.onChange(route);
window.addEventListener('hashchange', route);
bindAuth({ loggedIn: () => {
  const target = CONVERSATION.test(location.hash) ? location.hash : returnTo ?? '#/';
  returnTo = null;
  if (location.hash === target || (target === '#/' && location.hash === '')) route();
  else location.hash = target;
} });
route();
