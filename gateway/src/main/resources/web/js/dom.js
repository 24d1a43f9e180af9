// A tiny element builder: text is always set as text, never parsed as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Shows an API error on a form: field messages under their inputs, the rest in the form's general slot. */
export function showErrors(form, error) {
  clearErrors(form);
  const fields = error?.fieldErrors ?? {};
  let unplaced = [];
  for (const [field, messages] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error="${CSS.escape(field)}"]`);
    const text = `${labelOf(field)} ${messages.join(', ')}`;
    if (slot) {
      slot.textContent = text;
      const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
      input?.setAttribute('aria-invalid', 'true');
    } else {
      unplaced.push(text);
    }
  }
  if (!Object.keys(fields).length) unplaced = [error?.message ?? String(error)];
  const general = form.querySelector('[data-error="form"]');
  if (general) general.textContent = unplaced.join(' ');
}

export function clearErrors(form) {
  form.querySelectorAll('[data-error]').forEach((slot) => { slot.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((input) => input.removeAttribute('aria-invalid'));
}

const LABELS = { name: 'First name', subname: 'Last name', email: 'Email', job: 'Job', title: 'Name',
  member_ids: 'Members', user_id: 'User', recipient_id: 'User', content: 'Message', message_id: 'Message' };

function labelOf(field) {
  return LABELS[field] ?? field;
}

export function initials(user) {
  if (!user) return '?';
  return `${(user.name ?? '?')[0] ?? ''}${(user.subname ?? '')[0] ?? ''}`.toUpperCase();
}

export function fullName(user) {
  return user ? `${user.name} ${user.subname}`.trim() : '…';
}

/** A colour per user id, so that avatars are told apart at a glance. */
export function hueOf(id) {
  return (Number(id) * 137) % 360;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function shortTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? timeFormat.format(date) : dayFormat.format(date);
}

export function messageTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : '';
}

export function fullTime(iso) {
  return iso ? fullFormat.format(new Date(iso)) : '';
}
