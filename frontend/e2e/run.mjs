#!/usr/bin/env node
// End-to-end run of the web client against a running Convene stack, like two people would use it.
//
//   BASE_URL=http://localhost:8080 node e2e/run.mjs
//
// Drives Debian's Chromium (/usr/bin/chromium) with playwright-core, two browser contexts (two
// users, separate cookies), fake camera/microphone/screen. Writes screenshots to e2e/screenshots/
// and exits non-zero on the first failure (or on any uncaught error inside the pages).
//
// Environment:
//   BASE_URL              the gateway serving the app and /api (default http://localhost:8080)
//   CHROMIUM_PATH         browser binary (default /usr/bin/chromium)
//   E2E_HEADED=1          show the browsers (needs a display)
//   E2E_STRICT_BUDGET=1   also fail when the teams list's first contentful paint is ≥ 1000 ms
//   E2E_TIMEOUT_MS        overall deadline (default 270000)
//   SCREENSHOT_DIR        where screenshots go (default e2e/screenshots)

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const BASE_URL = (process.env.BASE_URL || 'http://localhost:8080').replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HEADED = process.env.E2E_HEADED === '1';
const STRICT_BUDGET = process.env.E2E_STRICT_BUDGET === '1';
const OVERALL_MS = Number(process.env.E2E_TIMEOUT_MS || 270_000);
const FCP_BUDGET_MS = 1000;

const here = dirname(fileURLToPath(import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR || join(here, 'screenshots');
mkdirSync(SHOTS, { recursive: true });

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

const stamp = Date.now().toString(36) + Math.floor(Math.random() * 1296).toString(36);
const PASSWORD = 'correct-horse-9';
const userA = { username: `e2e_a_${stamp}`, email: `e2e_a_${stamp}@example.com` };
const userB = { username: `e2e_b_${stamp}`, email: `e2e_b_${stamp}@example.com` };
const TEAM = `E2E team ${stamp}`;
const XSS = `<img src=x onerror="window.__xss=(window.__xss||0)+1"><script>window.__xss=1</script>`;

const results = [];
const pageErrors = [];
// Conference signaling as each page saw it, printed when a step fails.
const signaling = { A: [], B: [] };

function summarize(payload) {
  try {
    const f = JSON.parse(String(payload));
    switch (f.type) {
      case 'offer':
      case 'answer':
        return `${f.type} (${(f.sdp || '').length} chars, ${((f.sdp || '').match(/^m=/gm) || []).length} m-lines, msid ${[...new Set(((f.sdp || '').match(/a=msid:(\S+)/g) || []).map((x) => x.slice(7)))].join(',')})`;
      case 'candidate':
        return `candidate ${typeof f.candidate === 'string' ? f.candidate : f.candidate?.candidate}`;
      case 'tracks':
        return `tracks ${JSON.stringify((f.tracks || []).map((t) => `${t.user_id.slice(0, 8)}:${t.kind}:${t.source}:${t.track_id.slice(0, 8)}/${t.stream_id.slice(0, 16)}`))}`;
      case 'error':
        return `error ${f.code}: ${f.message}`;
      default:
        return JSON.stringify(f).slice(0, 160);
    }
  } catch {
    return String(payload).slice(0, 120);
  }
}

async function mediaReport(page) {
  return page
    .evaluate(async () => {
      const out = [];
      for (const pc of window.__pcs || []) {
        const stats = await pc.getStats();
        const rows = [];
        stats.forEach((r) => {
          if (r.type === 'inbound-rtp' || r.type === 'outbound-rtp') rows.push(`${r.type}:${r.kind}:${r.bytesReceived ?? r.bytesSent}`);
          if (r.type === 'candidate-pair' && r.nominated) rows.push(`pair:${r.state}`);
        });
        out.push({
          signaling: pc.signalingState,
          ice: pc.iceConnectionState,
          connection: pc.connectionState,
          transceivers: pc.getTransceivers().map((t) => `${t.mid}:${t.direction}/${t.currentDirection}:${t.receiver.track?.kind}:${t.receiver.track?.id?.slice(0, 8)}`),
          stats: rows,
        });
      }
      const tiles = [...document.querySelectorAll('[data-testid="video-tile"]')].map((t) => {
        const v = t.querySelector('video');
        return `${t.dataset.userId?.slice(0, 8)}:${t.dataset.source}:${t.dataset.local}:${v ? `${v.videoWidth}x${v.videoHeight} rs${v.readyState}` : 'no-video'}`;
      });
      return { pcs: out, tiles };
    })
    .catch((e) => ({ error: e.message }));
}
let pageA;
let pageB;
let browser;

function log(...a) {
  console.log(...a);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    const out = await fn();
    const ms = Date.now() - t0;
    results.push({ name, ok: true, ms });
    log(`  ✔ ${name} (${ms} ms)`);
    return out;
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0 });
    log(`  ✘ ${name}`);
    throw Object.assign(e instanceof Error ? e : new Error(String(e)), { step: name });
  }
}

