// The login: token, its expiry and the user, kept in localStorage so that a reload or a new tab stays logged in.

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
