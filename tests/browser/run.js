'use strict';
/*
 * run.js: kith's people's pages in real headless Chromium (CONTRACT 4b and 20), started by
 * ctest as `browser_pages`. One kith server, one business site on another origin (lib.js), one
 * browser. Covers the friend landing page and its button (with and without JavaScript, bots),
 * the hub's copy, share and preference controls, download and erasure through the hub, kith.js
 * on the other origin (first-party cookies, form filling, the consent mode, the embedded hub),
 * CORS (preflights and answers, listed and unlisted origins), rewards in the hub (a gift claimed
 * with its address and size, the API's errors by their fields; a coupon's promotion code from a
 * Stripe stand-in), and axe-core on the landing page and the hub (no serious or critical
 * violations), those pages under kith's real CSP with no violation of it; the landing page, the
 * hub and the dashboard's sign-in with no failed request and no console error (the icon named
 * and served, /favicon.ico too).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startKith, startShop, startStripe, launch, seedProgram, participant, hubToken, seedStory,
  seedClaims, signup, purchase, watch, axeCheck, poll, PERSON_UA } = require('./lib');

const STRIPE_KEY = 'sk_test_browser_standin_4242';
let k, shop, other, browser, stripe;

test.before(async () => {
  stripe = await startStripe(STRIPE_KEY);
  k = await startKith({ env: { KITH_STRIPE_API_BASE: stripe.base } });
  shop = await startShop(k.base);
  other = await startShop(k.base); /* an origin no program lists */
  browser = await launch();
});
test.after(async () => {
  if (browser) await browser.close();
  if (shop) await shop.close();
  if (other) await other.close();
  if (k) await k.stop();
  if (stripe) await stripe.close();
});

async function context(opts = {}) {
  return browser.newContext(Object.assign({ userAgent: PERSON_UA }, opts));
}

