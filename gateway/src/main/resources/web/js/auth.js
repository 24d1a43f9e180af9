// Log in, register, "check your mail".

import { api, ApiError } from './api.js';
import { $, clearErrors, showErrors } from './dom.js';
import { session } from './session.js';

const VIEWS = { login: 'Log in', register: 'Create an account', registered: 'Check your mail' };
// The address just registered, for "check your mail" after a reload (this tab only).
const REGISTERED_KEY = 'company-chat.registered';

export function showAuth(view, { notice } = {}) {
  $('#chat').hidden = true;
  $('#auth').hidden = false;
  for (const name of Object.keys(VIEWS)) $(`#${name}-view`).hidden = name !== view;
  document.title = `${VIEWS[view]} · Company chat`;
  if (view === 'registered') showRegisteredAddress();
  const noticeSlot = $('#login-notice');
  if (view === 'login') {
    noticeSlot.textContent = notice ?? '';
    noticeSlot.hidden = !notice;
  }
  const first = $(`#${view}-view input`);
  if (first && !first.value) first.focus();
}

export function bindAuth({ loggedIn }) {
  const loginForm = $('#login-form');
  loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(loginForm);
    const email = loginForm.elements.email.value.trim();
    const password = loginForm.elements.password.value;
    if (!email || !password) {
      showErrors(loginForm, new ApiError(0, null, null, 'Enter your email and the password from your mail.'));
      return;
    }
    await busy(loginForm, async () => {
      try {
        const answer = await api.login(email, password);
        session.save(answer.data);
        loginForm.reset();
        loggedIn();
      } catch (error) {
        showErrors(loginForm, error.status === 401
          ? new ApiError(401, null, null, 'Wrong email or password.') : error);
      }
    });
  });

  const registerForm = $('#register-form');
  registerForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(registerForm);
    const fields = registerForm.elements;
    const user = {
      name: fields.name.value.trim(),
      subname: fields.subname.value.trim(),
      email: fields.email.value.trim(),
      job: fields.job.value.trim(),
    };
    const blank = Object.fromEntries(Object.entries(user).filter(([, value]) => !value).map(([name]) => [name, ["can't be blank"]]));
    if (Object.keys(blank).length) {
      showErrors(registerForm, new ApiError(422, { errors: blank }));
      return;
    }
    await busy(registerForm, async () => {
      try {
        await api.register(user);
        registerForm.reset();
        try {
          sessionStorage.setItem(REGISTERED_KEY, user.email);
        } catch {
          // without storage a reload shows the sentence without the address
        }
        $('#registered-email').textContent = user.email;
        $('#login-email').value = user.email;
        location.hash = '#/registered';
      } catch (error) {
        showErrors(registerForm, error);
      }
    });
  });

  const devMailPage = document.querySelector('meta[name="dev-mail-page"]')?.content;
  if (devMailPage) {
    $('#dev-mail-link').href = devMailPage;
    $('#dev-mail').hidden = false;
  }
}

function showRegisteredAddress() {
  let email = $('#registered-email').textContent;
  try {
    email ||= sessionStorage.getItem(REGISTERED_KEY) ?? '';
  } catch {
    // no storage: no address
  }
  $('#registered-email').textContent = email;
  if (email) $('#login-email').value ||= email;
  $('#registered-to').hidden = !email;
  $('#registered-somewhere').hidden = Boolean(email);
}

async function busy(form, work) {
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}
