// The chat: conversation list, one open conversation, and the dialogs around them. Features of API.md's Part 2
// (groups, unread counts, read receipts, typing, presence, edits, search) show up when the server answers them:
// fields absent from its JSON, socket events it never sends and "unknown event" replies simply leave them out.

import { api, ApiError } from './api.js';
import { $, clearErrors, fullName, fullTime, h, hueOf, initials, messageTime, shortTime, showErrors } from './dom.js';
import { connectLive } from './live.js';
import { drafts, session } from './session.js';

const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 2000;
const MAX_CONTENT = 4000;
const LOAD_OLDER_WITHIN_PX = 120;
const STUCK_TO_BOTTOM_PX = 48;
const RECONNECT_NOTICE_MS = 1500;
const SESSION_CHECK_EVERY_MS = 10000;
const FLASH_MS = 6000;
const DAY_MS = 24 * 60 * 60 * 1000;
const LIST_LIMIT = 100;
/** Message ids remembered as brought by the socket: far more than a replay overlap holds. */
const DELIVERED_MEMORY = 5000;
/** A filter reads on through the directory by itself for at most this many pages, then asks ("Show more people"). */
const DIRECTORY_AUTO_PAGES = 10;
/** After a rejoin, the open conversation is read again from its newest message, as far back as it was loaded, up to
 * this many pages. */
const RESYNC_PAGES = 5;
/** Going to a search hit pages back through the history for at most this many (large) pages. */
const REVEAL_PAGES = 20;
const REVEAL_PAGE_SIZE = 100;
const HIGHLIGHT_MS = 2500;
/** "Jump to newest" shows when the pane is scrolled up more than this many screens from the bottom. */
const JUMP_SHOWN_SCREENS = 1;
/** A conversation opened at its "New messages" divider shows this much of what was read above it. */
const ABOVE_DIVIDER_PX = 24;

export class ChatApp {
  constructor(login, { loggedOut }) {
    this.me = login.user;
    this.drafts = drafts.load(this.me.id);
    this.token = login.token;
    this.expiresAt = login.expire * 1000;
    this.loggedOut = loggedOut;
    this.users = new Map([[this.me.id, this.me]]);
    this.userRequests = new Map();
    this.conversations = new Map();
    this.activity = new Map();
    this.unread = new Map();
    this.histories = new Map();
    this.reads = new Map();
    this.typing = new Map();
    this.online = new Set();
    this.lastTypingSent = new Map();
    this.lastMarked = new Map();
    this.features = { typing: true, markRead: true };
    // The newest message id received over the socket (live or replayed after a rejoin), and nothing else: the rejoin's
    // `since` means "every message up to here has reached me", so a message read by REST (a history page, one's own
    // message sent by REST) must not move it past messages the socket has not delivered yet.
    this.liveCursor = 0;
    // Per conversation, the newest message the server's unread_count already counted: a live or replayed message up
    // to it is not counted again.
    this.countedUpTo = new Map();
    // The ids of the last messages the socket brought (live or replayed): a rejoin's replay also carries what was
    // stored just before `since` (it may have overtaken a message still on its way), mostly messages already here; one
    // of them must not count as unread again where no history is loaded to recognise it.
    this.delivered = new Set();
    // Per conversation, my own read marker as far as this tab knows it: the list's last_read_id, `read` events of my
    // other devices, what this tab marked, and my own messages (sending moves the sender's marker).
    this.readUpTo = new Map();
    // The "New messages" divider of the open conversation, placed when it was opened (placeDivider).
    this.divider = null;
    // While the unread banner's jump loads older pages (a second click meanwhile does nothing).
    this.jumpingToUnread = false;
    // Messages from others that came into the open conversation while it was scrolled away from the bottom.
    this.missed = 0;
    this.active = null;
    this.editing = null;
    this.leaving = null;
    this.reveal = null;
    this.confirmingDelete = null;
    this.directory = { users: [], next: null, complete: false, loading: null, failed: false, autoFilter: '',
      autoPages: 0 };
    this.groupSelection = new Set();
    this.search = { q: '', next: null };
    this.renderQueued = new Set();
    this.listLoaded = null;
    this.abort = new AbortController();
    this.watchExpiry(this.expiresAt);

    $('#auth').hidden = true;
    $('#chat').hidden = false;
    $('#me-name').textContent = fullName(this.me);
    this.bind();
    this.listLoaded = this.loadConversations();
    this.live = connectLive(login.token, {
      since: () => this.liveCursor,
      event: (name, payload) => this.onEvent(name, payload),
      presence: (online) => this.onPresence(online),
      status: (state, reason) => this.onStatus(state, reason),
    });
  }

  /** Logs out when the token expires (checked at most a day apart: timers cannot wait longer than ~24 days). */
  watchExpiry(expiresAt) {
    const left = expiresAt - Date.now();
    if (left <= 0) {
      this.loggedOut('Your session has expired. Please log in again.');
      return;
    }
    this.expiry = setTimeout(() => this.watchExpiry(expiresAt), Math.min(left, DAY_MS));
  }

  stop() {
    this.closing = true;
    this.abort.abort();
    clearTimeout(this.expiry);
    clearTimeout(this.reconnectNotice);
    this.reconnectNotice = null;
    clearTimeout(this.flashTimer);
    $('#chat-notice').hidden = true;
    $('#connection').hidden = true;
    $('#jump-unread').hidden = true;
    for (const timers of this.typing.values()) for (const timer of timers.values()) clearTimeout(timer);
    this.live.disconnect();
    for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
    $('#conversation-list').replaceChildren();
    $('#messages').replaceChildren();
    $('#chat').hidden = true;
  }

  // ------------------------------------------------------------------ events from the page