test('landing page: the friend sees who invited them, the gift, the code and one button', async () => {
  const prog = await seedProgram(k, { destination_url: shop.base + '/signup?plan=yearly' });
  const jane = await participant(k, prog.id, 'Jane');
  const ctx = await context();
  const page = await ctx.newPage();
  const problems = await watch(page);
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
  const claims = await seedClaims(k, STRIPE_KEY);
  for (const [w, h] of [[390, 844], [1280, 800]]) {
    const ctx = await context({ viewport: { width: w, height: h } });
    const page = await ctx.newPage();
    const problems = await watch(page, k.base);
    await page.goto(k.base + '/r/' + story.jane.code);
    await axeCheck(page, 'landing ' + w);
    await page.goto(story.url);
    await axeCheck(page, 'hub ' + w);
    /* Rewards: a coupon's code; a claim step, open and then showing the API's error. */
    await page.goto(claims.alexHub.url);
    await axeCheck(page, 'hub with a coupon code ' + w);
    await page.goto(claims.janeHub.url);
    await axeCheck(page, 'hub with a claim step ' + w);
    await page.click('form.claim-form button[type=submit]');
    await page.waitForSelector('.field-error:not([hidden])');
    await axeCheck(page, 'hub with a claim error ' + w);
    assert.deepEqual(problems, [], 'under the real CSP at ' + w + ' px');
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
  const problems = await watch(page);
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
  const problems = await watch(page);
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

test('hub rewards: a gift claimed with the API\'s errors by their fields, then delivered', async () => {
  const c = await seedClaims(k, STRIPE_KEY);
  const ctx = await context({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const problems = await watch(page);
  await page.goto(c.janeHub.url);
  const li = page.locator('li.reward');
  assert.equal(await li.count(), 1);
  assert.match(await li.locator('.who').textContent(), /A Wellness Circle tote bag thanks to Alex/);
  assert.equal(await li.locator('.fulfil').textContent(), 'Waiting for your details, so we can send it.');
  const form = li.locator('form.claim-form');
  assert.equal(await form.isVisible(), true, 'hub.js shows the claim step');
  assert.equal(await form.getAttribute('data-reward'), c.gift.id);
  assert.equal(await page.textContent('#claim-0-h'), 'Let us send you your gift');
  /* Exactly what the program asks: an address, a size out of three, an optional note. */
  assert.equal(await form.locator('fieldset.address legend').textContent(), 'Where should we send it?');
  assert.deepEqual(await form.locator('input[type=radio]').evaluateAll((l) => l.map((i) => i.value)),
    ['Small', 'Medium', 'Large']);
  assert.equal(await page.getAttribute('#claim-0-address-line1', 'autocomplete'), 'address-line1');
  assert.equal(await page.textContent('label[for=claim-0-note]'), 'Anything we should know? (optional)');
  /* Nothing given: the address is required; the error sits by it, linked, and takes focus. */
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#claim-0-address-err:not([hidden])');
  assert.equal(await page.textContent('#claim-0-address-err'), 'Please fill in the address.');
  assert.equal(await page.getAttribute('#claim-0-address-line1', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#claim-0-address-line1', 'aria-describedby'), /\bclaim-0-address-err\b/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'claim-0-address-line1');
  assert.match(await page.textContent('#claim-0-status'), /Not sent yet/);
  /* A country that is no ISO code: the API's error by the country field, with its hint. */
  await page.fill('#claim-0-address-name', 'Jane Doe');
  await page.fill('#claim-0-address-line1', '2 Mill Road');
  await page.fill('#claim-0-address-city', 'Cambridge');
  await page.fill('#claim-0-address-country', 'G');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#claim-0-address-country-err:not([hidden])');
  assert.equal(await page.isHidden('#claim-0-address-err'), true, 'the earlier error is gone');
  assert.equal(await page.getAttribute('#claim-0-address-line1', 'aria-invalid'), null);
  assert.equal(await page.getAttribute('#claim-0-address-country', 'aria-describedby'),
    'claim-0-address-country-hint claim-0-address-country-err');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'claim-0-address-country');
  assert.match(await page.textContent('#claim-0-address-country-err'), /two-letter country code/);
  /* Lower case is fine (sent as GB); the size is still missing. */
  await page.fill('#claim-0-address-country', 'gb');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#claim-0-size-err:not([hidden])');
  assert.equal(await page.textContent('#claim-0-size-err'), 'Please choose one.');
  assert.equal(await page.getAttribute('#claim-0-size-1', 'aria-describedby'), 'claim-0-size-err');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'claim-0-size-0');
  let api = await k.api('GET', '/v1/rewards/' + c.gift.id + '/claim');
  assert.equal(api.json.status, 'open', 'nothing stored while the answers are refused');
  /* Keyboard: arrow to Medium, then a note, then send. */
  await page.keyboard.press('ArrowDown');
  await page.fill('#claim-0-note', 'Please leave it with the neighbours');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#claim-0-done:not([hidden])');
  assert.equal(await form.isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'claim-0-done-h');
  assert.equal(await li.locator('.fulfil').textContent(), 'Details received: we are getting it ready for you.');
  assert.match(await page.textContent('#claim-0-answers'), /Jane Doe, 2 Mill Road, Cambridge, GB/);
  assert.match(await page.textContent('#claim-0-answers'), /Which size\?Medium/);
  api = await k.api('GET', '/v1/rewards/' + c.gift.id + '/claim');
  assert.equal(api.json.status, 'claimed');
  assert.deepEqual(api.json.answers, {
    address: { name: 'Jane Doe', line1: '2 Mill Road', line2: null, city: 'Cambridge',
      postal_code: null, state: null, country: 'GB' },
    size: 'Medium', note: 'Please leave it with the neighbours' });
  /* Reloaded: what she sent, and a way to change it (the form filled in with it). */
  await page.reload();
  assert.equal(await page.isVisible('#claim-0-done'), true);
  assert.equal(await form.isHidden(), true);
  await page.click('[data-claim-edit="0"]');
  assert.equal(await form.isVisible(), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'claim-0-h');
  assert.equal(await page.inputValue('#claim-0-address-city'), 'Cambridge');
  assert.equal(await page.isChecked('#claim-0-size-1'), true);
  await page.check('#claim-0-size-2');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('#claim-0-done:not([hidden])');
  api = await k.api('GET', '/v1/rewards/' + c.gift.id + '/claim');
  assert.equal(api.json.answers.size, 'Large');
  /* The owner marks it delivered: the hub says so, and the form is gone. */
  assert.equal((await k.api('POST', '/v1/rewards/' + c.gift.id + '/fulfilment/delivered', {})).status, 200);
  await page.reload();
  assert.equal(await li.locator('.fulfil').textContent(), 'Delivered: we hope you enjoy it.');
  assert.equal(await page.textContent('#claim-0-done-h'), 'Delivered');
  assert.equal(await page.locator('form.claim-form').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('hub rewards: the friend sees their coupon\'s promotion code, with a copy button', async () => {
  const c = await seedClaims(k, STRIPE_KEY);
  const code = c.coupon.fulfilment.code;
  const prefix = c.alex.code.replace(/[^A-Z0-9]/g, '').slice(0, 6);
  assert.match(code, new RegExp('^' + prefix + '[2-9A-HJ-NP-Z]{8}$'), 'the code Stripe holds');
  const promo = stripe.calls.find((q) => q.path === '/v1/promotion_codes' &&
    q.form['metadata[kith_reward]'] === c.coupon.id);
  assert.equal(promo.form.code, code, 'the code shown is the one Stripe was given');
  const ctx = await context({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await ctx.newPage();
  const problems = await watch(page);
  await page.goto(c.alexHub.url);
  const li = page.locator('li.reward');
  assert.match(await li.locator('.who').textContent(), /A 15\.00 USD discount thanks to Jane/);
  assert.equal(await li.locator('.fulfil').textContent(), 'Your code is ready: use it at checkout.');
  assert.equal(await page.textContent('label[for=coupon-0]'), 'Your code to use at checkout');
  assert.equal(await page.inputValue('#coupon-0'), code);
  await page.click('button[data-copy=coupon-0]');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), code);
  await page.waitForSelector('#toast.show');
  assert.equal(await page.textContent('#toast'), 'Code copied');
  assert.equal(await page.locator('form.claim-form').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
  /* Without JavaScript the code is still there; the claim step says it needs JavaScript. */
  const plain = await context({ javaScriptEnabled: false });
  const p2 = await plain.newPage();
  await p2.goto(c.alexHub.url);
  assert.equal(await p2.inputValue('#coupon-0'), code);
  await p2.goto(c.janeHub.url);
  assert.equal(await p2.isVisible('form.claim-form'), false, 'no form that could put an address in a URL');
  assert.match(await p2.textContent('li.reward'), /Sending your details needs JavaScript/);
  await plain.close();
});

test('hub rewards: an experience with the default claim form (one optional note)', async () => {
  const prog = await seedProgram(k, {
    qualification: undefined,
    rewards: [{ to: 'referrer', kind: 'experience', description: 'A morning at the studio' }],
    fulfilment: { experience: 'claim' },
  });
  const jane = await participant(k, prog.id, 'Jane');
  const s = await signup(k, prog.id, jane.code, 'Noor');
  const ev = await purchase(k, prog.id, s.participant.external_id);
  const rid = ev.rewards.find((r) => r.to === 'referrer').id;
  const { url } = await hubToken(k, jane.id);
  const ctx = await context();
  const page = await ctx.newPage();
  const problems = await watch(page);
  await page.goto(url);
  assert.equal(await page.textContent('#claim-0-h'), 'Let us arrange your experience');
  assert.equal(await page.locator('form.claim-form textarea').count(), 1);
  assert.equal(await page.textContent('label[for=claim-0-note]'), 'Anything we should know? (optional)');
  await page.click('form.claim-form button[type=submit]');
  await page.waitForSelector('#claim-0-done:not([hidden])');
  assert.match(await page.textContent('#claim-0-answers'), /Nothing more is needed from you/);
  const api = await k.api('GET', '/v1/rewards/' + rid + '/claim');
  assert.deepEqual([api.json.status, api.json.answers], ['claimed', { note: null }]);
  await page.reload();
  assert.match(await page.textContent('#claim-0-answers'), /Nothing more is needed from you/);
  assert.deepEqual(problems, []);
  await ctx.close();
});

/* Everything a page fetches answers, the icon too: Chromium fetches it in the browser, outside
 * the page's network events, so only its console error would show a 404. A fresh browser, since
 * Chromium asks an origin for its icon once per browser, and this one's pages already did. */
test('no failed request and no console error on the landing page, the hub and the dashboard\'s sign-in; the icon answers', async () => {
  const story = await seedStory(k);
  const iconsServed = async () => {
    const m = /route="assets\.favicon",status="200"\} (\d+)/.exec((await k.api('GET', '/metrics')).text);
    return m ? Number(m[1]) : 0;
  };
  const before = await iconsServed(); /* other tests' browsers have fetched it already */
  const fresh = await launch();
  try {
    for (const [what, url, ready] of [['landing page', k.base + '/r/' + story.jane.code, 'a.btn.primary'],
      ['hub', story.url, '#code'], ['sign-in', k.base + '/admin', 'h1:text("Sign in")']]) {
      const ctx = await fresh.newContext({ userAgent: PERSON_UA });
      const page = await ctx.newPage();
      const problems = await watch(page, k.base);
      page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text() + ' (' + m.location().url + ')'); });
      page.on('response', (r) => { if (r.status() >= 400) problems.push(r.status() + ' for ' + r.url()); });
      page.on('requestfailed', (r) => problems.push('failed: ' + r.url()));
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForSelector(ready);
      const icon = await page.evaluate(() => {
        const l = document.querySelector('head link[rel=icon]');
        return l ? { href: l.href, type: l.type } : null;
      });
      assert.ok(icon, what + ': no <link rel="icon"> in its head');
      assert.equal(icon.type, 'image/svg+xml', what);
      /* The browser's own fetch of the icon comes after the load, once per browser: wait until
       * kith has answered it (a count read back, not a pause), so a failed one would show. */
      await poll(async () => (await iconsServed()) > before, what + ': the icon fetched');
      assert.deepEqual(problems, [], what);
      await ctx.close();
    }
  } finally {
    await fresh.close();
  }
  /* The browser did fetch the icon, and got it. */
  const metrics = (await k.api('GET', '/metrics')).text;
  assert.match(metrics, /kith_http_responses_total\{route="assets\.favicon",status="200"\} [1-9]/);
  assert.doesNotMatch(metrics, /route="assets\.favicon_ico"/, 'every page names its icon: nothing asked for /favicon.ico');
  /* The icon, and /favicon.ico for whatever asks for it without reading a page, are the same
   * SVG, cached like the pages' other files. */
  const svg = await fetch(k.base + '/favicon.svg');
  assert.equal(svg.status, 200);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.match(svg.headers.get('cache-control'), /^public, max-age=\d+$/);
  assert.equal(svg.headers.get('x-content-type-options'), 'nosniff');
  const body = await svg.text();
  assert.equal(body, fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'web', 'favicon.svg'), 'utf8'));
  assert.doesNotMatch(body, /<script|\bon\w+=|href=/i, 'an icon that runs and links nothing');
  const etag = svg.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]+"$/);
  assert.equal((await fetch(k.base + '/favicon.svg', { headers: { 'If-None-Match': etag } })).status, 304);
  const ico = await fetch(k.base + '/favicon.ico');
  assert.equal(ico.status, 200);
  assert.equal(ico.headers.get('content-type'), 'image/svg+xml');
  assert.equal(ico.headers.get('etag'), etag);
  assert.equal(await ico.text(), body);
});
