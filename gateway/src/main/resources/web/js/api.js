// The REST API of API.md, through the gateway on this page's own origin.

import { session } from './session.js';

export class ApiError extends Error {
  constructor(status, body, retryAfter, message) {
    super(message ?? ApiError.describe(status, body, retryAfter));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  get fieldErrors() {
    return this.body?.errors ?? null;
  }

  static describe(status, body, retryAfter) {
    if (status === 429) {
      return retryAfter ? `Too many tries. Try again in ${retryAfter} s.` : 'Too many tries. Try again later.';
    }
    if (status === 502 || status === 503) return 'The service is unavailable for a moment. Try again shortly.';
    if (body?.message) return body.message.charAt(0).toUpperCase() + body.message.slice(1) + '.';
    if (body?.errors) return 'Check the fields above.';
    return `The server answered ${status}.`;
  }
}

let unauthorized = () => {};

/** Called when the server refuses the session's token (expired, or logged out elsewhere). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null, null, 'The server cannot be reached. Check your connection and try again.');
  }
  const text = response.status === 204 ? '' : await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers.get('Retry-After'));
    // A token that is no longer the stored one (another tab logged out, or in again) is not this session ending.
    if (response.status === 401 && token && token === session.token()) unauthorized(error);
    throw error;
  }
  return data;
}

const query = (parameters) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};

export const HISTORY_PAGE = 30;

export const api = {
  register: (user) => request('POST', '/api/users', { user }),
  login: (email, password) => request('POST', '/api/login', { creds: { email, password } }),
  logout: () => request('POST', '/api/logout'),
  user: (id) => request('GET', `/api/users/${id}`),
  users: (after) => request('GET', `/api/users${query({ limit: 100, after })}`),
  conversations: () => request('GET', '/api/conversations'),
  openDirect: (recipientId) => request('POST', '/api/conversations', { recipient_id: recipientId }),
  createGroup: (title, memberIds) => request('POST', '/api/conversations', { title, member_ids: memberIds }),
  rename: (id, title) => request('PATCH', `/api/conversations/${id}`, { title }),
  addMember: (id, userId) => request('POST', `/api/conversations/${id}/members`, { user_id: userId }),
  removeMember: (id, userId) => request('DELETE', `/api/conversations/${id}/members/${userId}`),
  history: (id, before, limit = HISTORY_PAGE) => request('GET', `/api/conversations/${id}/messages${query({ limit, before })}`),
  post: (id, content, clientId) => request('POST', `/api/conversations/${id}/messages`, { content, client_id: clientId }),
  edit: (id, messageId, content) => request('PATCH', `/api/conversations/${id}/messages/${messageId}`, { content }),
  remove: (id, messageId) => request('DELETE', `/api/conversations/${id}/messages/${messageId}`),
  reads: (id) => request('GET', `/api/conversations/${id}/reads`),
  search: (q, before) => request('GET', `/api/messages/search${query({ q, before })}`),
};