  bind() {
    const signal = this.abort.signal;
    const on = (target, type, handler) => target.addEventListener(type, handler, { signal });

    on($('#logout'), 'click', () => this.logout());
    on($('#back'), 'click', () => { location.hash = '#/'; });
    on($('#composer-form'), 'submit', (event) => {
      event.preventDefault();
      this.send();
    });
    on($('#composer'), 'keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    on($('#composer'), 'input', () => {
      this.fitComposer();
      this.sendTyping();
    });
    on($('#message-scroller'), 'scroll', () => {
      if ($('#message-scroller').scrollTop < LOAD_OLDER_WITHIN_PX && this.active) this.loadOlder(this.active);
      this.renderJump();
      this.renderUnreadBanner();
    });
    on($('#jump-newest'), 'click', () => this.jumpToNewest());
    on($('#jump-unread'), 'click', () => this.jumpToUnread());
    on($('#messages'), 'click', (event) => this.onMessageAction(event));
    on($('#messages'), 'submit', (event) => this.onEditSubmit(event));
    on($('#messages'), 'keydown', (event) => {
      // The edit box works as the composer does: Enter saves, Shift+Enter is a new line, Escape cancels.
      if (event.target.id !== 'edit-content' || event.isComposing) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        this.stopEditing();
      } else if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        event.target.form.requestSubmit();
      }
    });
    on(document, 'visibilitychange', () => {
      if (document.visibilityState !== 'visible' || !this.active) return;
      // What came in while the tab was hidden is marked as opening the conversation would have marked it.
      if (this.divider?.id !== this.active && this.unread.get(this.active)) {
        this.placeDivider(this.active);
        this.queue('messages');
      }
      this.markRead(this.active);
    });
    // The browser knows at once that the network is gone; the socket may take a heartbeat (30 s) to notice.
    on(window, 'offline', () => { $('#connection').hidden = false; });
    on(window, 'online', () => {
      if (this.live.joined) $('#connection').hidden = true;
      this.retryWaiting();
    });

    on($('#new-direct'), 'click', () => this.openDirectory());
    on($('#directory-filter'), 'input', () => this.renderDirectory());
    on($('#directory-more'), 'click', () => this.readMorePeople());
    on($('#group-more'), 'click', () => this.readMorePeople());
    on($('#member-more'), 'click', () => this.readMorePeople());
    on($('#directory-list'), 'click', (event) => {
      const person = event.target.closest('[data-user-id]');
      if (person) this.startDirect(Number(person.dataset.userId));
    });
    on($('#direct-by-id'), 'submit', (event) => {
      event.preventDefault();
      const id = Number($('#direct-user-id').value.trim());
      if (Number.isInteger(id) && id > 0) this.startDirect(id);
      else showErrors($('#directory-dialog'), new ApiError(0, null, null, 'A user id is a positive whole number.'));
    });

    on($('#new-group'), 'click', () => this.openGroupDialog());
    on($('#group-filter'), 'input', () => this.renderGroupCandidates());
    on($('#group-candidates'), 'change', (event) => {
      const id = Number(event.target.value);
      if (event.target.checked) this.groupSelection.add(id);
      else this.groupSelection.delete(id);
    });
    on($('#group-form'), 'submit', (event) => {
      event.preventDefault();
      this.createGroup();
    });

    on($('#members'), 'click', () => this.openMembers());
    on($('#rename-form'), 'submit', (event) => {
      event.preventDefault();
      this.renameGroup();
    });
    on($('#member-filter'), 'input', () => this.renderMemberCandidates());
    on($('#member-candidates'), 'click', (event) => {
      const person = event.target.closest('[data-user-id]');
      if (person) this.changeMember('add', Number(person.dataset.userId));
    });
    on($('#member-list'), 'click', (event) => {
      const button = event.target.closest('[data-remove], [data-confirm-remove], [data-keep]');
      if (!button) return;
      if (button.dataset.remove) {
        // Leaving or removing someone is asked once more first.
        this.confirmingRemoval = Number(button.dataset.remove);
        this.renderMembers();
        $('#member-list [data-confirm-remove]')?.focus();
      } else if (button.dataset.confirmRemove) {
        this.confirmingRemoval = null;
        this.changeMember('remove', Number(button.dataset.confirmRemove));
      } else {
        this.confirmingRemoval = null;
        this.renderMembers();
      }
    });

    on($('#search-form'), 'submit', (event) => {
      event.preventDefault();
      this.runSearch($('#search-input').value.trim(), false);
    });
    on($('#search-more'), 'click', () => this.runSearch(this.search.q, true));
    on($('#search-results'), 'click', (event) => {
      const hit = event.target.closest('[data-conversation-id]');
      if (!hit) return;
      $('#search-dialog').close();
      this.goToMessage(Number(hit.dataset.conversationId), Number(hit.dataset.messageId));
    });
  }

  async logout() {
    this.closing = true;
    this.live.disconnect();
    // The request takes the token now; other tabs learn of the logout (the `storage` event) before the server closes
    // their sockets, so they do not take the closed socket for a session that ended.
    const revoking = api.logout();
    session.clear();
    drafts.clear();
    try {
      await revoking;
    } catch {
      // the token is dropped here either way
    }
    this.loggedOut();
  }

  /** Shows the list, and the conversation `id` when given (on a narrow screen, only that). */
  async show(id) {
    if (id !== null && !this.conversations.has(id)) {
      await this.listLoaded;
      if (!this.conversations.has(id)) await this.refreshConversations();
      if (!this.conversations.has(id)) {
        this.flash('That conversation was not found, or you are not in it.');
        location.replace('#/');
        return;
      }
    }
    const switched = id !== this.active;
    if (switched) {
      this.placeDivider(id);
      this.missed = 0;
    }
    this.active = id;
    this.editing = null;
    this.confirmingDelete = null;
    this.highlighted = null;
    $('#chat').classList.toggle('has-active', id !== null);
    $('#no-conversation').hidden = id !== null;
    $('#conversation-open').hidden = id === null;
    this.queue('list');
    if (id === null) {
      document.title = 'Company chat';
      return;
    }
    this.unread.set(id, 0);
    this.renderHeader();
    this.renderTyping();
    const history = this.historyOf(id);
    this.renderMessages({ toBottom: true });
    $('#composer').value = this.drafts.get(id) ?? '';
    this.fitComposer();
    if (window.matchMedia('(min-width: 720px)').matches) $('#composer').focus();
    if (!history.loaded) await this.loadOlder(id);
    else if (history.stale) await this.refreshHistory(id);
    if (switched && this.active === id && this.reveal?.id !== id) this.scrollToDivider();
    this.loadReads(id);
    this.markRead(id);
    if (this.reveal?.id === id) this.revealMessage();
  }

  /** Opens a conversation at one message (a search hit): loads the history back to it, scrolls to it, marks it. */
  goToMessage(id, messageId) {
    this.reveal = { id, messageId };
    const hash = `#/c/${id}`;
    if (location.hash === hash && this.active === id) this.revealMessage();
    else location.hash = hash;
  }

  async revealMessage() {
    const target = this.reveal;
    this.reveal = null;
    const id = target?.id;
    if (!target || id !== this.active) return;
    const history = this.historyOf(id);
    for (let pages = 0; !history.messages.has(target.messageId) && pages < REVEAL_PAGES; pages += 1) {
      if (history.loading) await history.loading;
      else if (history.complete || history.failed) break;
      else await this.loadOlder(id, REVEAL_PAGE_SIZE);
      if (this.active !== id) return;
    }
    if (!history.messages.has(target.messageId)) {
      this.flash('That message is too far back to show here: scroll up to read on.');
      return;
    }
    this.highlighted = target.messageId;
    this.renderMessages();
    $(`#messages [data-message-id="${target.messageId}"]`)?.scrollIntoView({ block: 'center' });
    clearTimeout(this.highlightTimer);
    this.highlightTimer = setTimeout(() => {
      this.highlighted = null;
      $('#messages .highlight')?.classList.remove('highlight');
    }, HIGHLIGHT_MS);
  }

  // ------------------------------------------------------------------ conversations

  /** Reads the whole list: new and changed conversations are merged, and those known before the call that the list
   * no longer holds (left or removed meanwhile, e.g. while the socket was down) are dropped. */
  async loadConversations() {
    const knownBefore = new Set(this.conversations.keys());
    try {
      const answer = await api.conversations();
      const listed = new Set(answer.data.map((conversation) => conversation.id));
      for (const conversation of answer.data) this.upsert(conversation);
      for (const id of knownBefore) if (!listed.has(id) && this.conversations.has(id)) this.forget(id);
      this.queue('list');
    } catch (error) {
      if (error.status !== 401) this.flash(`Could not load your conversations: ${error.message}`);
    }
  }

  refreshConversations() {
    this.refreshing ??= this.loadConversations().finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  upsert(conversation) {
    const known = this.conversations.get(conversation.id);
    const merged = { ...known, ...conversation };
    // A live push may leave out the caller's own read state and the last message: keep what we knew.
    if (conversation.last_message === undefined && known) merged.last_message = known.last_message;
    this.conversations.set(conversation.id, merged);
    if (conversation.last_read_id !== undefined) this.noteRead(conversation.id, conversation.last_read_id ?? 0);
    if (conversation.unread_count !== undefined) {
      if (conversation.id !== this.active) this.unread.set(conversation.id, conversation.unread_count);
      this.countedUpTo.set(conversation.id, Math.max(this.countedUpTo.get(conversation.id) ?? 0,
        merged.last_message?.id ?? 0));
    }
    this.touch(conversation.id, merged.last_message?.inserted_at ?? merged.updated_at ?? merged.inserted_at);
    this.ensureUsers(this.memberIds(merged));
    if (conversation.id === this.active) this.queue('header');
  }

  touch(id, iso) {
    const time = iso ? Date.parse(iso) : 0;
    if (time > (this.activity.get(id) ?? 0)) this.activity.set(id, time);
  }

  memberIds(conversation) {
    return conversation.member_ids ?? [conversation.sender_id, conversation.recipient_id].filter((id) => id != null);
  }

  isGroup(conversation) {
    return conversation.kind === 'group';
  }

  otherOf(conversation) {
    return this.memberIds(conversation).find((id) => id !== this.me.id) ?? this.me.id;
  }

  titleOf(conversation) {
    if (this.isGroup(conversation)) return conversation.title;
    return fullName(this.users.get(this.otherOf(conversation)));
  }

  ensureUsers(ids) {
    for (const id of ids) {
      if (this.users.has(id) || this.userRequests.has(id)) continue;
      this.userRequests.set(id, api.user(id)
        .then((user) => this.users.set(id, user))
        .catch(() => this.users.set(id, { id, name: `User ${id}`, subname: '', job: '' }))
        .finally(() => {
          this.userRequests.delete(id);
          this.queue('list', 'header', 'messages', 'typing');
        }));
    }
  }

  // ------------------------------------------------------------------ history and messages

  historyOf(id) {
    if (!this.histories.has(id)) {
      this.histories.set(id, { messages: new Map(), pending: new Map(), next: null, loaded: false, complete: false,
        loading: null, failed: null });
    }
    return this.histories.get(id);
  }

  loadOlder(id, limit) {
    const history = this.historyOf(id);
    if (history.loading || history.complete) return history.loading;
    history.failed = null;
    this.queue('history-status');
    history.loading = (async () => {
      try {
        const page = await api.history(id, history.loaded ? history.next : undefined, limit);
        for (const message of page.data) history.messages.set(message.id, message);
        history.next = page.next;
        history.complete = !page.next;
        const first = !history.loaded;
        history.loaded = true;
        const newest = page.data[0];
        if (first && newest) this.noteLastMessage(id, newest);
        if (id === this.active) this.renderMessages(first ? { toBottom: true } : { keepFromBottom: true });
      } catch (error) {
        history.failed = error.message;
      } finally {
        history.loading = null;
        this.queue('history-status');
      }
      // Until the pane can scroll, nobody can scroll up to ask for more.
      const scroller = $('#message-scroller');
      if (id === this.active && !history.complete && !history.failed
          && scroller.scrollHeight <= scroller.clientHeight + LOAD_OLDER_WITHIN_PX) {
        await this.loadOlder(id);
      }
    })();
    return history.loading;
  }

  noteLastMessage(id, message) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    if (!conversation.last_message || conversation.last_message.id <= message.id) conversation.last_message = message;
    this.touch(id, message.inserted_at);
    this.queue('list');
  }

  /** A message from the socket (live or replayed after a reconnect), or a send's answer. */
  async receive(message, { live }) {
    const id = message.conversation_id;
    if (!this.conversations.has(id)) {
      await this.refreshConversations();
      if (!this.conversations.has(id)) return;
    }
    const history = this.histories.get(id);
    const isNew = !history?.messages.has(message.id) && !this.delivered.has(message.id);
    this.delivered.add(message.id);
    if (this.delivered.size > DELIVERED_MEMORY) this.delivered.delete(this.delivered.values().next().value);
    if (history) history.messages.set(message.id, message);
    this.noteLastMessage(id, message);
    if (message.sender_id !== this.me.id) {
      this.stopTyping(id, message.sender_id);
      // A message the server's unread_count already holds (the list was read after it) is not counted twice.
      const counted = message.id <= (this.countedUpTo.get(id) ?? 0);
      if (live && isNew && !counted && !this.isWatching(id)) this.unread.set(id, (this.unread.get(id) ?? 0) + 1);
      if (live && isNew && id === this.active) this.missed += 1;
    } else {
      // Sending moves the sender's own marker (API.md, Read state): my message from another device, when it is the
      // newest, leaves nothing unread before it.
      this.noteRead(id, message.id);
      if (this.conversations.get(id)?.last_message?.id === message.id && this.unread.get(id)) this.unread.set(id, 0);
    }
    if (id === this.active) {
      this.renderMessages({ stick: true });
      this.markRead(id);
    }
    this.queue('list');
  }

  isWatching(id) {
    return id === this.active && document.visibilityState === 'visible';
  }

  replaceMessage(message) {
    const history = this.histories.get(message.conversation_id);
    if (history?.messages.has(message.id)) history.messages.set(message.id, message);
    const conversation = this.conversations.get(message.conversation_id);
    if (conversation?.last_message?.id === message.id) conversation.last_message = message;
    this.queue('list');
    if (message.conversation_id === this.active) this.queue('messages');
  }

  send() {
    const id = this.active;
    const composer = $('#composer');
    const content = composer.value;
    if (!id || !content.trim()) return;
    if (tooLong(content)) {
      this.flash(tooLongText(content));
      return;
    }
    const clientId = newClientId();
    const history = this.historyOf(id);
    history.pending.set(clientId, { content, date: new Date().toISOString(), failed: null });
    this.keepDraft(id, '');
    composer.value = '';
    this.fitComposer();
    this.renderMessages({ toBottom: true });
    this.deliver(id, clientId);
  }

  /** Over the socket when it is joined, else over REST; a retry carries the same client_id, so nothing doubles. */
  async deliver(id, clientId) {
    const history = this.historyOf(id);
    const pending = history.pending.get(clientId);
    if (!pending) return;
    pending.failed = null;
    pending.waiting = false;
    if (navigator.onLine === false) {
      // Sent by itself when the browser is back online (or the socket is joined again).
      pending.failed = 'you are offline. It is sent when the connection is back.';
      pending.waiting = true;
      this.queue('messages');
      return;
    }
    let message;
    try {
      if (this.live.joined) {
        try {
          message = (await this.live.push('send_msg', { conv: id, message: pending.content, client_id: clientId }))
            .message;
        } catch (error) {
          if (error.reason !== 'timeout') throw error;
        }
      }
      message ??= await api.post(id, pending.content, clientId);
    } catch (error) {
      pending.failed = describeSendError(error);
      this.queue('messages');
      return;
    }
    history.pending.delete(clientId);
    await this.receive(message, { live: false });
    this.queue('messages');
  }

  /** Sends again the messages written while offline. */
  retryWaiting() {
    for (const [id, history] of this.histories) {
      for (const [clientId, pending] of history.pending) if (pending.waiting) this.deliver(id, clientId);
    }
  }

  /** The composer's text for conversation `id` (the one place it is kept), saved for this tab's reloads (session.js). */
  keepDraft(id, text) {
    if (text) this.drafts.set(id, text);
    else this.drafts.delete(id);
    drafts.save(this.me.id, this.drafts);
  }

  sendTyping() {
    const id = this.active;
    if (id) this.keepDraft(id, $('#composer').value);
    if (!id || !this.features.typing || !this.live.joined || !$('#composer').value) return;
    const now = Date.now();
    if (now - (this.lastTypingSent.get(id) ?? 0) < TYPING_SENT_EVERY_MS) return;
    this.lastTypingSent.set(id, now);
    this.live.push('typing', { conv: id }).catch((error) => {
      if (error.reason === 'unknown event') this.features.typing = false;
    });
  }

  markRead(id) {
    if (!this.isWatching(id)) return;
    // The server does not echo `read` to the socket that marked: the badge and the title are cleared here.
    if (this.unread.get(id)) {
      this.unread.set(id, 0);
      this.queue('list');
    }
    const history = this.histories.get(id);
    if (!history?.messages.size) return;
    const newest = Math.max(...history.messages.keys());
    // What this tab has shown is read as far as the next "New messages" divider goes, told to the server or not.
    this.noteRead(id, newest);
    if (!this.features.markRead || !this.live.joined) return;
    if (newest <= (this.lastMarked.get(id) ?? 0)) return;
    this.lastMarked.set(id, newest);
    this.live.push('mark_read', { conv: id, message_id: newest }).catch((error) => {
      if (error.reason === 'unknown event') this.features.markRead = false;
      else this.lastMarked.delete(id);
    });
  }

  async loadReads(id) {
    // Only a server that keeps read state puts last_read_id in the conversation.
    if (!('last_read_id' in (this.conversations.get(id) ?? {}))) return;
    try {
      const answer = await api.reads(id);
      const markers = this.readsOf(id);
      for (const { user_id: userId, message_id: messageId } of answer.data) {
        if (messageId != null) markers.set(userId, Math.max(markers.get(userId) ?? 0, messageId));
      }
      if (id === this.active) this.queue('messages');
    } catch {
      // receipts are a nicety: without them the conversation still works
    }
  }

  /** My marker moves forward only, as the server's does. */
  noteRead(id, messageId) {
    if (messageId > (this.readUpTo.get(id) ?? -1)) this.readUpTo.set(id, messageId);
  }

  readsOf(id) {
    if (!this.reads.has(id)) this.reads.set(id, new Map());
    return this.reads.get(id);
  }

  async onMessageAction(event) {
    const button = event.target.closest('[data-action]');
    if (!button) return;
    const item = button.closest('[data-message-id], [data-client-id]');
    const id = this.active;
    const action = button.dataset.action;
    if (action === 'retry') {
      this.deliver(id, item.dataset.clientId);
      this.queue('messages');
      return;
    }
    const messageId = Number(item.dataset.messageId);
    if (action === 'edit') {
      this.editing = messageId;
      this.confirmingDelete = null;
      this.renderMessages({ keepFromBottom: true });
      const editor = $('#edit-content');
      editor?.focus();
      editor?.setSelectionRange(editor.value.length, editor.value.length);
    } else if (action === 'cancel') {
      this.stopEditing();
    } else if (action === 'delete') {
      this.confirmingDelete = messageId;
      this.editing = null;
      this.renderMessages({ keepFromBottom: true });
    } else if (action === 'confirm-delete') {
      try {
        await api.remove(id, messageId);
        const message = this.histories.get(id)?.messages.get(messageId);
        if (message) this.replaceMessage({ ...message, content: null, deleted_at: new Date().toISOString() });
      } catch (error) {
        this.flash(`Could not delete the message: ${error.message}`);
      }
      this.confirmingDelete = null;
      this.queue('messages');
    }
  }

  stopEditing() {
    const editing = this.editing;
    this.editing = null;
    this.confirmingDelete = null;
    this.renderMessages({ keepFromBottom: true });
    const item = $(`#messages [data-message-id="${editing}"]`);
    (item ?? $('#composer')).focus({ preventScroll: true });
  }

  async onEditSubmit(event) {
    event.preventDefault();
    const form = event.target;
    const content = form.elements.content.value;
    const problem = !content.trim() ? 'A message cannot be empty: delete it instead.'
      : tooLong(content) ? tooLongText(content) : null;
    if (problem) {
      showErrors(form, new ApiError(0, null, null, problem));
      return;
    }
    try {
      this.replaceMessage(await api.edit(this.active, this.editing, content));
      this.stopEditing();
    } catch (error) {
      showErrors(form, error);
    }
  }

  // ------------------------------------------------------------------ socket

  onEvent(name, payload) {
    switch (name) {
      case 'receive_msg':
        this.liveCursor = Math.max(this.liveCursor, payload.message.id);
        this.receive(payload.message, { live: true });
        break;
      case 'message_updated':
      case 'message_deleted':
        this.replaceMessage(payload.message);
        break;
      case 'conversation':
        this.upsert(payload.conversation);
        this.queue('list');
        break;
      case 'conversation_removed':
        this.onRemoved(payload.conversation_id);
        break;
      case 'read':
        this.onRead(payload);
        break;
      case 'typing':
        this.onTyping(payload);
        break;
      default:
        break;
    }
  }

  /**
   * `conversation_removed`: I left the group (here or on another device) or its creator removed me. The notice names
   * the group, whether it is open or not, so its title is read before it is forgotten. Leaving it here keeps "You
   * left the group." (and a removal of one already forgotten, as after leaving here, says nothing more).
   */
  onRemoved(id) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    if (this.leaving === id || !this.isGroup(conversation)) {
      this.forget(id);
      return;
    }
    // Only the creator may remove others (API.md), so the creator was not removed: they left on another device.
    const name = `“${this.titleOf(conversation)}”`;
    const notice = conversation.sender_id === this.me.id ? `You left ${name} on another device.`
      : `You were removed from ${name}.`;
    const open = id === this.active;
    this.forget(id, notice);
    if (!open) this.flash(notice);
  }

  /** A conversation one is no longer in (left, or removed by its creator). */
  forget(id, notice = this.leaving === id ? 'You left the group.' : 'You are no longer in that conversation.') {
    this.conversations.delete(id);
    this.histories.delete(id);
    if (this.drafts.delete(id)) drafts.save(this.me.id, this.drafts);
    this.unread.delete(id);
    this.countedUpTo.delete(id);
    this.readUpTo.delete(id);
    if (this.divider?.id === id) this.divider = null;
    if (this.active === id) {
      for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
      this.flash(notice);
      location.hash = '#/';
    }
    this.queue('list');
  }

  onRead({ conversation_id: id, user_id: userId, message_id: messageId }) {
    const markers = this.readsOf(id);
    markers.set(userId, Math.max(markers.get(userId) ?? 0, messageId));
    if (userId === this.me.id) {
      this.noteRead(id, messageId);
      const last = this.conversations.get(id)?.last_message;
      if (!last || last.id <= messageId) this.unread.set(id, 0);
      this.queue('list');
    }
    if (id === this.active) this.queue('messages');
  }

  onTyping({ conversation_id: id, user_id: userId }) {
    if (userId === this.me.id) return;
    if (!this.typing.has(id)) this.typing.set(id, new Map());
    const typists = this.typing.get(id);
    clearTimeout(typists.get(userId));
    typists.set(userId, setTimeout(() => this.stopTyping(id, userId), TYPING_SHOWN_MS));
    this.ensureUsers([userId]);
    this.queue('typing', 'list');
  }

  stopTyping(id, userId) {
    const typists = this.typing.get(id);
    if (!typists?.has(userId)) return;
    clearTimeout(typists.get(userId));
    typists.delete(userId);
    this.queue('typing', 'list');
  }

  onPresence(online) {
    this.online = online;
    this.queue('list', 'header', 'directory');
  }

  onStatus(state, rejoin) {
    if (this.closing || this.abort.signal.aborted) return;
    if (state === 'joined') {
      clearTimeout(this.reconnectNotice);
      this.reconnectNotice = null;
      $('#connection').hidden = true;
      if (rejoin) this.resync();
      if (this.active) this.markRead(this.active);
      this.retryWaiting();
      return;
    }
    // Timed from the first failure: the retries that follow (phoenix tries again within milliseconds at first) do not
    // restart it, so the notice shows RECONNECT_NOTICE_MS after the drop.
    this.reconnectNotice ??= setTimeout(() => { $('#connection').hidden = false; }, RECONNECT_NOTICE_MS);
    // A socket refused again and again may be a token the server no longer takes: a REST call tells.
    const now = Date.now();
    if (now - (this.lastSessionCheck ?? 0) > SESSION_CHECK_EVERY_MS) {
      this.lastSessionCheck = now;
      api.user(this.me.id).catch(() => {});
    }
  }

  /**
   * After a rejoin: the socket's replay carries only new messages (and only up to the server's replay limit), not
   * edits, deletions, renames, removals or read state. So the list is read again, the open conversation from its
   * newest message, and any other loaded history when it is opened next.
   */
  async resync() {
    await this.refreshConversations();
    for (const [id, history] of this.histories) {
      if (id === this.active) this.refreshHistory(id);
      else if (history.loaded) history.stale = true;
    }
  }

  /**
   * Reads a loaded history again from its newest message back to the oldest one loaded (at most RESYNC_PAGES pages;
   * older ones stay as they were) and merges it by id. When more than that is new, the history starts again from the
   * pages just read, so that it has no gap (scrolling up loads the rest).
   */
  refreshHistory(id) {
    const history = this.historyOf(id);
    if (!history.loaded) return history.loading;
    const run = (async () => {
      while (history.loading) await history.loading;
      history.stale = false;
      const ids = [...history.messages.keys()];
      const oldestLoaded = ids.length ? Math.min(...ids) : Infinity;
      const newestLoaded = ids.length ? Math.max(...ids) : 0;
      const fresh = [];
      let next = null;
      let failure = null;
      history.loading = (async () => {
        try {
          let before;
          for (let pages = 0; pages < RESYNC_PAGES; pages += 1) {
            const page = await api.history(id, before);
            fresh.push(...page.data);
            next = page.next;
            if (!next || page.data.some((message) => message.id <= oldestLoaded)) break;
            before = next;
          }
        } catch (error) {
          failure = error;
        }
      })();
      this.queue('history-status');
      await history.loading;
      history.loading = null;
      this.queue('history-status');
      if (this.histories.get(id) !== history) return;
      if (failure) {
        history.stale = true;
        if (failure.status === 404) this.forget(id);
        return;
      }
      const oldestFresh = fresh.length ? fresh[fresh.length - 1].id : Infinity;
      if (next && oldestFresh > newestLoaded) {
        history.messages.clear();
        history.next = next;
        history.complete = false;
      }
      for (const message of fresh) history.messages.set(message.id, message);
      if (fresh[0]) this.noteLastMessage(id, fresh[0]);
      if (id === this.active) {
        this.renderMessages({ stick: true });
        this.markRead(id);
      }
    })();
    return run;
  }

  // ------------------------------------------------------------------ directory and dialogs

  async loadDirectory(more = false) {
    const directory = this.directory;
    if (directory.loading) return directory.loading;
    if (directory.complete || (directory.users.length && !more)) return null;
    directory.failed = false;
    directory.loading = (async () => {
      try {
        const page = await api.users(directory.next ?? undefined);
        for (const user of page.data) {
          this.users.set(user.id, user);
          if (!directory.users.some((known) => known.id === user.id)) directory.users.push(user);
        }
        directory.next = page.next;
        directory.complete = !page.next;
      } catch (error) {
        directory.failed = true;
        this.flash(`Could not load the directory: ${error.message}`);
      } finally {
        directory.loading = null;
      }
      this.queue('directory');
    })();
    return directory.loading;
  }

  /** The loaded people who match every word typed (the directory is read a page of 100 at a time). */
  matching(filter, exclude = new Set()) {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return this.directory.users.filter((user) => {
      if (user.id === this.me.id || exclude.has(user.id)) return false;
      const text = `${user.name} ${user.subname} ${user.email} ${user.job}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
  }

  /**
   * The people pickers (new chat, new group, add someone) filter the directory read so far. While a filter finds
   * fewer than LIST_LIMIT people and the directory goes on, the next page is read by itself, for up to
   * DIRECTORY_AUTO_PAGES pages per filter; past that, "Show more people" reads on, so that a filter matching nobody
   * does not read a huge directory in one go. Then the list says who matches, that it is still looking, or nobody.
   */
  renderPeople(list, moreButton, people, filter) {
    const directory = this.directory;
    const typed = filter.trim();
    if (typed && !directory.complete && !directory.loading && !directory.failed && people.length < LIST_LIMIT) {
      if (directory.autoFilter !== typed) {
        directory.autoFilter = typed;
        directory.autoPages = 0;
      }
      if (directory.autoPages < DIRECTORY_AUTO_PAGES) {
        directory.autoPages += 1;
        this.loadDirectory(true);
      }
    }
    const searching = directory.loading || (!directory.users.length && !directory.complete && !directory.failed);
    if (!people.length) {
      let text = 'Nobody matches.';
      if (searching) text = typed ? 'Looking for people…' : 'Loading people…';
      else if (!directory.complete) text = `Nobody matches among the first ${directory.users.length} people.`;
      list.append(h('li', { class: 'empty' }, text));
    }
    moreButton.hidden = directory.complete || searching;
  }

  readMorePeople() {
    this.directory.autoPages = 0;
    this.loadDirectory(true);
    this.queue('directory');
  }

  personButton(user, testId, label) {
    return h('li', {}, h('button', { type: 'button', class: 'person', dataset: { testid: testId, userId: user.id } },
      this.avatar(user.id, initials(user)),
      h('span', { class: 'person-text' },
        h('span', { class: 'person-name' }, fullName(user)),
        h('span', { class: 'person-job' }, user.job ?? '')),
      label ? h('span', { class: 'person-action' }, label) : null));
  }

  openDirectory() {
    const dialog = $('#directory-dialog');
    clearErrors(dialog);
    $('#directory-filter').value = '';
    $('#direct-user-id').value = '';
    dialog.showModal();
    $('#directory-filter').focus();
    this.renderDirectory();
    this.loadDirectory();
  }

  renderDirectory() {
    const filter = $('#directory-filter').value;
    const people = this.matching(filter);
    const list = $('#directory-list');
    list.replaceChildren(...people.map((user) => this.personButton(user, 'directory-user', 'Message')));
    this.renderPeople(list, $('#directory-more'), people, filter);
  }

  async startDirect(userId) {
    const dialog = $('#directory-dialog');
    clearErrors(dialog);
    try {
      const conversation = await api.openDirect(userId);
      this.upsert(conversation);
      dialog.close();
      location.hash = `#/c/${conversation.id}`;
    } catch (error) {
      showErrors(dialog, error);
    }
  }

  openGroupDialog() {
    const dialog = $('#group-dialog');
    const form = $('#group-form');
    form.reset();
    clearErrors(form);
    this.groupSelection.clear();
    dialog.showModal();
    $('#group-name').focus();
    this.renderGroupCandidates();
    this.loadDirectory();
  }

  renderGroupCandidates() {
    const filter = $('#group-filter').value;
    // Who is chosen stays on top, whatever the filter.
    const chosen = [...this.groupSelection].map((id) => this.users.get(id)).filter(Boolean);
    const people = this.matching(filter, this.groupSelection);
    const list = $('#group-candidates');
    list.replaceChildren(...[...chosen, ...people].map((user) => h('li', {},
      h('label', { class: 'person' },
        h('input', { type: 'checkbox', value: user.id, checked: this.groupSelection.has(user.id) }),
        this.avatar(user.id, initials(user)),
        h('span', { class: 'person-text' },
          h('span', { class: 'person-name' }, fullName(user)),
          h('span', { class: 'person-job' }, user.job ?? ''))))));
    this.renderPeople(list, $('#group-more'), people, filter);
  }

  async createGroup() {
    const form = $('#group-form');
    clearErrors(form);
    try {
      const conversation = await api.createGroup(form.elements.title.value.trim(), [...this.groupSelection]);
      this.upsert(conversation);
      $('#group-dialog').close();
      location.hash = `#/c/${conversation.id}`;
    } catch (error) {
      showErrors(form, error.status === 404 || error.fieldErrors?.recipient_id
        ? new ApiError(error.status, null, null, 'This server does not have groups yet.') : error);
    }
  }

  openMembers() {
    const conversation = this.conversations.get(this.active);
    if (!conversation) return;
    const dialog = $('#members-dialog');
    clearErrors(dialog);
    $('#rename-input').value = conversation.title ?? '';
    $('#member-filter').value = '';
    this.confirmingRemoval = null;
    dialog.showModal();
    this.renderMembers();
    this.loadDirectory();
  }

  renderMembers() {
    const conversation = this.conversations.get(this.active);
    if (!conversation || !$('#members-dialog').open) return;
    const creator = conversation.sender_id === this.me.id;
    $('#members-title').textContent = conversation.title;
    $('#member-list').replaceChildren(...this.memberIds(conversation).map((id) => {
      const user = this.users.get(id);
      const mine = id === this.me.id;
      return h('li', { class: 'person' },
        this.avatar(id, initials(user)),
        h('span', { class: 'person-text' },
          h('span', { class: 'person-name' }, mine ? `${fullName(user)} (you)` : fullName(user)),
          h('span', { class: 'person-job' }, id === conversation.sender_id ? 'created the group' : user?.job ?? '')),
        this.removalControls(id, mine, creator));
    }));
    this.renderMemberCandidates();
  }

  removalControls(id, mine, creator) {
    if (!mine && !creator) return null;
    if (this.confirmingRemoval === id) {
      return h('span', { class: 'confirm-removal' }, mine ? 'Leave the group?' : 'Remove from the group?',
        h('button', { type: 'button', class: 'quiet danger', dataset: { confirmRemove: id } }, mine ? 'Leave' : 'Remove'),
        h('button', { type: 'button', class: 'quiet', dataset: { keep: id } }, mine ? 'Stay' : 'Keep'));
    }
    return h('button', { type: 'button', class: 'quiet danger', dataset: { remove: id } }, mine ? 'Leave' : 'Remove');
  }

  renderMemberCandidates() {
    const conversation = this.conversations.get(this.active);
    if (!conversation) return;
    const filter = $('#member-filter').value;
    const people = this.matching(filter, new Set(this.memberIds(conversation)));
    const list = $('#member-candidates');
    list.replaceChildren(...people.map((user) => this.personButton(user, 'add-member', 'Add')));
    this.renderPeople(list, $('#member-more'), people, filter);
  }

  async renameGroup() {
    const dialog = $('#members-dialog');
    clearErrors(dialog);
    try {
      this.upsert(await api.rename(this.active, $('#rename-input').value.trim()));
      this.queue('list', 'header', 'directory');
    } catch (error) {
      showErrors(dialog, error);
    }
  }

  async changeMember(change, userId) {
    const dialog = $('#members-dialog');
    const id = this.active;
    clearErrors(dialog);
    try {
      if (change === 'add') {
        this.upsert(await api.addMember(id, userId));
      } else {
        // The socket's conversation_removed often comes before the answer: forget() then knows it was us.
        if (userId === this.me.id) this.leaving = id;
        await api.removeMember(id, userId);
        if (userId === this.me.id) {
          dialog.close();
          if (this.conversations.has(id)) this.forget(id, 'You left the group.');
          return;
        }
        const conversation = this.conversations.get(id);
        if (conversation) conversation.member_ids = this.memberIds(conversation).filter((member) => member !== userId);
      }
      this.queue('list', 'header', 'directory');
    } catch (error) {
      showErrors(dialog, error);
    } finally {
      if (this.leaving === id) this.leaving = null;
    }
  }

  async runSearch(q, more) {
    if (!q) return;
    const dialog = $('#search-dialog');
    if (!more) {
      this.search = { q, next: null };
      $('#search-results').replaceChildren();
    }
    if (!dialog.open) dialog.showModal();
    $('#search-title').textContent = `Search: ${q}`;
    $('#search-status').textContent = 'Searching…';
    try {
      const page = await api.search(q, more ? this.search.next : undefined);
      this.search.next = page.next;
      $('#search-results').append(...page.data.map((message) => {
        const conversation = this.conversations.get(message.conversation_id);
        return h('li', {}, h('button', { type: 'button', class: 'hit',
          dataset: { conversationId: message.conversation_id, messageId: message.id } },
          h('span', { class: 'hit-title' }, h('span', { dir: 'auto' }, conversation ? this.titleOf(conversation) : 'Conversation'),
            h('time', { datetime: message.inserted_at }, shortTime(message.inserted_at))),
          h('span', { class: 'hit-text', dir: 'auto' }, `${this.senderLabel(message)}: ${message.content ?? ''}`)));
      }));
      const count = $('#search-results').children.length;
      $('#search-status').textContent = count ? `${count} message${count === 1 ? '' : 's'}` : 'No messages found.';
      $('#search-more').hidden = !page.next;
    } catch (error) {
      $('#search-status').textContent = error.status === 404 && !this.conversations.size
        ? 'Nothing to search yet.'
        : error.status === 404 ? 'Search is not available on this server yet.' : error.message;
      $('#search-more').hidden = true;
    }
  }

  senderLabel(message) {
    return message.sender_id === this.me.id ? 'You' : this.users.get(message.sender_id)?.name ?? '…';
  }

  flash(text) {
    const slot = $('#chat-notice');
    slot.textContent = text;
    slot.hidden = false;
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => { slot.hidden = true; }, FLASH_MS);
  }

  // ------------------------------------------------------------------ rendering

  /** Batches renders: many events in one turn redraw each part once. */
  queue(...parts) {
    const idle = this.renderQueued.size === 0;
    for (const part of parts) this.renderQueued.add(part);
    if (!idle) return;
    queueMicrotask(() => {
      const due = new Set(this.renderQueued);
      this.renderQueued.clear();
      if (this.abort.signal.aborted) return;
      if (due.has('list')) this.renderList();
      if (due.has('header')) this.renderHeader();
      if (due.has('messages')) this.renderMessages({ stick: true });
      if (due.has('typing')) this.renderTyping();
      if (due.has('history-status')) this.renderHistoryStatus();
      if (due.has('directory')) {
        if ($('#directory-dialog').open) this.renderDirectory();
        if ($('#group-dialog').open) this.renderGroupCandidates();
        if ($('#members-dialog').open) this.renderMembers();
      }
    });
  }

  avatar(userId, text, { group = false } = {}) {
    const element = h('span', { class: group ? 'avatar group' : 'avatar', 'aria-hidden': 'true' }, text);
    element.style.setProperty('--hue', hueOf(userId));
    return element;
  }

  onlineDot(userId) {
    if (!this.online.has(String(userId))) return null;
    return h('span', { class: 'online', dataset: { testid: 'online', userId }, title: 'Online' },
      h('span', { class: 'visually-hidden' }, 'online'));
  }

  renderList() {
    const list = $('#conversation-list');
    const ordered = [...this.conversations.values()]
      .sort((a, b) => (this.activity.get(b.id) ?? 0) - (this.activity.get(a.id) ?? 0) || b.id - a.id);
    list.replaceChildren(...ordered.map((conversation) => this.renderItem(conversation)));
    $('#no-conversations').hidden = ordered.length > 0;
    const unread = [...this.unread.entries()].filter(([id, count]) => count > 0 && this.conversations.has(id)).length;
    const open = this.conversations.get(this.active);
    const title = open ? this.titleOf(open) : 'Company chat';
    document.title = unread ? `(${unread}) ${title}` : title;
  }

  renderItem(conversation) {
    const group = this.isGroup(conversation);
    const other = group ? null : this.otherOf(conversation);
    const title = this.titleOf(conversation);
    const unread = this.unread.get(conversation.id) ?? 0;
    const last = conversation.last_message;
    const typists = this.typing.get(conversation.id);
    let preview;
    if (typists?.size) preview = h('em', {}, 'typing…');
    else if (last) preview = `${last.sender_id === this.me.id ? 'You: ' : group ? `${this.senderLabel(last)}: ` : ''}${last.deleted_at ? 'message deleted' : last.content}`;
    else preview = group ? `${this.memberIds(conversation).length} members` : this.users.get(other)?.job ?? '';
    const avatar = group
      ? this.avatar(conversation.id, (title ?? '#').slice(0, 1).toUpperCase(), { group: true })
      : this.avatar(other, initials(this.users.get(other)));
    return h('li', {}, h('a', {
      href: `#/c/${conversation.id}`,
      class: `conversation-item${conversation.id === this.active ? ' active' : ''}${unread ? ' unread' : ''}`,
      'aria-current': conversation.id === this.active ? 'page' : null,
      dataset: { testid: 'conversation-item', conversationId: conversation.id },
    },
    h('span', { class: 'avatar-slot' }, avatar, group ? null : this.onlineDot(other)),
    h('span', { class: 'item-text' },
      h('span', { class: 'item-title', dir: 'auto' }, title),
      h('span', { class: 'item-preview', dir: 'auto' }, preview)),
    h('span', { class: 'item-meta' },
      last ? h('time', { datetime: last.inserted_at }, shortTime(last.inserted_at)) : null,
      unread ? h('span', { class: 'badge', dataset: { testid: 'unread-count' }, 'aria-label': `${unread} unread` },
        unread > 99 ? '99+' : String(unread)) : null)));
  }

  renderHeader() {
    const conversation = this.conversations.get(this.active);
    if (!conversation) return;
    const group = this.isGroup(conversation);
    const title = this.titleOf(conversation);
    $('#conversation-title').textContent = title;
    const slot = $('#conversation-avatar');
    if (group) {
      slot.replaceChildren(this.avatar(conversation.id, (title ?? '#').slice(0, 1).toUpperCase(), { group: true }));
      const names = this.memberIds(conversation).map((id) => (id === this.me.id ? 'you' : this.users.get(id)?.name ?? '…'));
      $('#conversation-subtitle').textContent = `${names.length} members: ${names.join(', ')}`;
    } else {
      const other = this.otherOf(conversation);
      slot.replaceChildren(this.avatar(other, initials(this.users.get(other))), this.onlineDot(other) ?? '');
      const job = this.users.get(other)?.job ?? '';
      $('#conversation-subtitle').textContent = [this.online.has(String(other)) ? 'Online' : '', job]
        .filter(Boolean).join(' · ');
    }
    $('#members').hidden = !group;
  }

  renderTyping() {
    const slot = $('#typing');
    const typists = [...(this.typing.get(this.active)?.keys() ?? [])];
    const names = typists.map((id) => this.users.get(id)?.name ?? 'Someone');
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    slot.textContent = text;
    slot.hidden = !text;
  }

  renderHistoryStatus() {
    const history = this.active ? this.histories.get(this.active) : null;
    const slot = $('#history-status');
    slot.replaceChildren();
    if (!history) return;
    if (history.loading) slot.textContent = 'Loading messages…';
    else if (history.failed) {
      slot.append(`Could not load messages: ${history.failed} `,
        h('button', { type: 'button', class: 'quiet', onclick: () => this.loadOlder(this.active) }, 'Try again'));
    } else if (history.complete) {
      slot.textContent = history.messages.size ? 'This is the start of the conversation.' : 'No messages yet. Say hello!';
    }
  }

  /**
   * Redraws the open conversation's messages. `toBottom`: show the newest; `stick`: stay at the bottom if we were
   * there; `keepFromBottom`: keep what is on screen where it is (older messages were added above).
   */
  renderMessages({ toBottom = false, stick = false, keepFromBottom = false } = {}) {
    const id = this.active;
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    const history = this.historyOf(id);
    const scroller = $('#message-scroller');
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STUCK_TO_BOTTOM_PX;

    const messages = [...history.messages.values()].sort((a, b) => a.id - b.id);
    const firstNew = this.dividerAnchor(history, messages);
    const items = [];
    let lastDay = null;
    let previous = null;
    for (const message of messages) {
      const day = new Date(message.inserted_at).toDateString();
      if (day !== lastDay) {
        items.push(h('li', { class: 'day' }, h('span', {}, dayLabel(message.inserted_at))));
        lastDay = day;
        previous = null;
      }
      if (message.id === firstNew) {
        items.push(h('li', { class: 'new-messages', role: 'separator', 'aria-label': 'New messages',
          dataset: { testid: 'new-messages' } }, h('span', { 'aria-hidden': 'true' }, 'New messages')));
        previous = null;
      }
      // The message being edited keeps its element, so the edit box keeps what was typed, the caret, the focus
      // and its undo history through any redraw.
      const kept = message.id === this.editing ? $(`#messages [data-message-id="${message.id}"]`) : null;
      items.push(kept?.querySelector('#edit-content') && !message.deleted_at
        ? kept : this.renderMessage(message, conversation, previous));
      previous = message;
    }
    const seen = this.seenLabel(conversation, messages);
    if (seen) items.push(h('li', { class: 'seen', dataset: { testid: 'seen' } }, seen));
    for (const [clientId, pending] of history.pending) {
      items.push(h('li', { class: `message mine pending${pending.failed ? ' failed' : ''}`, dataset: { testid: 'message', clientId } },
        h('div', { class: 'bubble' },
          h('p', { class: 'content', dir: 'auto' }, pending.content),
          h('p', { class: 'meta' }, pending.failed
            ? [`Not sent: ${pending.failed} `, h('button', { type: 'button', class: 'quiet', dataset: { action: 'retry' } }, 'Retry')]
            : 'Sending…'))));
    }
    const list = $('#messages');
    const kept = items.find((item) => item.isConnected);
    if (kept) {
      // Only the elements around it are replaced: moving a focused element out of the page would blur it.
      for (const child of [...list.children]) if (child !== kept) child.remove();
      const at = items.indexOf(kept);
      kept.before(...items.slice(0, at));
      kept.after(...items.slice(at + 1));
    } else {
      list.replaceChildren(...items);
    }
    this.renderHistoryStatus();

    if (toBottom || (stick && atBottom)) scroller.scrollTop = scroller.scrollHeight;
    else if (keepFromBottom) scroller.scrollTop = scroller.scrollHeight - fromBottom;
    this.renderJump();
    this.renderUnreadBanner();
  }

  /**
   * Opening a conversation with unread messages marks where they start: the "New messages" divider goes above the
   * first message from someone else newer than my read marker. It is placed here, before opening marks the
   * conversation read, and stays while the conversation is open: messages that come in meanwhile add none.
   */
  placeDivider(id) {
    const unread = id === null ? 0 : this.unread.get(id) ?? 0;
    this.divider = unread > 0 ? {
      id,
      after: this.readUpTo.get(id) ?? null,
      count: unread,
      // Only what was there when it was opened can be the first unread message.
      upTo: this.conversations.get(id)?.last_message?.id ?? Infinity,
      anchor: null,
      // Once the divider was on screen (or jumped to), the "unread messages ↑" banner does not come back.
      seen: false,
    } : null;
  }

  /** The id of the message the divider goes above; null while the history loaded does not reach it, or for none. */
  dividerAnchor(history, messages) {
    const divider = this.divider;
    if (!divider || divider.id !== this.active) return null;
    // Once found, it stays put: through older pages loaded above, edits, deletions and new messages below.
    divider.anchor ??= this.firstUnread(divider, history, messages);
    return divider.anchor;
  }

  firstUnread(divider, history, messages) {
    if (this.unreadBeyondLoaded(divider, history, messages)) return null;
    const others = this.unreadCandidates(divider, messages);
    if (divider.after !== null) return others.find((message) => message.id > divider.after)?.id ?? null;
    // A server without read markers: the last `count` messages from others.
    return others[Math.max(0, others.length - divider.count)]?.id ?? null;
  }

  unreadCandidates({ upTo }, messages) {
    return messages.filter((message) => message.sender_id !== this.me.id && !message.deleted_at && message.id <= upTo);
  }

  /** Whether the divider's first unread message may be on a page older than those loaded. */
  unreadBeyondLoaded(divider, history, messages) {
    if (history.complete) return false;
    // Messages between the marker and the oldest one loaded may still be on an older page.
    if (divider.after !== null) return !messages.some((message) => message.id <= divider.after);
    return this.unreadCandidates(divider, messages).length < divider.count;
  }

  /**
   * When the unread messages do not all fit below the divider, the conversation opens with it at the top; `always`
   * (the unread banner's jump) puts it there wherever it is.
   */
  scrollToDivider({ always = false } = {}) {
    const divider = $('#messages [data-testid="new-messages"]');
    const scroller = $('#message-scroller');
    if (!divider) return;
    const above = divider.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    if (above < 0 || always) scroller.scrollTop += above - ABOVE_DIVIDER_PX;
    this.renderUnreadBanner();
  }

  /**
   * "N unread messages ↑ Jump" floats over the top of the messages while the first unread message (where the "New
   * messages" divider goes) is above them: on a page older than those loaded, or loaded but scrolled out of sight
   * above. N is the unread count the conversation was opened with. Once the divider has been on screen, or after a
   * jump, it stays away while the conversation is open.
   */
  renderUnreadBanner() {
    const banner = $('#jump-unread');
    const divider = this.divider;
    const history = this.active === null ? null : this.histories.get(this.active);
    let shown = false;
    if (divider && divider.id === this.active && !divider.seen && history?.loaded) {
      const line = $('#messages [data-testid="new-messages"]');
      if (line) {
        const scroller = $('#message-scroller');
        const top = line.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
        // Below the screen (scrolled up past it) it is not "above": hidden, but not yet seen either.
        if (top >= 0 && top < scroller.clientHeight) divider.seen = true;
        shown = top < 0 && !divider.seen;
      } else {
        shown = this.unreadBeyondLoaded(divider, history, [...history.messages.values()]);
      }
    }
    banner.hidden = !shown;
    if (!shown) return;
    const text = `${divider.count} unread message${divider.count === 1 ? '' : 's'}`;
    if ($('#unread-label').textContent !== text) $('#unread-label').textContent = text;
  }

  /**
   * The banner's jump: older pages are loaded (pages of REVEAL_PAGE_SIZE, at most REVEAL_PAGES, as for a search hit)
   * until the first unread message is in, then the divider is put at the top of the pane.
   */
  async jumpToUnread() {
    const id = this.active;
    const divider = this.divider;
    if (!divider || divider.id !== id || this.jumpingToUnread) return;
    const history = this.historyOf(id);
    const hadFocus = document.activeElement === $('#jump-unread');
    const beyond = () => this.unreadBeyondLoaded(divider, history, [...history.messages.values()]);
    this.jumpingToUnread = true;
    try {
      for (let pages = 0; beyond() && pages < REVEAL_PAGES; pages += 1) {
        if (history.loading) await history.loading;
        else if (history.failed) break;
        else await this.loadOlder(id, REVEAL_PAGE_SIZE);
        if (this.active !== id || this.divider !== divider) return;
      }
    } finally {
      this.jumpingToUnread = false;
    }
    divider.seen = true;
    this.renderMessages();
    if ($('#messages [data-testid="new-messages"]')) this.scrollToDivider({ always: true });
    else if (beyond()) this.flash('The first unread message is too far back to show here: scroll up to read on.');
    this.renderUnreadBanner();
    // The banner goes away under the focus: the messages take it.
    if (hadFocus) $('#message-scroller').focus({ preventScroll: true });
  }

  /**
   * "Jump to newest" floats over the messages while they are scrolled up more than a screen from the bottom, or
   * while messages from others came in out of sight (then it counts them); at the bottom it goes away.
   */
  renderJump() {
    const scroller = $('#message-scroller');
    const fromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (fromBottom < STUCK_TO_BOTTOM_PX) this.missed = 0;
    const far = fromBottom > scroller.clientHeight * JUMP_SHOWN_SCREENS;
    $('#jump-newest').hidden = this.active === null || (!far && !this.missed);
    const text = this.missed ? `${this.missed} new message${this.missed === 1 ? '' : 's'}` : 'Jump to newest';
    // Written only when it changes: the label is a live region.
    if ($('#jump-label').textContent !== text) $('#jump-label').textContent = text;
  }

  jumpToNewest() {
    const scroller = $('#message-scroller');
    const hadFocus = document.activeElement === $('#jump-newest');
    scroller.scrollTop = scroller.scrollHeight;
    this.missed = 0;
    this.renderJump();
    // The button goes away under the focus: the messages take it.
    if (hadFocus) scroller.focus({ preventScroll: true });
  }

  renderMessage(message, conversation, previous) {
    const mine = message.sender_id === this.me.id;
    const deleted = Boolean(message.deleted_at);
    const group = this.isGroup(conversation);
    const followUp = previous && previous.sender_id === message.sender_id
      && Date.parse(message.inserted_at) - Date.parse(previous.inserted_at) < 5 * 60 * 1000;
    const editable = mine && !deleted && 'edited_at' in message;
    let body;
    if (this.editing === message.id && editable) {
      body = h('form', { class: 'edit' },
        h('label', { class: 'visually-hidden', for: 'edit-content' }, 'Edit message'),
        h('textarea', { id: 'edit-content', name: 'content', rows: 2, dir: 'auto' }, message.content),
        h('p', { class: 'form-error', dataset: { error: 'form' } }),
        h('p', { class: 'edit-actions' },
          h('button', { type: 'button', class: 'quiet', dataset: { action: 'cancel' } }, 'Cancel'),
          h('button', { type: 'submit', class: 'primary' }, 'Save')));
    } else {
      body = h('p', { class: deleted ? 'content deleted' : 'content', dir: 'auto' },
        deleted ? 'Message deleted' : withLinks(message.content));
    }
    let actions = null;
    if (this.confirmingDelete === message.id) {
      actions = h('div', { class: 'message-actions confirm' }, 'Delete this message? ',
        h('button', { type: 'button', class: 'quiet danger', dataset: { action: 'confirm-delete' } }, 'Delete'),
        h('button', { type: 'button', class: 'quiet', dataset: { action: 'cancel' } }, 'Keep'));
    } else if (editable && this.editing !== message.id) {
      actions = h('div', { class: 'message-actions' },
        h('button', { type: 'button', class: 'quiet', dataset: { action: 'edit' }, 'aria-label': 'Edit message' }, 'Edit'),
        h('button', { type: 'button', class: 'quiet', dataset: { action: 'delete' }, 'aria-label': 'Delete message' }, 'Delete'));
    }
    return h('li', {
      class: `message${mine ? ' mine' : ''}${followUp ? ' follow-up' : ''}${deleted ? ' deleted' : ''}${
        this.highlighted === message.id ? ' highlight' : ''}`,
      tabindex: editable ? 0 : null,
      dataset: { testid: 'message', messageId: message.id, senderId: message.sender_id },
    },
    h('div', { class: 'bubble' },
      group && !mine && !followUp ? h('p', { class: 'author' }, fullName(this.users.get(message.sender_id))) : null,
      body,
      h('p', { class: 'meta' },
        h('time', { datetime: message.inserted_at, title: fullTime(message.date ?? message.inserted_at) },
          messageTime(message.inserted_at)),
        message.edited_at && !deleted ? ' · edited' : null)),
    actions);
  }

  /** "Seen" under my newest message once the others' read markers reach it. */
  seenLabel(conversation, messages) {
    const markers = this.reads.get(conversation.id);
    if (!markers?.size) return null;
    const newest = messages[messages.length - 1];
    if (!newest || newest.sender_id !== this.me.id) return null;
    const others = this.memberIds(conversation).filter((id) => id !== this.me.id);
    const seenBy = others.filter((id) => (markers.get(id) ?? 0) >= newest.id);
    if (!seenBy.length) return null;
    if (!this.isGroup(conversation)) return 'Seen';
    if (seenBy.length === others.length) return 'Seen by everyone';
    return `Seen by ${seenBy.map((id) => this.users.get(id)?.name ?? '…').join(', ')}`;
  }

  fitComposer() {
    const composer = $('#composer');
    composer.style.height = 'auto';
    composer.style.height = `${Math.min(composer.scrollHeight, 160)}px`;
  }
}

