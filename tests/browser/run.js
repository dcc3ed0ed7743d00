'use strict';
/*
 * run.js: kith's people's pages in real headless Chromium (CONTRACT 4b and 20), started by
 * ctest as `browser_pages`. One kith server, one business site on another origin (lib.js), one
 * browser. Covers the friend landing page and its button (with and without JavaScript, bots),
 * the hub's copy, share and preference controls, download and erasure through the hub, kith.js
 * on the other origin (first-party cookies, form filling, the consent mode, the embedded hub),
 * CORS (preflights and answers, listed and unlisted origins), and axe-core on the landing page
 * and the hub (no serious or critical violations).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startKith, startShop, launch, seedProgram, participant, hubToken, seedStory, PERSON_UA } =
  require('./lib');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
let k, shop, other, browser;

test.before(async () => {
  k = await startKith();
  shop = await startShop(k.base);
  other = await startShop(k.base); /* an origin no program lists */
  browser = await launch();
});
test.after(async () => {
  if (browser) await browser.close();
  if (shop) await shop.close();
  if (other) await other.close();
  if (k) await k.stop();
});

async function context(opts = {}) {
  return browser.newContext(Object.assign({ userAgent: PERSON_UA }, opts));
}

/* Fails the test on any Content-Security-Policy report or page error. */
function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}

async function axeCheck(page, what) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => {
    /* eslint-disable no-undef */
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], what + ': axe found serious or critical violations: ' + JSON.stringify(bad));
}

