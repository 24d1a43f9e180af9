// The web client end to end, in headless Chromium (Debian's, driven by playwright-core): two people register,
// read their password from their mail, log in, start a conversation, chat live both ways, see typing and presence
// (when the server has them), edit a message while the other writes, reload and scroll back through the history,
// lose the socket for a few seconds (what happened meanwhile must show after the reconnect), find the "New messages"
// divider above what came in unread and "Jump to newest" when scrolled up, the "N unread messages ↑ Jump" banner when
// the first unread message is on an older page, a notice naming the group Ann is removed from, an unsent draft kept
// through a reload, and a second tab of Ann's (the first carries on after a login there, draft included, and goes to
// the login page, saying why, without the drafts, after a logout there). Any
// console error, failed request or error answer fails the run; Ben's browser is a 375 px wide phone throughout.
//
//   node web-client-e2e.mjs '<options JSON>'
// options: gateway (http://host:port), screenshots (folder), features {typing, presence} (what the server
// supports: the checks of the others are skipped and listed), mailPage (optional: read passwords from the local
// run's mail page; without it each password is asked for on stdout, {"need_password": email}, and read from stdin).
// Prints one JSON line last: {"ok", "checks", "skipped", "problems"}.

import { mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2] ?? '{}');
const gateway = options.gateway.replace(/\/$/, '');
const features = { typing: false, presence: false, ...options.features };
const shots = options.screenshots;
const WAIT = 15_000;
const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const OLDER_MESSAGES = 34;
const LONG_CONVERSATION = 60;
const MANY_UNREAD = 40;
const SCREENFUL = 20;
const BANNER_UNREAD = 45;
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const checks = [];
const skipped = [];
const problems = [];
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function check(name, condition, detail = '') {
  if (!condition) throw new Error(`${name}${detail ? `: ${detail}` : ''}`);
  checks.push(name);
}

/** A check whose failure is recorded without stopping the run, so that the independent checks after it still run. */
function expect(name, condition, detail = '') {
  if (condition) checks.push(name);
  else problems.push(`${name}${detail ? `: ${detail}` : ''}`);
}

async function appears(locator, timeout = WAIT) {
  try {
    await locator.waitFor({ timeout });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

async function passwordFor(email) {
  if (options.mailPage) {
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const html = await (await fetch(options.mailPage)).text();
      const mail = html.split('<article').find((part) => part.includes(email));
      const match = mail && /This is your generated password:\s*(?:<[^>]*>\s*)*([^\s<]+)/.exec(mail);
      if (match) return match[1];
      await new Promise((resolve) => { setTimeout(resolve, 500); });
    }
    throw new Error(`no mail for ${email} on ${options.mailPage}`);
  }
  console.log(JSON.stringify({ need_password: email }));
  const line = await stdinLines.next();
  if (line.done || !line.value.trim()) throw new Error(`no password for ${email}`);
  return line.value.trim();
}

/** One person in one browser context, with every problem the page shows recorded. */
async function person(browser, name, viewport, mobile) {
  const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1 });
  const who = name.toLowerCase();
  const socket = await cuttableSocket(context, who);
  const page = watched(await context.newPage(), who);
  const suffix = Math.random().toString(36).slice(2, 8);
  return { name, page, socket, email: `${who}-${suffix}@example.com`, subname: 'Tester', mobile };
}

/** A page (a tab) whose console errors, failed requests and error answers are recorded as problems. */
function watched(page, who) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${who}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${who}: uncaught ${error.message}`));
  page.on('requestfailed', (request) => {
    // The browser cancels a load it no longer needs when the page navigates (seen: the favicon during a reload);
    // that is not the server failing. Every answer that did come is still checked below.
    if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`${who}: request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${who}: ${response.status()} for ${response.request().method()} ${response.url()}`);
  });
  page.setDefaultTimeout(WAIT);
  return page;
}

/**
 * The page's chat socket through playwright, so that the test can drop it and refuse reconnects for a while, as a
 * network drop does (context.setOffline stops the frames but does not close an open WebSocket).
 */
async function cuttableSocket(context, who) {
  let down = false;
  const open = [];
  await context.routeWebSocket(/\/socket\//, (socket) => {
    // The token goes as phoenix's authToken (a subprotocol), so that no URL, and no console line about one, holds it.
    if (/[?&]token=/.test(socket.url())) problems.push(`${who}: the token in the socket's URL`);
    if (down) {
      socket.close();
      return;
    }
    open.push({ socket, server: socket.connectToServer() });
  });
  return {
    drop() {
      down = true;
      for (const { socket, server } of open.splice(0)) {
        server.close();
        socket.close();
      }
    },
    restore() {
      down = false;
    },
  };
}

