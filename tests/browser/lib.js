'use strict';
/*
 * lib.js: what the browser tests and the screenshot script share. It starts the real `kith`
 * binary ($KITH_BIN) on 127.0.0.1 with an ephemeral port, a temporary SQLite database, a random
 * bootstrap key and the test clock; serves a business's own pages (a signup form with kith.js)
 * from a second local HTTP server on another port, so that they are another origin; and
 * launches Debian's Chromium (/usr/bin/chromium) through playwright-core. Nothing is fetched
 * from anywhere else: no browser download, no remote page. Also the pages' checks every script
 * makes (watch, axeCheck), the dashboard's sign-in, poll, and local servers for kith to call.
 */
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const KITH_BIN = path.resolve(process.env.KITH_BIN || path.join(__dirname, '..', '..', 'build', 'kith'));
const CHROMIUM = process.env.KITH_CHROMIUM || '/usr/bin/chromium';
/* A person's browser, not a crawler: headless Chromium names itself HeadlessChrome, which the
 * redirect path rightly treats as a bot. */
const PERSON_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

async function startKith(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kith-browser-'));
  const secret = 'sk_test_' + crypto.randomBytes(16).toString('hex');
  const args = ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'kith.db'), '--test-clock'];
  const env = Object.assign({}, process.env, { KITH_SECRET_KEY: secret }, opts.env || {});
  delete env.KITH_PUBLIC_URL;
  const proc = spawn(KITH_BIN, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('kith did not start:\n' + log)), 20000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/kith: listening on 127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error('kith exited ' + code + ':\n' + log)); });
  });
  const base = 'http://127.0.0.1:' + port;
  const api = async (method, p, body, headers = {}) => {
    const h = Object.assign({ Authorization: 'Bearer ' + secret }, headers);
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(base + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    return { status: r.status, headers: r.headers, json, text };
  };
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((res) => proc.on('exit', res));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { base, port, api, stop, log: () => log, secret, db: path.join(dir, 'kith.db') };
}