function dayLabel(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return 'Today';
  if (date.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' }).format(date);
}

/** A random idempotency key; crypto.randomUUID exists only on https and localhost, getRandomValues everywhere. */
function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** The server counts a message's length in code points (an emoji is one), not in UTF-16 units as `maxlength` does. */
function tooLong(content) {
  return content.length > MAX_CONTENT && [...content].length > MAX_CONTENT;
}

function tooLongText(content) {
  return `A message can be at most ${MAX_CONTENT} characters long; this one has ${[...content].length}.`;
}

const LINK = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/**
 * Text with its http(s) addresses as links: text nodes and <a> elements built one by one (never parsed as HTML),
 * opening in a new tab without telling the page where the click came from.
 */
function withLinks(text) {
  const parts = [];
  let from = 0;
  for (const match of text.matchAll(LINK)) {
    const address = match[0].replace(TRAILING, '');
    let url;
    try {
      url = new URL(address);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    parts.push(text.slice(from, match.index));
    parts.push(h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, address));
    from = match.index + address.length;
  }
  parts.push(text.slice(from));
  return parts.filter((part) => part !== '');
}

function describeSendError(error) {
  const reason = error.reason ?? error.message ?? 'unknown error';
  if (/rate limited/.test(reason) || error.status === 429) return 'too many messages at once, wait a moment.';
  if (reason === 'invalid message' || error.status === 422) return 'the message is empty or too long.';
  if (reason === 'conversation not found' || error.status === 404) return 'you are not in this conversation any more.';
  return reason.replace(/\.$/, '');
}
