// The login: token, its expiry and the user, kept in localStorage so that a reload or a new tab stays logged in; and
// the unsent drafts, kept in sessionStorage so that a reload (or the restart a login in another tab causes) keeps them.

const KEY = 'company-chat.session';

function read() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY));
    if (saved?.token && saved.user && saved.expire * 1000 > Date.now()) return saved;
  } catch {
    // an unreadable entry is no session
  }
  return null;
}

export const session = {
  current: () => read(),
  token: () => read()?.token ?? null,
  save(login) {
    localStorage.setItem(KEY, JSON.stringify({ token: login.token, expire: login.expire, user: login.user }));
  },
  clear() {
    localStorage.removeItem(KEY);
  },
  /** Calls back when another tab logs in or out. */
  onChange(callback) {
    window.addEventListener('storage', (event) => {
      if (event.key === KEY || event.key === null) callback(read());
    });
  },
};

const DRAFTS = 'company-chat.drafts';

/**
 * Unsent drafts by conversation id, for one user: in this tab only (sessionStorage), gone at logout. A browser that
 * refuses storage (private mode, quota) keeps them in memory only, as before.
 */
export const drafts = {
  load(userId) {
    try {
      const saved = JSON.parse(sessionStorage.getItem(DRAFTS));
      if (saved?.user === userId && saved.texts) {
        return new Map(Object.entries(saved.texts).map(([id, text]) => [Number(id), String(text)]));
      }
    } catch {
      // an unreadable entry holds no draft
    }
    return new Map();
  },
  save(userId, texts) {
    const kept = [...texts].filter(([, text]) => text.trim());
    try {
      if (kept.length === 0) sessionStorage.removeItem(DRAFTS);
      else sessionStorage.setItem(DRAFTS, JSON.stringify({ user: userId, texts: Object.fromEntries(kept) }));
    } catch {
      // storage full or refused: the drafts stay in memory
    }
  },
  clear() {
    try {
      sessionStorage.removeItem(DRAFTS);
    } catch {
      // nothing stored
    }
  },
};