async function shot(page, name) {
  try {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  } catch (e) {
    log(`    (screenshot ${name} failed: ${e.message})`);
  }
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

const tid = (id) => `[data-testid="${id}"]`;

async function newUserPage(label) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    baseURL: BASE_URL,
    permissions: ['camera', 'microphone', 'clipboard-read', 'clipboard-write'],
  });
  // Keep a handle on every RTCPeerConnection the app creates so the test can read getStats().
  await context.addInitScript(() => {
    const Orig = window.RTCPeerConnection;
    if (!Orig) return;
    window.__pcs = [];
    class TrackedPeerConnection extends Orig {
      constructor(...args) {
        super(...args);
        window.__pcs.push(this);
      }
    }
    window.RTCPeerConnection = TrackedPeerConnection;
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/conferences/') || !signaling[label]) return;
    const list = signaling[label];
    ws.on('framesent', (f) => list.push(`→ ${summarize(f.payload)}`));
    ws.on('framereceived', (f) => list.push(`← ${summarize(f.payload)}`));
    ws.on('close', () => list.push('× socket closed'));
  });
  page.on('pageerror', (e) => {
    pageErrors.push(`[${label}] ${e.message}`);
    log(`    [${label}] page error: ${e.message}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') log(`    [${label}] console: ${m.text()}`);
  });
  return page;
}

async function register(page, user) {
  await page.goto('/register');
  await page.fill(tid('register-username'), user.username);
  await page.fill(tid('register-email'), user.email);
  await page.fill(tid('register-password'), PASSWORD);
  await page.click(tid('register-submit'));
  await page.waitForURL(/\/teams$/);
  await page.waitForSelector(tid('teams-page'));
  const shown = await page.textContent(tid('profile-username'));
  expect(shown?.trim() === user.username, `profile shows "${shown}", expected ${user.username}`);
  const email = await page.textContent(tid('profile-email'));
  expect(email?.trim() === user.email, `profile shows email "${email}"`);
}

async function inboundVideoBytes(page) {
  return page.evaluate(async () => {
    let total = 0;
    for (const pc of window.__pcs || []) {
      if (pc.signalingState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && (r.kind === 'video' || r.mediaType === 'video')) total += r.bytesReceived || 0;
      });
    }
    return total;
  });
}

async function waitRemoteVideo(page, source) {
  await page.waitForFunction(
    (src) =>
      [...document.querySelectorAll(`[data-testid="video-tile"][data-local="false"][data-source="${src}"] video`)].some(
        (v) => v.videoWidth > 0 && v.readyState >= 2,
      ),
    source,
    { timeout: 45_000, polling: 250 },
  );
  return page.evaluate((src) => {
    const v = [...document.querySelectorAll(`[data-testid="video-tile"][data-local="false"][data-source="${src}"] video`)].find(
      (x) => x.videoWidth > 0,
    );
    return { width: v.videoWidth, height: v.videoHeight };
  }, source);
}

async function assertInert(page, who) {
  const xss = await page.evaluate(() => window.__xss);
  expect(xss === undefined, `${who}: the XSS payload ran (window.__xss=${xss})`);
  const injected = await page.locator('img[src="x"]').count();
  expect(injected === 0, `${who}: found ${injected} injected <img> elements`);
}

async function main() {
  log(`Convene e2e against ${BASE_URL} (users ${userA.username}, ${userB.username})`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: !HEADED, args: ARGS });
  pageA = await newUserPage('A');
  pageB = await newUserPage('B');

  // ---------- accounts ----------
  await step('A registers and lands on the teams list', async () => {
    await register(pageA, userA);
    await shot(pageA, '01-teams-empty-a');
  });
  await step('B registers', () => register(pageB, userB));

  await step('register maps the API error code to the email field (email_taken)', async () => {
    const probe = await newUserPage('probe');
    await probe.goto('/register');
    await probe.fill(tid('register-username'), `e2e_c_${stamp}`);
    await probe.fill(tid('register-email'), userA.email);
    await probe.fill(tid('register-password'), PASSWORD);
    await probe.click(tid('register-submit'));
    await probe.waitForSelector(tid('register-email-error'));
    await shot(probe, '02-register-email-taken');
    await probe.context().close();
  });

  await step('B signs out and signs in again (session restored from the refresh cookie on reload)', async () => {
    await pageB.click(tid('nav-user-menu'));
    await pageB.click(tid('nav-logout'));
    await pageB.waitForSelector(tid('login-form'));
    await pageB.fill(tid('login-username'), userB.username);
    await pageB.fill(tid('login-password'), 'wrong-password');
    await pageB.click(tid('login-submit'));
    await pageB.waitForSelector(tid('login-error'));
    await pageB.fill(tid('login-password'), PASSWORD);
    await pageB.click(tid('login-submit'));
    await pageB.waitForSelector(tid('teams-page'));
    await pageB.reload();
    await pageB.waitForSelector(tid('teams-page'));
    const stored = await pageB.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(!/refresh_token|access_token|eyJ/.test(stored), 'a token was written to web storage');
  });

  // ---------- team ----------
  let teamUrl = '';
  let joinCode = '';
  await step('A creates a team', async () => {
    await pageA.click(tid('create-team-link'));
    await pageA.fill(tid('team-create-name'), TEAM);
    await pageA.fill(tid('team-create-description'), 'Made by the end-to-end run');
    await pageA.click(tid('team-create-submit'));
    await pageA.waitForSelector(tid('team-page'));
    teamUrl = new URL(pageA.url()).pathname.replace(/\/(posts|participants|requests|conferences)$/, '');
    expect(/^\/teams\/[^/]+$/.test(teamUrl), `unexpected team URL ${pageA.url()}`);
    expect((await pageA.textContent(tid('team-title')))?.trim() === TEAM, 'team title not shown');
    expect((await pageA.textContent(tid('team-my-role')))?.trim() === 'admin', 'creator is not admin');
  });

  await step('A reads the join code', async () => {
    await pageA.click(tid('tab-participants'));
    await pageA.waitForSelector(tid('member'));
    joinCode = (await pageA.textContent(tid('join-code')))?.trim() ?? '';
    expect(joinCode && joinCode !== '—', 'no join code shown');
    expect((await pageA.textContent(tid('member-count')))?.includes('1'), 'member count is not 1');
    await shot(pageA, '03-participants-a');
  });

  let fcp = null;
  await step('first contentful paint of the teams list (Performance API)', async () => {
    await pageA.goto('/teams');
    await pageA.waitForSelector(`${tid('teams-list')} ${tid('team-card')}`);
    fcp = await pageA.evaluate(() => {
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        fcp: paint ? Math.round(paint.startTime) : null,
        listReady: Math.round(performance.now()),
        domContentLoaded: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
      };
    });
    log(`    teams list: first-contentful-paint ${fcp.fcp} ms, DOMContentLoaded ${fcp.domContentLoaded} ms, list shown by ${fcp.listReady} ms (budget FCP < ${FCP_BUDGET_MS} ms)`);
    expect(fcp.fcp !== null, 'no first-contentful-paint entry');
    if (STRICT_BUDGET) expect(fcp.fcp < FCP_BUDGET_MS, `FCP ${fcp.fcp} ms is over the ${FCP_BUDGET_MS} ms budget`);
    await shot(pageA, '04-teams-a');
  });

  await step('B asks to join with the code and sees it pending', async () => {
    await pageB.click(tid('join-team-link'));
    await pageB.fill(tid('team-join-code'), joinCode);
    await pageB.click(tid('team-join-submit'));
    await pageB.waitForURL(/\/teams$/);
    await pageB.waitForSelector(tid('pending-request'));
    await shot(pageB, '05-pending-b');
  });

  await step('A accepts B in Pending requests', async () => {
    await pageA.goto(`${teamUrl}/requests`);
    const item = pageA.locator(tid('request'), { hasText: userB.username });
    for (let i = 0; i < 20 && !(await item.count()); i++) {
      await pageA.waitForTimeout(500);
      await pageA.click(tid('requests-refresh'));
    }
    await item.waitFor();
    expect((await item.locator(tid('request-email')).textContent())?.trim() === userB.email, 'request shows the wrong email');
    await shot(pageA, '06-requests-a');
    await item.locator(tid('request-accept')).click();
    await item.waitFor({ state: 'detached' });
  });

  // ---------- posts and comments ----------
  const postText = `Hello team, B here (${stamp})`;
  await step('B sees the team and writes a post (and an XSS attempt)', async () => {
    await pageB.goto('/teams');
    const card = pageB.locator(tid('team-card'), { hasText: TEAM });
    await card.waitFor();
    expect((await card.locator(tid('team-role')).textContent())?.trim() === 'member', 'B is not a member');
    await expectGone(pageB, tid('pending-request'));
    await card.click();
    await pageB.waitForSelector(tid('posts-tab'));
    await pageB.fill(tid('post-create-text'), postText);
    await pageB.click(tid('post-create-submit'));
    await pageB.locator(tid('post'), { hasText: postText }).waitFor();
    await pageB.fill(tid('post-create-text'), XSS);
    await pageB.click(tid('post-create-submit'));
    await pageB.locator(`${tid('post-text')}`, { hasText: '<img src=x' }).first().waitFor();
    await assertInert(pageB, 'B posts');
  });

  await step('A comments on B’s post (and an XSS attempt)', async () => {
    await pageA.goto(`${teamUrl}/posts`);
    const post = pageA.locator(tid('post'), { hasText: postText });
    await post.waitFor();
    expect((await post.locator(tid('post-author')).textContent())?.trim() === userB.username, 'post author is wrong');
    await post.locator(tid('post-reply')).click();
    await post.locator(tid('comment-form')).waitFor();
    await post.locator(tid('comment-text')).fill('Welcome aboard!');
    await post.locator(tid('comment-submit')).click();
    await post.locator(tid('comment'), { hasText: 'Welcome aboard!' }).waitFor();
    await post.locator(tid('comment-text')).fill(XSS);
    await post.locator(tid('comment-submit')).click();
    await post.locator(tid('comment-text-body'), { hasText: '<img src=x' }).waitFor();
    const count = await post.locator(tid('post-comment-count')).textContent();
    expect(count?.trim().startsWith('2'), `comment count shows "${count}"`);
    const xssPost = pageA.locator(tid('post-text'), { hasText: '<script>' }).first();
    expect((await xssPost.textContent())?.trim() === XSS, 'XSS post text not shown verbatim');
    await assertInert(pageA, 'A posts/comments');
    await shot(pageA, '07-posts-comments-a');
  });

  await step('B sees A’s comment', async () => {
    await pageB.reload();
    const post = pageB.locator(tid('post'), { hasText: postText });
    await post.locator(tid('post-reply')).click();
    await post.locator(tid('comment'), { hasText: 'Welcome aboard!' }).waitFor();
    await assertInert(pageB, 'B comments');
  });

  // ---------- chat ----------
  const chatTitle = `E2E chat ${stamp}`;
  const first = `Hi ${userB.username}, are you there?`;
  const edited = `${first} (edited live)`;
  await step('A creates a chat with B', async () => {
    await pageA.click(tid('nav-chats'));
    await pageA.click(tid('chat-new'));
    await pageA.fill(tid('chat-create-title'), chatTitle);
    await pageA.fill(tid('chat-create-emails'), userB.email);
    await pageA.click(tid('chat-create-submit'));
    await pageA.waitForSelector(tid('chat-view'));
    await pageA.waitForSelector(tid('message-input'));
  });

  await step('B opens the chat', async () => {
    await pageB.click(tid('nav-chats'));
    const item = pageB.locator(tid('chat-item'), { hasText: chatTitle });
    await item.waitFor();
    await item.click();
    await pageB.waitForSelector(tid('chat-view'));
    await pageB.waitForSelector(`${tid('messages-empty')}, ${tid('message')}`);
  });

  await step('A’s message arrives live at B and shows read ticks', async () => {
    await pageB.bringToFront();
    await pageA.fill(tid('message-input'), first);
    await pageA.press(tid('message-input'), 'Enter');
    const mine = pageA.locator(tid('message'), { hasText: first });
    await mine.waitFor();
    await pageB.locator(tid('message'), { hasText: first }).waitFor();
    await mine.locator(`${tid('message-status')}[data-status="read"]`).waitFor({ timeout: 20_000 });
    await pageA.bringToFront();
  });

  await step('A edits the message; B sees the edit live', async () => {
    const mine = pageA.locator(tid('message'), { hasText: first }).last();
    await mine.hover();
    await mine.locator(tid('message-edit')).click();
    const value = await pageA.inputValue(tid('message-input'));
    expect(value === first, `edit did not put the text into the input ("${value}")`);
    await pageA.waitForSelector(tid('editing-bar'));
    await pageA.fill(tid('message-input'), edited);
    await pageA.press(tid('message-input'), 'Enter');
    const theirs = pageB.locator(tid('message'), { hasText: edited });
    await theirs.waitFor();
    await theirs.locator(tid('message-edited')).waitFor();
  });

  await step('B replies (typing indicator, XSS attempt) and A receives it live', async () => {
    await pageB.type(tid('message-input'), 'Yes! ', { delay: 20 });
    try {
      await pageA.waitForFunction(
        () => (document.querySelector('[data-testid="typing-indicator"]')?.textContent ?? '').includes('typing'),
        null,
        { timeout: 5000 },
      );
      log('    typing indicator shown');
    } catch {
      log('    (typing indicator not seen within 5 s: not fatal)');
    }
    await pageB.fill(tid('message-input'), 'Yes! Here.');
    await pageB.press(tid('message-input'), 'Enter');
    await pageB.fill(tid('message-input'), XSS);
    await pageB.press(tid('message-input'), 'Enter');
    await pageA.locator(tid('message'), { hasText: 'Yes! Here.' }).waitFor();
    const x = pageA.locator(tid('message-text'), { hasText: '<script>' }).first();
    await x.waitFor();
    expect((await x.textContent())?.trim() === XSS, 'XSS message not shown verbatim');
    await assertInert(pageA, 'A chat');
    await assertInert(pageB, 'B chat');
    const mineOnB = await pageB.locator(`${tid('message')}[data-mine="true"]`).count();
    const theirsOnB = await pageB.locator(`${tid('message')}[data-mine="false"]`).count();
    expect(mineOnB === 2 && theirsOnB === 1, `B sees ${mineOnB} own / ${theirsOnB} other messages, expected 2 / 1 (duplicates?)`);
    await shot(pageA, '08-chat-a');
    await shot(pageB, '09-chat-b');
  });

  // ---------- conference with a waiting room ----------
  const confTitle = `E2E call ${stamp}`;
  await step('A creates a conference with a waiting room and lands in it as host', async () => {
    await pageA.goto(`${teamUrl}/conferences`);
    await pageA.click(tid('conference-new'));
    await pageA.fill(tid('conference-title'), confTitle);
    await pageA.check(tid('conference-waiting-room'));
    await pageA.click(tid('conference-create-submit'));
    await pageA.waitForURL(/\/conferences\//);
    await pageA.waitForSelector(`${tid('conference-page')}[data-phase="joined"]`, { timeout: 30_000 });
    expect((await pageA.textContent(tid('conf-my-role')))?.trim() === 'host', 'creator is not host');
  });

  await step('B joins and waits in the lobby (camera preview, mic meter)', async () => {
    await pageB.goto(`${teamUrl}/conferences`);
    const item = pageB.locator(tid('conference'), { hasText: confTitle });
    await item.waitFor();
    await item.locator(tid('conference-join')).click();
    await pageB.waitForSelector(tid('hall-join'));
    await pageB.waitForFunction(() => {
      const v = document.querySelector('[data-testid="hall-preview-video"]');
      return v && v.videoWidth > 0;
    });
    await pageB.click(tid('hall-join'));
    await pageB.waitForSelector(tid('waiting-for-host'), { timeout: 30_000 });
    await shot(pageB, '10-waiting-b');
  });

  await step('A sees B in the lobby and admits; B enters', async () => {
    const entry = pageA.locator(tid('lobby-entry'), { hasText: userB.username });
    await entry.waitFor({ timeout: 30_000 });
    await shot(pageA, '11-lobby-a');
    await entry.locator(tid('lobby-admit')).click();
    await pageB.waitForSelector(`${tid('conference-page')}[data-phase="joined"]`, { timeout: 30_000 });
    await pageA.locator(tid('conf-participant'), { hasText: userB.username }).waitFor();
  });

  await step('both see the other’s video playing', async () => {
    const [a, b] = await Promise.all([waitRemoteVideo(pageA, 'camera'), waitRemoteVideo(pageB, 'camera')]);
    log(`    A sees B at ${a.width}x${a.height}, B sees A at ${b.width}x${b.height}`);
  });

  await step('inbound-rtp video bytes keep growing on both sides (getStats)', async () => {
    const a0 = await inboundVideoBytes(pageA);
    const b0 = await inboundVideoBytes(pageB);
    await pageA.waitForTimeout(2500);
    const a1 = await inboundVideoBytes(pageA);
    const b1 = await inboundVideoBytes(pageB);
    log(`    A inbound video bytes ${a0} → ${a1}; B ${b0} → ${b1}`);
    expect(a1 > a0, 'A receives no video bytes');
    expect(b1 > b0, 'B receives no video bytes');
    await shot(pageA, '12-conference-a');
    await shot(pageB, '13-conference-b');
  });

  await step('B shares the screen and A sees it', async () => {
    await pageB.click(tid('conf-toggle-screen'));
    await pageB.waitForSelector(`${tid('conf-toggle-screen')}[data-on="true"]`);
    const s = await waitRemoteVideo(pageA, 'screen');
    log(`    A sees B's screen at ${s.width}x${s.height}`);
    await shot(pageA, '14-screenshare-a');
  });

  await step('both leave', async () => {
    await pageB.click(tid('conf-leave'));
    await pageB.waitForSelector(`${tid('conf-ended')}[data-reason="left"]`);
    await pageA.locator(tid('conf-participant'), { hasText: userB.username }).waitFor({ state: 'detached', timeout: 15_000 });
    await pageA.click(tid('conf-leave'));
    await pageA.waitForSelector(tid('conf-ended'));
  });

  expect(pageErrors.length === 0, `uncaught errors in the pages:\n${pageErrors.join('\n')}`);
  return fcp;
}