test('landing page: the friend sees who invited them, the gift, the code and one button', async () => {
  const prog = await seedProgram(k, { destination_url: shop.base + '/signup?plan=yearly' });
  const jane = await participant(k, prog.id, 'Jane');
  const ctx = await context();
  const page = await ctx.newPage();
  const problems = watch(page);
  const resp = await page.goto(k.base + '/r/' + jane.code + '?ch=whatsapp');
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'], /default-src 'none'/);
  assert.doesNotMatch(resp.headers()['content-security-policy'], /unsafe-inline/);
  assert.equal(await page.textContent('h1'), 'Jane invited you');
  assert.match(await page.textContent('main'), /Wellness Circle/);
  assert.equal(await page.textContent('.gift-what'), 'Your first month on us');
  assert.match(await page.textContent('.gift-how'), /after your first purchase/);
  assert.equal(await page.textContent('.code-block .code'), jane.code);
  assert.equal(await page.getAttribute('meta[property="og:title"]', 'content'),
    'Jane invited you to Wellness Circle');
  assert.match(await page.getAttribute('meta[property="og:description"]', 'content'), /Your first month on us/);
  assert.equal(await page.getAttribute('meta[property="og:url"]', 'content'), k.base + '/r/' + jane.code);
  const cookies = await ctx.cookies(k.base);
  const ref = cookies.find((c) => c.name === 'kith_ref');
  assert.ok(ref && /^clk_/.test(ref.value), 'the kith_ref cookie is set: ' + JSON.stringify(cookies));
  assert.equal(ref.httpOnly, true);
  const href = await page.getAttribute('a.btn.primary', 'href');
  const u = new URL(href);
  assert.equal(u.origin + u.pathname, shop.base + '/signup');
  assert.equal(u.searchParams.get('plan'), 'yearly');
  assert.equal(u.searchParams.get('ref'), jane.code);
  assert.equal(u.searchParams.get('kith_click'), ref.value);
  /* The button leads to the business's own page, where kith.js keeps both first-party. */
  await Promise.all([page.waitForURL(shop.base + '/signup**'), page.click('a.btn.primary')]);
  await page.waitForFunction(() => document.querySelector('input[name=kith_ref]').value !== '');
  assert.equal(await page.inputValue('input[name=kith_ref]'), ref.value);
  assert.equal(await page.inputValue('input[name=kith_code]'), jane.code);
  const shopCookies = await ctx.cookies(shop.base);
  assert.equal(shopCookies.find((c) => c.name === 'kith_ref').value, ref.value);
  assert.equal(shopCookies.find((c) => c.name === 'kith_code').value, jane.code);
  const p = await k.api('GET', '/v1/participants/' + jane.id);
  assert.equal(p.json.stats.clicks, 1, 'the visit counted once');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('landing page works without JavaScript, and a preview bot gets it uncounted', async () => {
  const prog = await seedProgram(k);
  const jane = await participant(k, prog.id, 'Jane');
  const ctx = await context({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(k.base + '/r/' + jane.code);
  assert.equal(await page.textContent('h1'), 'Jane invited you');
  assert.match(await page.getAttribute('a.btn.primary', 'href'), /ref=/);
  await ctx.close();
  const bot = await context({ userAgent: 'WhatsApp/2.23.20.0 A' });
  const bp = await bot.newPage();
  const resp = await bp.goto(k.base + '/r/' + jane.code);
  assert.equal(resp.status(), 200);
  assert.equal(await bp.getAttribute('meta[property="og:title"]', 'content'), 'Jane invited you to Wellness Circle');
  assert.deepEqual((await bot.cookies(k.base)).filter((c) => c.name === 'kith_ref'), []);
  assert.doesNotMatch(await bp.getAttribute('a.btn.primary', 'href'), /kith_click/);
  await bot.close();
  const p = await k.api('GET', '/v1/participants/' + jane.id);
  assert.equal(p.json.stats.clicks, 1, 'only the person counted, not the bot');
});

test('accessibility: axe finds no serious or critical violations on the landing page and hub', async () => {
  const story = await seedStory(k);
  for (const [w, h] of [[390, 844], [1280, 800]]) {
    const ctx = await context({ bypassCSP: true, viewport: { width: w, height: h } });
    const page = await ctx.newPage();
    await page.goto(k.base + '/r/' + story.jane.code);
    await axeCheck(page, 'landing ' + w);
    await page.goto(story.url);
    await axeCheck(page, 'hub ' + w);
    await ctx.close();
  }
});

test('hub: copy buttons, share links and the native share sheet', async () => {
  const story = await seedStory(k);
  const ctx = await context({ permissions: ['clipboard-read', 'clipboard-write'] });
  await ctx.addInitScript(() => {
    window.__shared = [];
    navigator.share = (data) => { window.__shared.push(data); return Promise.resolve(); };
  });
  const page = await ctx.newPage();
  const problems = watch(page);
  const resp = await page.goto(story.url);
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()['referrer-policy'], 'no-referrer');
  assert.doesNotMatch(resp.headers()['content-security-policy'], /unsafe-inline/);
  assert.match(resp.headers()['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(await page.inputValue('#code'), story.jane.code);
  await page.click('button[data-copy=code]');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), story.jane.code);
  await page.waitForSelector('#toast.show');
  assert.equal(await page.textContent('#toast'), 'Code copied');
  await page.click('button[data-copy=link]');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), k.base + '/r/' + story.jane.code);
  await page.click('button[data-copy-text]');
  assert.match(await page.evaluate(() => navigator.clipboard.readText()), /\?ch=social$/);
  const mail = await page.getAttribute('a:has-text("Email")', 'href');
  assert.match(mail, /^mailto:\?subject=/);
  assert.match(decodeURIComponent(mail), /\/r\/[A-Z]+-\w+\?ch=email/);
  const sms = await page.getAttribute('a:has-text("Text message")', 'href');
  assert.match(sms, /^sms:\?&body=/);
  assert.match(decodeURIComponent(sms), /\?ch=sms/);
  const wa = await page.getAttribute('a:has-text("WhatsApp")', 'href');
  assert.match(wa, /^https:\/\/wa\.me\/\?text=/);
  assert.match(decodeURIComponent(wa), /\?ch=whatsapp/);
  await page.click('button[data-native-share]');
  const shared = await page.evaluate(() => window.__shared);
  assert.equal(shared.length, 1);
  assert.match(shared[0].text, /\?ch=social/);
  /* The QR code is inline SVG drawn by kith: nothing fetched. */
  assert.equal(await page.locator('.qr svg path').count(), 1);
  assert.match(await page.textContent('main'), /reward on hold until/);
  assert.match(await page.textContent('main'), /waiting for a first purchase/);
  assert.doesNotMatch(await page.content(), /@example\.org/, 'no friend e-mail on the page');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('hub: the essentials render without JavaScript', async () => {
  const story = await seedStory(k);
  const ctx = await context({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(story.url);
  assert.equal(await page.inputValue('#code'), story.jane.code);
  assert.match(await page.getAttribute('a:has-text("WhatsApp")', 'href'), /wa\.me/);
  assert.equal(await page.locator('.qr svg').count(), 1);
  assert.equal(await page.isVisible('#erase-start'), false, 'controls that need JS stay hidden');
  await ctx.close();
});

test('hub: preferences are saved through /v1/hub/me', async () => {
  const story = await seedStory(k);
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(story.url);
  assert.equal(await page.isChecked('#pref-lb'), true);
  await page.uncheck('#pref-lb');
  await page.click('#prefs button[type=submit]');
  await page.waitForFunction(() => /Saved/.test(document.querySelector('#prefs-status').textContent));
  let p = await k.api('GET', '/v1/participants/' + story.jane.id);
  assert.equal(p.json.leaderboard_opt_in, false);
  /* Keyboard only: focus the checkbox, space to tick it, enter on the button. */
  await page.focus('#pref-lb');
  await page.keyboard.press('Space');
  await page.focus('#prefs button[type=submit]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Saved/.test(document.querySelector('#prefs-status').textContent));
  p = await k.api('GET', '/v1/participants/' + story.jane.id);
  assert.equal(p.json.leaderboard_opt_in, true);
  if (p.json.preferences) { /* section 17, when its branch is in */
    await page.check('#asks-fewer');
    await page.click('#prefs button[type=submit]');
    await page.waitForTimeout(300);
    p = await k.api('GET', '/v1/participants/' + story.jane.id);
    assert.equal(p.json.preferences.asks, 'fewer');
  }
  await ctx.close();
});

test('hub: download my data, then erase me with a confirmation step', async () => {
  const story = await seedStory(k);
  const ctx = await context({ acceptDownloads: true });
  const page = await ctx.newPage();
  await page.goto(story.url);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.equal(download.suggestedFilename(), 'my-data.json');
  const data = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(data.participant.id, story.jane.id);
  assert.ok(Array.isArray(data.hub_links) && data.hub_links.length >= 1);
  /* The confirmation step: opening it moves focus there; "keep" closes it again. */
  assert.equal(await page.isVisible('#erase-confirm'), false);
  await page.click('#erase-start');
  assert.equal(await page.isVisible('#erase-confirm'), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'erase-h');
  assert.equal(await page.getAttribute('#erase-start', 'aria-expanded'), 'true');
  await page.click('#erase-no');
  assert.equal(await page.isVisible('#erase-confirm'), false);
  let p = await k.api('GET', '/v1/participants/' + story.jane.id);
  assert.notEqual(p.json.erased, true, 'nothing erased before the confirmation');
  await page.click('#erase-start');
  await page.click('#erase-yes');
  await page.waitForSelector('text=Your data has been erased');
  p = await k.api('GET', '/v1/participants/' + story.jane.id);
  assert.equal(p.json.erased, true);
  assert.equal(p.json.email, null);
  const again = await page.goto(story.url);
  assert.equal(again.status(), 404, 'the hub link no longer works');
  await ctx.close();
});

test('kith.js on another origin: first-party cookies for data-cookie-days, forms filled', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(shop.base + '/signup?ref=JANE-2847&kith_click=clk_abc123');
  await page.waitForFunction(() => window.kith && document.querySelector('input[name=kith_code]').value);
  assert.equal(await page.inputValue('input[name=kith_code]'), 'JANE-2847');
  assert.equal(await page.inputValue('input[name=kith_ref]'), 'clk_abc123');
  assert.deepEqual(await page.evaluate(() => window.kith.attribution()),
    { ref: 'JANE-2847', click_id: 'clk_abc123' });
  const cookies = await ctx.cookies(shop.base);
  const kref = cookies.find((c) => c.name === 'kith_ref'), kcode = cookies.find((c) => c.name === 'kith_code');
  assert.equal(kref.value, 'clk_abc123');
  assert.equal(kcode.value, 'JANE-2847');
  assert.equal(kref.domain, 'localhost', 'first-party: on the page\'s own site');
  const days = (kref.expires - Date.now() / 1000) / 86400;
  assert.ok(days > 13.9 && days <= 14.01, 'data-cookie-days="14": ' + days);
  /* A later visit without the parameters still knows them. */
  await page.goto(shop.base + '/signup');
  await page.waitForFunction(() => document.querySelector('input[name=kith_ref]').value);
  assert.equal(await page.inputValue('input[name=kith_ref]'), 'clk_abc123');
  /* Junk in the address is not kept. */
  await page.goto(shop.base + '/signup?ref=%3Cscript%3E');
  assert.equal(await page.evaluate(() => window.kith.attribution().ref), 'JANE-2847');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('kith.js consent mode writes nothing until kith.consent(true)', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(shop.base + '/consent?ref=SAM-1111&kith_click=clk_consent1');
  await page.waitForFunction(() => window.kith);
  await page.waitForTimeout(100);
  assert.deepEqual((await ctx.cookies(shop.base)).filter((c) => c.name.startsWith('kith_')), []);
  assert.equal(await page.inputValue('input[name=kith_ref]'), '');
  await page.evaluate(() => window.kith.consent(true));
  const names = (await ctx.cookies(shop.base)).map((c) => c.name).sort();
  assert.deepEqual(names.filter((n) => n.startsWith('kith_')), ['kith_code', 'kith_ref']);
  assert.equal(await page.inputValue('input[name=kith_ref]'), 'clk_consent1');
  await page.evaluate(() => window.kith.consent(false));
  assert.deepEqual((await ctx.cookies(shop.base)).filter((c) => c.name.startsWith('kith_')), []);
  await ctx.close();
});

test('kith.share mounts the hub in a self-sizing iframe on a listed origin', async () => {
  const story = await seedStory(k, { allowed_origins: [shop.base] });
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(shop.base + '/embed');
  await page.waitForFunction(() => window.kith);
  await page.evaluate((t) => { window.kith.share('#hub', { token: t, height: 200 }); }, story.token);
  await page.waitForFunction(() => parseInt(document.querySelector('#hub iframe').style.height, 10) > 400);
  const frame = page.frameLocator('#hub iframe');
  assert.equal(await frame.locator('#code').inputValue(), story.jane.code);
  assert.equal(await frame.locator('header.top').count(), 0, 'no page chrome when embedded');
  await ctx.close();
});

test('CORS: preflights and answers for listed origins only', async () => {
  const story = await seedStory(k, { allowed_origins: [shop.base] });
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(shop.base + '/blank');
  const fromShop = await page.evaluate(async ([base, token]) => {
    const r = await fetch(base + '/v1/hub/me', { headers: { Authorization: 'Hub ' + token } });
    const j = await r.json();
    const l = await fetch(base + '/v1/public/hub_login', { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'x@example.com' }) });
    return { status: r.status, code: j.participant.code, login: l.status, sent: (await l.json()).sent };
  }, [k.base, story.token]);
  assert.deepEqual(fromShop, { status: 200, code: story.jane.code, login: 202, sent: true });
  await page.goto(other.base + '/blank');
  const fromOther = await page.evaluate(async ([base, token]) => {
    try {
      await fetch(base + '/v1/hub/me', { headers: { Authorization: 'Hub ' + token } });
      return 'read';
    } catch (e) { return 'blocked'; }
  }, [k.base, story.token]);
  assert.equal(fromOther, 'blocked');
  /* The preflight itself, as the browser sends it. */
  const pre = await fetch(k.base + '/v1/hub/me', { method: 'OPTIONS', headers: {
    Origin: shop.base, 'Access-Control-Request-Method': 'PATCH',
    'Access-Control-Request-Headers': 'authorization,content-type' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), shop.base);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, PATCH');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'Authorization, Content-Type');
  const no = await fetch(k.base + '/v1/hub/me', { method: 'OPTIONS', headers: { Origin: other.base } });
  assert.equal(no.status, 204);
  assert.equal(no.headers.get('access-control-allow-origin'), null);
  await ctx.close();
});

test('kith.js is small, cached with an ETag, and has no dependencies', async () => {
  const r = await fetch(k.base + '/kith.js');
  const body = await r.text();
  assert.equal(r.status, 200);
  assert.ok(Buffer.byteLength(body) <= 8192, 'kith.js is ' + Buffer.byteLength(body) + ' bytes');
  assert.match(r.headers.get('cache-control'), /max-age=\d+/);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]+"$/);
  const again = await fetch(k.base + '/kith.js', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.doesNotMatch(body, /\bimport\b|\brequire\(/);
  const src = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'web', 'kith.js'), 'utf8');
  assert.equal(body, src, 'served as written, embedded at build time');
});