/* The business's own site on another origin: a signup form that loads kith.js. */
function startShop(kithBase) {
  const page = (attrs, extra) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Shop signup</title><script src="${kithBase}/kith.js" ${attrs}></script></head><body>
<main><h1>Join the shop</h1><form id="signup" method="post" action="/done">
<label>Email <input name="email" type="email"></label>
<input type="hidden" name="kith_ref"><input type="hidden" name="kith_code">
<button type="submit">Join</button></form>${extra || ''}</main></body></html>`;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    let body;
    if (u.pathname === '/signup') body = page('data-cookie-days="14"');
    else if (u.pathname === '/consent') body = page('data-consent="required"');
    else if (u.pathname === '/embed') body = page('', '<section id="hub"></section>');
    else if (u.pathname === '/blank') body = '<!doctype html><title>blank</title><p>blank</p>';
    else { res.writeHead(404); res.end('no'); return; }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      /* "localhost" is another host than kith's 127.0.0.1: another origin and another site. */
      resolve({ base: 'http://localhost:' + port, port, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/* A program shaped like the contract's example, with the landing page on. */
async function seedProgram(k, overrides = {}) {
  const body = Object.assign({
    id: 'wellness-' + crypto.randomBytes(3).toString('hex'),
    name: 'Wellness Circle',
    destination_url: 'https://example.com/join',
    landing: 'page',
    qualification: { event: 'purchase', hold_days: 14 },
    rewards: [
      { to: 'referrer', kind: 'credit', amount: 2500, currency: 'USD', to_count: 3 },
      { to: 'referrer', kind: 'credit', amount: 5000, currency: 'USD', from_count: 4 },
      { to: 'referred', kind: 'free_month', description: 'Your first month on us' },
    ],
  }, overrides);
  const r = await k.api('POST', '/v1/programs', body);
  if (r.status !== 201) throw new Error('program: ' + r.status + ' ' + r.text);
  return r.json;
}

async function participant(k, program, first, extra = {}) {
  const r = await k.api('POST', '/v1/participants', Object.assign({
    program, external_id: 'u-' + crypto.randomBytes(6).toString('hex'), first_name: first,
    email: first.toLowerCase() + '.' + crypto.randomBytes(3).toString('hex') + '@example.com',
  }, extra));
  if (r.status !== 201) throw new Error('participant: ' + r.status + ' ' + r.text);
  return r.json;
}

async function hubToken(k, pid, days = 30) {
  const r = await k.api('POST', '/v1/participants/' + pid + '/hub_link', { expires_in_days: days });
  if (r.status !== 201) throw new Error('hub_link: ' + r.status + ' ' + r.text);
  return { url: r.json.url, token: r.json.url.split('/p/')[1] };
}

async function signup(k, program, ref, first) {
  const r = await k.api('POST', '/v1/signups', {
    program, external_id: 's-' + crypto.randomBytes(6).toString('hex'), first_name: first,
    email: first.toLowerCase() + '.' + crypto.randomBytes(3).toString('hex') + '@example.org', ref,
  });
  if (r.status !== 201) throw new Error('signup: ' + r.status + ' ' + r.text);
  return r.json;
}

async function purchase(k, program, externalId) {
  const r = await k.api('POST', '/v1/events', {
    program, type: 'purchase', external_id: externalId, amount: 12000, currency: 'USD',
  });
  if (r.status !== 201 && r.status !== 200) throw new Error('event: ' + r.status + ' ' + r.text);
  return r.json;
}

/* Jane's story: one friend rewarded, one on hold, one still to buy, and two neighbours on the
 * opt-in leaderboard. Returns {program, jane, token}. */
async function seedStory(k, overrides = {}) {
  const prog = await seedProgram(k, overrides);
  const jane = await participant(k, prog.id, 'Jane', { leaderboard_opt_in: true });
  const alex = await signup(k, prog.id, jane.code, 'Alex');
  await purchase(k, prog.id, alex.participant.external_id);
  await k.api('POST', '/v1/test/clock', { advance_seconds: 15 * 86400 });
  const priya = await signup(k, prog.id, jane.code, 'Priya');
  await purchase(k, prog.id, priya.participant.external_id);
  await signup(k, prog.id, jane.code, 'Sam');
  const maya = await participant(k, prog.id, 'Maya', { leaderboard_opt_in: true });
  for (const f of ['Noor', 'Ines', 'Kofi']) {
    const s = await signup(k, prog.id, maya.code, f);
    await purchase(k, prog.id, s.participant.external_id);
  }
  const tom = await participant(k, prog.id, 'Tom', { leaderboard_opt_in: true });
  const t1 = await signup(k, prog.id, tom.code, 'Lea');
  await purchase(k, prog.id, t1.participant.external_id);
  const { token, url } = await hubToken(k, jane.id);
  return { program: prog, jane, token, url };
}

/* Gifts and coupons (section 25): Jane's thank-you is a tote bag she claims in her hub (an
 * address, a size, a note); her friend Alex's welcome is a coupon whose promotion code kith makes
 * on Stripe (startStripe) and shows in Alex's hub. Waits until the code is there. Returns
 * {program, jane, alex, gift, coupon, janeHub, alexHub}. */
async function seedClaims(k, stripeKey) {
  const prog = await seedProgram(k, {
    qualification: undefined,
    rewards: [
      { to: 'referrer', kind: 'gift', description: 'A Wellness Circle tote bag' },
      { to: 'referred', kind: 'discount', amount: 1500, currency: 'USD' },
    ],
    fulfilment: { gift: 'claim', discount: 'stripe_coupon' },
    stripe_api_key: stripeKey,
    claim_form: { gift: [
      { name: 'address', type: 'address', label: 'Where should we send it?', required: true },
      { name: 'size', type: 'choice', label: 'Which size?', choices: ['Small', 'Medium', 'Large'],
        required: true },
      { name: 'note', type: 'text', label: 'Anything we should know?' },
    ] },
  });
  const jane = await participant(k, prog.id, 'Jane');
  const alex = await signup(k, prog.id, jane.code, 'Alex');
  const ev = await purchase(k, prog.id, alex.participant.external_id);
  const gift = ev.rewards.find((r) => r.to === 'referrer');
  const coupon = ev.rewards.find((r) => r.to === 'referred');
  if (!gift || !coupon) throw new Error('rewards: ' + JSON.stringify(ev));
  for (let i = 0; ; i++) {
    const r = await k.api('GET', '/v1/rewards/' + coupon.id);
    if (r.json.fulfilment.status === 'done') { coupon.fulfilment = r.json.fulfilment; break; }
    if (r.json.fulfilment.status === 'failed' || i > 200) throw new Error('coupon: ' + r.text);
    await new Promise((res) => setTimeout(res, 50));
  }
  return { program: prog, jane, alex: alex.participant, gift, coupon,
    janeHub: await hubToken(k, jane.id), alexHub: await hubToken(k, alex.participant.id) };
}

/* A small stand-in for the two Stripe calls a coupon reward makes (POST /v1/coupons, then POST
 * /v1/promotion_codes with the code kith chose), answering Stripe's shapes; kith is pointed at it
 * with KITH_STRIPE_API_BASE. tests/api/stripe_standin.py is the strict one; this one only lets
 * the pages show what Stripe gave. Every request is kept in `calls`. */
function startStripe(key) {
  const calls = [];
  return localServer((req, raw) => {
    const form = Object.fromEntries(new URLSearchParams(raw));
    calls.push({ method: req.method, path: req.url, form, auth: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer ' + key)
      return [401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }];
    if (req.method === 'POST' && req.url === '/v1/coupons')
      return [200, { id: 'coup_' + crypto.randomBytes(6).toString('hex'), object: 'coupon',
        amount_off: Number(form.amount_off) || null, currency: form.currency || null,
        duration: form.duration, max_redemptions: Number(form.max_redemptions) || null,
        metadata: { kith_reward: form['metadata[kith_reward]'] }, valid: true }];
    if (req.method === 'POST' && req.url === '/v1/promotion_codes')
      return [200, { id: 'promo_' + crypto.randomBytes(6).toString('hex'), object: 'promotion_code',
        active: true, code: form.code, promotion: { type: 'coupon', coupon: form['promotion[coupon]'] },
        metadata: { kith_reward: form['metadata[kith_reward]'] } }];
    return [404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } }];
  }).then((s) => ({ base: s.url, calls, close: s.close }));
}

/* A local HTTP server for kith to call (a webhook receiver, a Stripe stand-in): records each
 * request in `got` and answers with answer(req, body), which returns [status, json]. */
function localServer(answer) {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body });
      const [status, json] = answer(req, body);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    got, url: 'http://127.0.0.1:' + server.address().port, close: () => new Promise((r) => server.close(r)) })));
}

/* Until fn() answers something true (returned), every 200 ms; past ms, an error naming what. */
async function poll(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/* What must not happen on a page, collected for the test to assert empty: a Content-Security-
 * Policy violation (the securitypolicyviolation event, in every frame, and Chromium's console
 * error for it: "Refused to ..." in older builds, "... violates the following Content Security
 * Policy directive ..." in newer), an uncaught error and, given an origin, a request to any
 * other (a blob: address the page made itself aside). Await it before the page's first goto:
 * the listener is an init script, which the page's CSP does not govern. */
async function watch(page, origin) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to|securitypolicyviolation/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  if (origin) {
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('blob:')) problems.push('request to ' + r.url());
    });
  }
  await page.addInitScript(() => {
    window.addEventListener('securitypolicyviolation', (e) => {
      console.error('securitypolicyviolation: ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || '?') +
        ' in ' + (e.sourceFile || e.documentURI) + ':' + e.lineNumber + (e.sample ? ' (' + e.sample + ')' : ''));
    }, true);
  });
  return problems;
}

/* axe-core on the page as it is: fails on any serious or critical violation. axe is put in with
 * page.evaluate, which runs through the DevTools protocol as the console would and is not
 * governed by the page's CSP; a <script> tag (addScriptTag) would be an inline script the policy
 * refuses, unless the context bypassed the CSP, and then the page would not be tested under it.
 * axe needs no eval for this, and if it ever did, watch() would see the page's CSP refuse it. */
let axeSource = null;
async function axeCheck(page, what) {
  if (axeSource === null) axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  /* A transition under way (the toast fading in over 0.2 s) is measured half drawn: axe would
   * find the toast's white text on a half-transparent background. Wait for it to end. */
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity).map((a) => a.finished.catch(() => null))));
  const result = await page.evaluate(async () => {
    /* eslint-disable no-undef */
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
      where: v.nodes.map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], what + ': axe found serious or critical violations: ' + JSON.stringify(bad));
}

/* Signs who ({email, password}, from adminCreate) in to the dashboard through its form; returns
 * once the screens' links are shown. */
async function signIn(page, k, who) {
  await page.goto(k.base + '/admin');
  await page.waitForSelector('h1:text("Sign in")');
  await page.fill('input[type=email]', who.email);
  await page.fill('input[type=password]', who.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#nav:not([hidden])');
}

/* A new browser context (a person's browser under the dashboard's real CSP, never bypassed; opts
 * for the context) with who signed in, its page watched for CSP violations, errors and requests
 * to another host than kith. */
async function dashboardPage(browser, k, who, opts = {}) {
  const ctx = await browser.newContext(Object.assign({ userAgent: PERSON_UA }, opts));
  const page = await ctx.newPage();
  const problems = await watch(page, k.base);
  await signIn(page, k, who);
  return { ctx, page, problems };
}

/* A dashboard account (kith admin create), password from KITH_ADMIN_PASSWORD. */
function adminCreate(k, email, role = 'owner', password = 'correct horse battery') {
  const { execFileSync } = require('child_process');
  const env = Object.assign({}, process.env, { KITH_ADMIN_PASSWORD: password });
  delete env.KITH_SECRET_KEY;
  execFileSync(KITH_BIN, ['admin', 'create', '--email', email, '--role', role, '--db', k.db],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return { email, password };
}

module.exports = { adminCreate, startStripe, seedClaims, signup, purchase, seedStory, startKith, startShop, launch, seedProgram, participant, hubToken,
  localServer, poll, watch, axeCheck, signIn, dashboardPage, PERSON_UA, KITH_BIN };