async function expectGone(page, selector) {
  await page.waitForFunction((sel) => !document.querySelector(sel), selector, { timeout: 10_000 });
}

const deadline = setTimeout(() => {
  console.error(`e2e: overall deadline of ${OVERALL_MS} ms passed`);
  process.exit(1);
}, OVERALL_MS);

let exitCode = 0;
try {
  const fcp = await main();
  log(`\n${results.length} passed, 0 failed`);
  if (fcp) log(`first-contentful-paint (teams list): ${fcp.fcp} ms`);
} catch (e) {
  exitCode = 1;
  console.error(`\nFAILED at step "${e.step ?? '(setup)'}": ${e.message}`);
  if (pageA) await shot(pageA, 'FAILED-a');
  if (pageB) await shot(pageB, 'FAILED-b');
  for (const [label, page] of [['A', pageA], ['B', pageB]]) {
    if (signaling[label].length) {
      console.error(`\n--- conference signaling seen by ${label} (last 40 frames) ---`);
      for (const line of signaling[label].slice(-40)) console.error(`  ${line}`);
      if (page) console.error(`--- media state of ${label} ---\n${JSON.stringify(await mediaReport(page), null, 2)}`);
    }
  }
  const passed = results.filter((r) => r.ok).length;
  log(`${passed} passed, 1 failed`);
} finally {
  clearTimeout(deadline);
  await browser?.close().catch(() => undefined);
}
process.exit(exitCode);