/** A REST call as someone's other device would make it (waits out 429s); the answer's JSON, or null. */
async function call(someone, method, path, body) {
  for (;;) {
    const answer = await fetch(`${gateway}${path}`, {
      method,
      headers: { Authorization: `Bearer ${someone.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (answer.status === 429) {
      await sleep(Number(answer.headers.get('Retry-After') ?? 1) * 1000);
      continue;
    }
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status}`);
    return answer.status === 204 ? null : answer.json();
  }
}

async function shot(page, file) {
  await page.screenshot({ path: `${shots}/${file}.png` });
}

/** Every visible field and button has a name a screen reader can say. */
async function labelled(someone, what) {
  const unnamed = await someone.page.evaluate(() => [...document.querySelectorAll('input, textarea, button, a[href]')]
    .filter((element) => element.offsetParent !== null)
    .filter((element) => !(element.labels?.length || element.getAttribute('aria-label') || element.textContent.trim()
      || element.getAttribute('aria-labelledby')))
    .map((element) => element.outerHTML.slice(0, 80)));
  check(`${what}: every field and button has a name`, unnamed.length === 0, unnamed.join(' '));
}

/** Nothing sticks out sideways and the named controls are inside the viewport. */
async function fitsWidth(someone, what, testIds = []) {
  await labelled(someone, what);
  if (!someone.mobile) return;
  const overflow = await someone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(`${what} fits ${PHONE.width} px`, overflow <= 0, `${overflow} px wider than the screen`);
  for (const testId of testIds) {
    const box = await someone.page.getByTestId(testId).first().boundingBox();
    check(`${what}: ${testId} on screen at ${PHONE.width} px`,
      box && box.x >= 0 && box.x + box.width <= PHONE.width && box.y + box.height <= PHONE.height,
      JSON.stringify(box));
  }
}

async function register(someone, screenshots) {
  const { page } = someone;
  await page.goto(`${gateway}/`);
  await page.getByTestId('login-email').waitFor();
  if (screenshots) await shot(page, '1-login');
  await fitsWidth(someone, 'login page', ['login-email', 'login-password', 'login-submit']);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByTestId('register-name').fill(someone.name);
  await page.getByTestId('register-subname').fill(someone.subname);
  await page.getByTestId('register-email').fill(someone.email);
  await page.getByTestId('register-job').fill('Engineer');
  if (screenshots) await shot(page, '2-register');
  await fitsWidth(someone, 'register page', ['register-name', 'register-job', 'register-submit']);
  await page.getByTestId('register-submit').click();
  await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
  check(`${someone.name} sees "check your mail" with the address`,
    (await page.locator('#registered-email').textContent()) === someone.email);
  if (screenshots) await shot(page, '3-check-your-mail');
  someone.password = await passwordFor(someone.email);
}

async function logIn(someone) {
  const { page } = someone;
  await page.getByTestId('registered-login').click();
  check(`${someone.name}'s email is filled in after registering`,
    (await page.getByTestId('login-email').inputValue()) === someone.email);
  await page.getByTestId('login-password').fill(someone.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('new-direct').waitFor({ state: 'visible' });
  someone.id = await page.evaluate(() => JSON.parse(localStorage.getItem('company-chat.session')).user.id);
  someone.token = await page.evaluate(() => JSON.parse(localStorage.getItem('company-chat.session')).token);
  check(`${someone.name} is logged in`, Number.isInteger(someone.id));
}

const message = (page, text) => page.getByTestId('message').filter({ hasText: text });

async function sent(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('send').click();
  await page.locator(`[data-testid="message"][data-message-id]`).filter({ hasText: text }).waitFor();
}

async function postOlderMessages(someone, conversation) {
  // Straight through the API, as another device of Ann's would: the history then needs a second page.
  for (let i = 1; i <= OLDER_MESSAGES; i += 1) {
    await call(someone, 'POST', `/api/conversations/${conversation}/messages`,
      { content: `Backlog message ${i}`, client_id: `backlog-${i}` });
  }
}

async function messageIdOf(page, text) {
  return Number(await message(page, text).getAttribute('data-message-id'));
}

/** The "New messages" dividers on the page, and the ids of the messages right below and above the first one. */
async function dividers(page) {
  return page.evaluate(() => {
    const all = document.querySelectorAll('#messages [data-testid="new-messages"]');
    const nearest = (element, step) => {
      let next = element?.[step];
      while (next && !next.dataset.messageId) next = next[step];
      return next ? Number(next.dataset.messageId) : null;
    };
    return { count: all.length, below: all[0]?.nextElementSibling?.dataset.messageId ?? null,
      above: nearest(all[0], 'previousElementSibling') };
  });
}

/** Whether the message is inside the visible part of the message pane. */
async function inView(page, text) {
  return message(page, text).evaluate((item) => {
    const box = item.getBoundingClientRect();
    const pane = document.querySelector('#message-scroller').getBoundingClientRect();
    return box.top >= pane.top - 1 && box.bottom <= pane.bottom + 1;
  });
}

/**
 * "New messages": Ben starts a group with Ann and writes in it while she is in their direct conversation; she answers
 * there once from another device (which moves her read marker), then Ben writes three more, the first right to left.
 * Opening the group, Ann sees the divider right above the first of the three and nowhere else; it stays while she is
 * there, a message coming in meanwhile adds none, and it is gone when she comes back with nothing unread.
 */
async function newMessagesDivider(ann, ben, direct) {
  const { page } = ann;
  const group = await call(ben, 'POST', '/api/conversations', { title: 'Divider check', member_ids: [ann.id] });
  const path = `/api/conversations/${group.id}/messages`;
  for (const content of ['Read before, 1.', 'Read before, 2.']) await call(ben, 'POST', path, { content });
  const answered = (await call(ann, 'POST', path, { content: 'Answered from my phone.' })).id;
  const unread = [];
  for (const content of ['שלום אן, זו הודעה חדשה.', 'New for Ann, 2.', 'New for Ann, 3.']) {
    unread.push((await call(ben, 'POST', path, { content })).id);
  }
  const groupItem = page.locator(`[data-testid="conversation-item"][data-conversation-id="${group.id}"]`);
  await groupItem.filter({ hasText: 'New for Ann, 3.' }).waitFor();
  await groupItem.click();
  await message(page, 'New for Ann, 3.').waitFor();
  let seen = await dividers(page);
  expect('opening a conversation with unread messages shows one "New messages" divider', seen.count === 1,
    JSON.stringify(seen));
  expect('the divider is right above the first unread message (a right-to-left one)',
    Number(seen.below) === unread[0], `${JSON.stringify(seen)}; first unread ${unread[0]}`);
  expect('and below the messages read before it, none of which has a divider', seen.above === answered,
    `${JSON.stringify(seen)}; Ann's answer ${answered}`);
  await shot(page, '13-new-messages-divider');

  await call(ben, 'POST', path, { content: 'Live while Ann watches.' });
  await message(page, 'Live while Ann watches').waitFor();
  seen = await dividers(page);
  expect('a message coming in while Ann watches adds no divider, and the divider stays where it was',
    seen.count === 1 && Number(seen.below) === unread[0], JSON.stringify(seen));

  await page.locator(`[data-testid="conversation-item"][data-conversation-id="${direct}"]`).click();
  await message(page, 'Sent while my socket was down').waitFor();
  await groupItem.click();
  await message(page, 'Live while Ann watches').waitFor();
  seen = await dividers(page);
  expect('back in the conversation with nothing unread, the divider is gone', seen.count === 0, JSON.stringify(seen));
  return { group, path };
}

/**
 * "Jump to newest": in a long conversation Ann scrolls up more than a screen; the button appears, counts what Ben
 * writes meanwhile (her view stays put), and a click shows the newest message and hides it.
 */
async function jumpToNewest(ann, ben, { path }) {
  const { page } = ann;
  for (let i = 1; i <= LONG_CONVERSATION; i += 1) {
    await call(ann, 'POST', path, { content: `A long conversation, ${i}.`, client_id: `long-${i}` });
  }
  await message(page, `A long conversation, ${LONG_CONVERSATION}.`).waitFor();
  const jump = page.getByTestId('jump-newest');
  expect('at the bottom of the conversation there is no "Jump to newest"', await jump.isHidden());
  await page.locator('#message-scroller').evaluate((scroller) => {
    scroller.scrollTop = scroller.scrollHeight - 3 * scroller.clientHeight;
  });
  expect('scrolled up more than a screen, "Jump to newest" appears', await appears(jump, 5000));
  expect('it says "Jump to newest" while nothing new came',
    await jump.isVisible() && (await jump.textContent()).includes('Jump to newest'), (await jump.textContent()).trim());
  expect('it is a button that takes the keyboard focus',
    await jump.evaluate((button) => { button.focus(); return button.tagName === 'BUTTON' && document.activeElement === button; }));
  if (await jump.isVisible()) await labelled(ann, 'conversation scrolled up');
  await call(ben, 'POST', path, { content: 'Newest but one, from Ben.' });
  await call(ben, 'POST', path, { content: 'Newest, from Ben.' });
  await message(page, 'Newest, from Ben.').waitFor();
  expect('two messages from Ben while Ann is scrolled up make it say "2 new messages"',
    await appears(jump.filter({ hasText: '2 new messages' }), 5000), (await jump.textContent()).trim());
  expect('and Ann\'s view stays where she scrolled to', !(await inView(page, 'Newest, from Ben.')));
  await shot(page, '14-jump-to-newest');
  if (await jump.isVisible()) await jump.click();
  expect('clicking it brings the newest message into view', await inView(page, 'Newest, from Ben.'));
  expect('and hides the button', await jump.waitFor({ state: 'hidden', timeout: 5000 }).then(() => true, () => false));
}

/**
 * "New messages" with history paging: Ben writes more than a page while Ann is elsewhere; after a reload she opens
 * the group. No divider shows while the first unread message is on an older page; scrolling up brings it, above the
 * first of them, and it stays there while an older page still is loaded above. Then more unread than fit on the
 * screen, all loaded: the group opens with the divider in view rather than at the newest message.
 */
async function dividerWithPaging(ann, ben, { group, path }, direct) {
  const { page } = ann;
  await page.locator(`[data-testid="conversation-item"][data-conversation-id="${direct}"]`).click();
  await message(page, 'Sent while my socket was down').waitFor();
  let first = null;
  for (let i = 1; i <= MANY_UNREAD; i += 1) {
    const sent = await call(ben, 'POST', path, { content: `Many unread, ${i}.` });
    first ??= sent.id;
  }
  await page.reload();
  const groupItem = page.locator(`[data-testid="conversation-item"][data-conversation-id="${group.id}"]`);
  await groupItem.getByTestId('unread-count').filter({ hasText: String(MANY_UNREAD) }).waitFor();
  await groupItem.click();
  await message(page, `Many unread, ${MANY_UNREAD}.`).waitFor();
  const loaded = () => page.locator('[data-testid="message"][data-message-id]').count();
  const olderPage = async () => {
    const before = await loaded();
    await page.locator('#message-scroller').evaluate((scroller) => { scroller.scrollTop = 0; });
    await page.waitForFunction((count) => document.querySelectorAll('[data-testid="message"][data-message-id]').length > count,
      before);
  };
  let seen = await dividers(page);
  expect('while the first unread message is on an older page, no divider shows', seen.count === 0,
    `${JSON.stringify(seen)} with ${await loaded()} messages loaded`);
  for (let i = 0; i < 5 && await message(page, 'Many unread, 1.').count() === 0; i += 1) await olderPage();
  seen = await dividers(page);
  expect('scrolling up to it shows the divider right above the first unread message',
    seen.count === 1 && Number(seen.below) === first, `${JSON.stringify(seen)}; first unread ${first}`);
  await olderPage();
  seen = await dividers(page);
  expect('and an older page loaded above leaves it there', seen.count === 1 && Number(seen.below) === first,
    `${JSON.stringify(seen)}; first unread ${first}`);

  // More unread than fit on the screen, all loaded: the conversation opens at the divider, not at the newest.
  await page.locator(`[data-testid="conversation-item"][data-conversation-id="${direct}"]`).click();
  await message(page, 'Sent while my socket was down').waitFor();
  for (let i = 1; i <= SCREENFUL; i += 1) await call(ben, 'POST', path, { content: `A screenful, ${i}.` });
  await groupItem.getByTestId('unread-count').filter({ hasText: String(SCREENFUL) }).waitFor();
  await groupItem.click();
  await message(page, `A screenful, ${SCREENFUL}.`).waitFor();
  seen = await dividers(page);
  const dividerShown = await page.evaluate(() => {
    const divider = document.querySelector('#messages [data-testid="new-messages"]')?.getBoundingClientRect();
    const pane = document.querySelector('#message-scroller').getBoundingClientRect();
    return Boolean(divider) && divider.top >= pane.top && divider.bottom <= pane.bottom;
  });
  expect('more unread than fit on the screen: it opens with the divider in view, above the first of them',
    dividerShown && seen.count === 1 && Number(seen.below) === await messageIdOf(page, 'A screenful, 1.'),
    `in view: ${dividerShown}; ${JSON.stringify(seen)}`);
  expect('and "Jump to newest" leads on to the newest', await page.getByTestId('jump-newest').isVisible());
  await shot(page, '15-opened-at-new-messages');
}

/** Whether the "New messages" divider is wholly inside the visible part of the message pane. */
async function dividerInView(page) {
  return page.evaluate(() => {
    const divider = document.querySelector('#messages [data-testid="new-messages"]')?.getBoundingClientRect();
    const pane = document.querySelector('#message-scroller').getBoundingClientRect();
    return Boolean(divider) && divider.top >= pane.top && divider.bottom <= pane.bottom;
  });
}

/**
 * "N unread messages ↑ Jump": Ben writes 45 messages in a group Ann has not opened (more than the first history page
 * holds). Opening it, Ann has no divider yet, as its message is on an older page, but a banner with the count; clicking
 * it loads back to the first of the 45 and shows the divider in view, right above it, and the banner goes.
 */
async function unreadBanner(ann, ben) {
  const { page } = ann;
  const group = await call(ben, 'POST', '/api/conversations', { title: 'Banner check', member_ids: [ann.id] });
  const path = `/api/conversations/${group.id}/messages`;
  let first = null;
  for (let i = 1; i <= BANNER_UNREAD; i += 1) {
    const sent = await call(ben, 'POST', path, { content: `Unread for the banner, ${i}.` });
    first ??= sent.id;
  }
  const groupItem = page.locator(`[data-testid="conversation-item"][data-conversation-id="${group.id}"]`);
  await groupItem.getByTestId('unread-count').filter({ hasText: String(BANNER_UNREAD) }).waitFor();
  await groupItem.click();
  await message(page, `Unread for the banner, ${BANNER_UNREAD}.`).waitFor();
  const banner = page.getByTestId('jump-unread');
  const bannerText = async () => ((await banner.isVisible()) ? (await banner.textContent()).replace(/\s+/g, ' ').trim()
    : 'no banner');
  expect(`the first unread message on an older page: a banner says "${BANNER_UNREAD} unread messages"`,
    await appears(banner.filter({ hasText: `${BANNER_UNREAD} unread messages` }), 5000), await bannerText());
  let seen = await dividers(page);
  expect('while no divider shows yet', seen.count === 0 && await message(page, 'Unread for the banner, 1.').count() === 0,
    `${JSON.stringify(seen)}; first unread loaded: ${await message(page, 'Unread for the banner, 1.').count()}`);
  expect('the banner is a button that takes the keyboard focus',
    await banner.evaluate((button) => { button.focus(); return button.tagName === 'BUTTON' && document.activeElement === button; }));
  if (await banner.isVisible()) await labelled(ann, 'conversation with the unread banner');
  await shot(page, '16-unread-banner');
  if (await banner.isVisible()) await banner.click();
  await appears(page.getByTestId('new-messages'), 5000);
  seen = await dividers(page);
  const dividerShown = await dividerInView(page);
  expect('clicking it brings the divider into view, right above the first of the unread messages',
    dividerShown && seen.count === 1 && Number(seen.below) === first,
    `in view: ${dividerShown}; ${JSON.stringify(seen)}; first unread ${first}`);
  expect('and the banner goes', await banner.waitFor({ state: 'hidden', timeout: 5000 }).then(() => true, () => false));
  await shot(page, '17-unread-banner-jumped');
}

/**
 * Removed from a group: Ben creates "Design" with Ann, who has it open, and removes her: the notice names the group.
 * Then "Budget", which she does not have open: its removal is named in a notice too.
 */
async function removedFromGroup(ann, ben) {
  const { page } = ann;
  const notice = page.locator('#chat-notice');
  const noticeText = async () => ((await notice.isVisible()) ? (await notice.textContent()).trim() : 'no notice');
  const design = await call(ben, 'POST', '/api/conversations', { title: 'Design', member_ids: [ann.id] });
  await call(ben, 'POST', `/api/conversations/${design.id}/messages`, { content: 'Welcome to Design.' });
  const designItem = page.locator(`[data-testid="conversation-item"][data-conversation-id="${design.id}"]`);
  await designItem.click();
  await message(page, 'Welcome to Design.').waitFor();
  await call(ben, 'DELETE', `/api/conversations/${design.id}/members/${ann.id}`);
  expect('removed from the open group "Design", Ann is told so by its name',
    await appears(notice.filter({ hasText: 'Design' }), 5000), await noticeText());
  expect('and the group is gone from her list',
    await designItem.waitFor({ state: 'detached', timeout: 5000 }).then(() => true, () => false));
  await shot(page, '18-removed-from-group');

  const budget = await call(ben, 'POST', '/api/conversations', { title: 'Budget', member_ids: [ann.id] });
  await page.locator(`[data-testid="conversation-item"][data-conversation-id="${budget.id}"]`).waitFor();
  await call(ben, 'DELETE', `/api/conversations/${budget.id}/members/${ann.id}`);
  expect('removed from a group she does not have open ("Budget"), she is told its name too',
    await appears(notice.filter({ hasText: 'Budget' }), 5000), await noticeText());
}

/**
 * A second tab of Ann's browser. A login there replaces the stored token (written as its login form does, then that
 * tab reloaded): the first tab carries on with the new token, and still gets Ben's messages live once the old token
 * is revoked. Then Ann logs out in the second tab: the first goes to the login page within a few seconds and says why.
 */
async function otherTab(ann, ben, direct) {
  // An unsent draft in the first tab: kept through a reload, and through the restart the login below causes.
  const draft = 'A draft I have not sent yet';
  const composer = ann.page.getByTestId('composer');
  await ann.page.evaluate((id) => { location.hash = `#/c/${id}`; }, direct);
  await composer.waitFor({ state: 'visible' });
  await composer.fill(draft);
  await ann.page.reload();
  await composer.waitFor({ state: 'visible' });
  await ann.page.waitForFunction((text) => document.querySelector('#composer')?.value === text, draft, { timeout: 5000 })
    .catch(() => {});
  expect('an unsent draft is still in the box after a reload', await composer.inputValue() === draft,
    `the box reads "${await composer.inputValue()}"`);

  const second = watched(await ann.page.context().newPage(), 'ann (second tab)');
  await second.goto(`${gateway}/`);
  await second.getByTestId('logout').waitFor({ state: 'visible' });
  check('a second tab of Ann\'s browser is logged in too', true);

  const oldToken = ann.token;
  const login = await fetch(`${gateway}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ creds: { email: ann.email, password: ann.password } }) });
  const { data } = await login.json();
  await second.evaluate((saved) => localStorage.setItem('company-chat.session', JSON.stringify(saved)),
    { token: data.token, expire: data.expire, user: data.user });
  await second.reload();
  await second.getByTestId('logout').waitFor({ state: 'visible' });
  ann.token = data.token;
  await call({ token: oldToken }, 'POST', '/api/logout');
  await call(ben, 'POST', `/api/conversations/${direct}/messages`, { content: 'After your new login.' });
  const directItem = ann.page.locator(`[data-testid="conversation-item"][data-conversation-id="${direct}"]`);
  expect('a login in another tab replaces the token: the first tab carries on with the new one, live',
    await appears(directItem.filter({ hasText: 'After your new login.' }), 10_000)
      && await ann.page.getByTestId('login-email').isHidden());
  expect('and keeps the unsent draft', await composer.inputValue() === draft, `the box reads "${await composer.inputValue()}"`);

  const storedDrafts = () => ann.page.evaluate(() => sessionStorage.getItem('company-chat.drafts'));
  const draftsBefore = await storedDrafts();
  await second.getByTestId('logout').click();
  await second.getByTestId('login-email').waitFor();
  check('logging out in it shows its login page', true);
  expect('the first tab goes to the login page too', await appears(ann.page.getByTestId('login-email'), 5000));
  const notice = ann.page.locator('#login-notice');
  expect('saying "You logged out in another tab."',
    await appears(notice.filter({ hasText: 'You logged out in another tab.' }), 5000),
    (await notice.isVisible()) ? (await notice.textContent()).trim() : 'no notice');
  const draftsAfter = await storedDrafts();
  expect('a logout drops the drafts the tab kept', Boolean(draftsBefore?.includes(draft)) && draftsAfter === null,
    `stored before the logout: ${draftsBefore}, after: ${draftsAfter}`);
  await shot(ann.page, '19-logged-out-in-another-tab');
  await second.close();
}

async function main() {
  await mkdir(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
  });
  const ann = await person(browser, 'Ann', DESKTOP, false);
  const ben = await person(browser, 'Ben', PHONE, true);
  try {
    await register(ann, false);
    await register(ben, true);
    await logIn(ann);
    await logIn(ben);
    await shot(ben.page, '4-conversations-empty-phone');
    await fitsWidth(ben, 'empty conversation list', ['new-direct', 'logout']);

    // Ann finds Ben in the directory and writes first.
    await ann.page.getByTestId('new-direct').click();
    await ann.page.getByTestId('directory-filter').fill(ben.email);
    const benInDirectory = ann.page.locator(`[data-testid="directory-user"][data-user-id="${ben.id}"]`);
    await benInDirectory.waitFor();
    await shot(ann.page, '5-new-chat-directory');
    await benInDirectory.click();
    await ann.page.waitForURL(/#\/c\/\d+$/);
    const conversation = Number(new URL(ann.page.url()).hash.split('/').pop());
    check('Ann opened a conversation from the directory', conversation > 0);
    await sent(ann.page, 'Hello Ben! Lunch at noon?');

    // Ben, on his phone, sees it arrive: a new conversation with an unread badge.
    const benItem = ben.page.locator(`[data-testid="conversation-item"][data-conversation-id="${conversation}"]`);
    await benItem.waitFor();
    check('the new conversation reaches Ben live', true);
    await benItem.getByTestId('unread-count').waitFor();
    check('Ben sees an unread badge', (await benItem.getByTestId('unread-count').textContent()).trim() === '1');
    check('Ben sees the last message in the list', (await benItem.textContent()).includes('Lunch at noon'));
    await shot(ben.page, '6-conversations-unread-phone');
    await fitsWidth(ben, 'conversation list');

    if (features.presence) {
      await ann.page.locator(`[data-testid="online"][data-user-id="${ben.id}"]`).first().waitFor();
      await ben.page.locator(`[data-testid="online"][data-user-id="${ann.id}"]`).first().waitFor();
      check('each sees the other online', true);
    } else {
      skipped.push('online dots: the server sends no presence_state');
    }

    await benItem.click();
    await message(ben.page, 'Lunch at noon').waitFor();
    check('Ben opens the conversation and reads the message', true);
    check('opening it clears the badge', await benItem.getByTestId('unread-count').count() === 0);

    if (features.typing) {
      await ben.page.getByTestId('composer').pressSequentially('Sure, see', { delay: 40 });
      await ann.page.getByTestId('typing').waitFor({ state: 'visible' });
      check('Ann sees "Ben is typing…"', (await ann.page.getByTestId('typing').textContent()).includes('Ben is typing'));
      await shot(ann.page, '7-typing');
    } else {
      skipped.push('typing: the server answers "typing" with an error');
    }
    await sent(ben.page, 'Sure, see you at noon.');
    await message(ann.page, 'see you at noon').waitFor();
    check('Ben\'s reply reaches Ann live', true);
    if (features.typing) {
      await ann.page.getByTestId('typing').waitFor({ state: 'hidden' });
      check('the typing notice goes once the message is in', true);
    }
    await sent(ann.page, 'Great, I will book a table.');
    await message(ben.page, 'book a table').waitFor();
    check('Ann\'s second message reaches Ben live', true);

    // Ann edits that message while Ben writes: the redraw his message causes keeps her text and focus.
    const toEdit = message(ann.page, 'book a table');
    await toEdit.hover();
    await toEdit.getByRole('button', { name: 'Edit message' }).click();
    const editor = ann.page.locator('#edit-content');
    await editor.fill('Great, I booked a table for two.');
    await sent(ben.page, 'Perfect, thanks!');
    await message(ann.page, 'Perfect, thanks').waitFor();
    expect('an edit under way keeps its text when a message comes in',
      await editor.count() === 1 && await editor.inputValue() === 'Great, I booked a table for two.',
      await editor.count() ? `the box reads "${await editor.inputValue()}"` : 'the edit box is gone');
    expect('and keeps the focus', await ann.page.evaluate(() => document.activeElement?.id === 'edit-content'),
      await ann.page.evaluate(() => document.activeElement?.outerHTML.slice(0, 60)));
    if (await editor.count()) await editor.press('Enter');
    expect('Enter saves the edit, and Ben sees it', await appears(message(ben.page, 'booked a table for two')));
    await shot(ann.page, '8-conversation-desktop');
    await shot(ben.page, '9-conversation-phone');
    await fitsWidth(ben, 'conversation', ['composer', 'send']);

    // A longer history: after a reload Ben sees the newest page and scrolls back for the rest.
    await postOlderMessages(ann, conversation);
    await ann.page.reload();
    await ben.page.reload();
    await message(ann.page, `Backlog message ${OLDER_MESSAGES}`).waitFor();
    check('after a reload Ann is still logged in, in the conversation, with its history', true);
    await message(ben.page, `Backlog message ${OLDER_MESSAGES}`).waitFor();
    const total = OLDER_MESSAGES + 4;
    const firstPage = await ben.page.locator('[data-testid="message"][data-message-id]').count();
    check('the first history page is not the whole history', firstPage < total, `${firstPage} of ${total}`);
    for (let i = 0; i < 10 && await ben.page.locator('[data-testid="message"][data-message-id]').count() < total; i += 1) {
      await ben.page.locator('#message-scroller').evaluate((scroller) => { scroller.scrollTop = 0; });
      await ben.page.waitForFunction((count) => document.querySelectorAll('[data-testid="message"][data-message-id]').length > count
        || document.querySelector('#history-status').textContent.includes('start of the conversation'), firstPage);
    }
    await message(ben.page, 'Lunch at noon').waitFor();
    await ben.page.locator('#message-scroller').evaluate((scroller) => { scroller.scrollTop = 0; });
    check('scrolling back loads the older pages, down to the first message',
      await ben.page.locator('[data-testid="message"][data-message-id]').count() === total);
    await shot(ben.page, '10-history-start-phone');

    // Live after the reload too, and back to the list on a phone.
    await sent(ben.page, 'Back on my phone.');
    await message(ann.page, 'Back on my phone').waitFor();
    check('messages still arrive live after a reload', true);

    // Ann's socket drops for a few seconds. Meanwhile Ben writes twice, edits and deletes, and Ann writes too (by
    // REST, as the socket is down): after the reconnect she has all of it, once, the edit and the deletion included.
    const path = `/api/conversations/${conversation}/messages`;
    await call(ben, 'POST', path, { content: 'This one will be deleted.' });
    await message(ann.page, 'will be deleted').waitFor();
    const toChange = await messageIdOf(ann.page, 'Back on my phone');
    const toDelete = await messageIdOf(ann.page, 'will be deleted');
    const dropped = Date.now();
    ann.socket.drop();
    await call(ben, 'POST', path, { content: 'Missed while you were away, 1.' });
    await sent(ann.page, 'Sent while my socket was down.');
    await call(ben, 'POST', path, { content: 'Missed while you were away, 2.' });
    await call(ben, 'PATCH', `${path}/${toChange}`, { content: 'Back on my phone, edited.' });
    await call(ben, 'DELETE', `${path}/${toDelete}`);
    const reconnecting = ann.page.locator('#connection');
    expect('"Reconnecting…" shows within 2.5 s of the drop',
      await appears(reconnecting, Math.max(1, dropped + 2500 - Date.now())));
    await shot(ann.page, '11-reconnecting');
    // Phoenix tries again about 2.3 and 4.3 s after a drop: let the second try in.
    await sleep(Math.max(0, dropped + 3000 - Date.now()));
    ann.socket.restore();
    await reconnecting.waitFor({ state: 'hidden' });
    expect('a message missed during the drop shows after the reconnect, though Ann wrote meanwhile',
      await appears(message(ann.page, 'away, 1.')));
    expect('and the one after it', await appears(message(ann.page, 'away, 2.')));
    expect('an edit made during the drop shows after the reconnect',
      await appears(ann.page.locator(`[data-message-id="${toChange}"]`).filter({ hasText: 'Back on my phone, edited.' })));
    expect('a deletion made during the drop shows after the reconnect',
      await appears(ann.page.locator(`[data-message-id="${toDelete}"].deleted`)));
    const ids = await ann.page.$$eval('[data-testid="message"][data-message-id]', (items) => items.map((item) => item.dataset.messageId));
    expect('nothing shows twice after the reconnect', ids.length === new Set(ids).size
      && await message(ann.page, 'Sent while my socket').count() === 1, ids.join(','));
    await shot(ann.page, '12-after-reconnect');

    const group = await newMessagesDivider(ann, ben, conversation);
    await jumpToNewest(ann, ben, group);
    await dividerWithPaging(ann, ben, group, conversation);
    await unreadBanner(ann, ben);
    await removedFromGroup(ann, ben);

    await ben.page.getByRole('button', { name: 'Back to conversations' }).click();
    await ben.page.getByTestId('new-direct').waitFor({ state: 'visible' });
    check('Ben goes back to the list on his phone', true);

    await otherTab(ann, ben, conversation);
    const afterLogout = await fetch(`${gateway}/api/users/${ann.id}`, { headers: { Authorization: `Bearer ${ann.token}` } });
    check('logging out revokes the token', afterLogout.status === 401, `status ${afterLogout.status}`);
    await ann.page.reload();
    await ann.page.getByTestId('login-email').waitFor();
    check('after logging out a reload shows the login page', true);

    check('no console errors, failed requests or error answers', problems.length === 0, problems.join('; '));
  } catch (error) {
    problems.push(error.message.split('\n')[0]);
    await shot(ann.page, 'failure-ann').catch(() => {});
    await shot(ben.page, 'failure-ben').catch(() => {});
  } finally {
    await browser.close();
  }
  const ok = problems.length === 0;
  console.log(JSON.stringify({ ok, checks, skipped, problems }));
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.log(JSON.stringify({ ok: false, checks, skipped, problems: [...problems, String(error)] }));
  process.exit(1);
});
