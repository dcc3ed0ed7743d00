'use strict';
/*
 * admin.js: the owner's dashboard (CONTRACT 21) in headless Chromium, started by ctest as
 * `browser_admin`: signing in, the first run on an empty database (a program, then a first
 * participant), the overview with its chart, participants and their actions, the review queue,
 * settings, API keys (create shown once, revoke), the reviewer's limits, and axe-core on every
 * screen (no serious or critical violations). No request leaves for another host.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { startKith, launch, adminCreate, seedStory, participant, signup, PERSON_UA } = require('./lib');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
let k, browser, owner, reviewer;

test.before(async () => {
  k = await startKith();
  browser = await launch();
  owner = adminCreate(k, 'owner@example.com');
  reviewer = adminCreate(k, 'reviewer@example.com', 'reviewer');
});
test.after(async () => {
  if (browser) await browser.close();
  if (k) await k.stop();
});

function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith(k.base) && !r.url().startsWith('blob:')) problems.push('request to ' + r.url()); });
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

async function signIn(page, who) {
  await page.goto(k.base + '/admin');
  await page.waitForSelector('h1:text("Sign in")');
  await page.fill('input[type=email]', who.email);
  await page.fill('input[type=password]', who.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#nav:not([hidden])');
}

async function visit(page, path, heading) {
  await page.click('#nav a[href="' + path + '"]');
  await page.waitForSelector('h1:text("' + heading + '")');
}

test('sign-in refuses a wrong password, then the first run creates a program and a participant', async () => {
  const ctx = await browser.newContext({ userAgent: PERSON_UA, bypassCSP: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await page.goto(k.base + '/admin');
  await page.waitForSelector('h1:text("Sign in")');
  await axeCheck(page, 'sign-in');
  await page.fill('input[type=email]', owner.email);
  await page.fill('input[type=password]', 'not the password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error:text("do not match")');
  await page.fill('input[type=password]', owner.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:text("Welcome to kith")');
  await axeCheck(page, 'first run');
  await page.fill('#main input >> nth=0', 'Book Club');
  assert.equal(await page.inputValue('#main input >> nth=1'), 'book-club');
  await page.fill('input[type=url]', 'https://books.example/join');
  await page.click('button:text("Create the program")');
  await page.waitForSelector('h2:text("2. The first person")');
  await page.fill('#main input >> nth=0', 'Ada');
  await page.click('button:text("Add them")');
  await page.waitForSelector('h1:text("You are set up")');
  assert.match(await page.textContent('.secret-line code'), /\/r\/ADA-/);
  const progs = await k.api('GET', '/v1/programs');
  assert.deepEqual(progs.json.data.map((p) => p.id), ['book-club']);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('owner walks the screens, edits settings, works the review queue and revokes a key', async () => {
  const story = await seedStory(k);
  const ip = '198.51.100.9';
  const rita = await participant(k, story.program.id, 'Rita', { ip, device_id: 'dev-r' });
  const flagged = [];
  for (const name of ['Olu', 'Pat']) {
    const r = await k.api('POST', '/v1/signups', { program: story.program.id, external_id: 'x-' + name,
      first_name: name, ref: rita.code, ip, device_id: 'dev-r' });
    assert.equal(r.json.referral.status, 'review');
    flagged.push(r.json.referral.id);
  }
  const ctx = await browser.newContext({ userAgent: PERSON_UA, bypassCSP: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await signIn(page, owner);
  await page.selectOption('select', story.program.id);
  await page.waitForSelector('.stat');
  await page.waitForSelector('svg.chart rect');
  await axeCheck(page, 'overview');

  await visit(page, '/admin/participants', 'Participants');
  await page.waitForSelector('table a:text("Jane")');
  await axeCheck(page, 'participants');
  await page.fill('input[type=search]', story.jane.email);
  await page.click('button:text("Search")');
  await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
  await page.click('table a:text("Jane")');
  await page.waitForSelector('h1:text("Jane")');
  assert.match(await page.textContent('.facts'), new RegExp(story.jane.code));
  await axeCheck(page, 'participant');
  await page.click('button:text("Block")');
  await page.waitForSelector('button:text("Unblock")');
  assert.equal((await k.api('GET', '/v1/participants/' + story.jane.id)).json.status, 'blocked');
  await page.click('button:text("Unblock")');
  await page.waitForSelector('button:text("Block")');

  await visit(page, '/admin/referrals', 'Referrals');
  await page.waitForSelector('td:text("Friend clicked")', { timeout: 5000 }).catch(() => {});
  await axeCheck(page, 'referrals');

  await visit(page, '/admin/review', 'Review queue');
  await page.waitForSelector('.review-item');
  assert.equal(await page.locator('.review-item').count(), 2);
  assert.match(await page.textContent('.review-item'), /same_ip/);
  await axeCheck(page, 'review');
  await page.locator('.review-item').nth(0).locator('button:text("Approve")').click();
  await page.waitForFunction(() => document.querySelectorAll('.review-item').length === 1);
  await page.locator('.review-item input').fill('same household, same card');
  await page.locator('.review-item button:text("Reject")').click();
  await page.waitForSelector('.review-item', { state: 'detached' });
  const statuses = await Promise.all(flagged.map(async (id) => (await k.api('GET', '/v1/referrals/' + id)).json.status));
  assert.ok(!statuses.includes('review'), JSON.stringify(statuses));
  assert.ok(statuses.includes('rejected'));

  await visit(page, '/admin/rewards', 'Rewards');
  await page.waitForSelector('table');
  await axeCheck(page, 'rewards');

  await visit(page, '/admin/settings', 'Program settings');
  await axeCheck(page, 'settings');
  await page.fill('#main input >> nth=0', 'Wellness Circle Plus');
  await page.click('button:text("Save settings")');
  await page.waitForFunction(() => document.getElementById('toast').textContent === 'Saved');
  assert.equal((await k.api('GET', '/v1/programs/' + story.program.id)).json.name, 'Wellness Circle Plus');

  await visit(page, '/admin/keys', 'API keys');
  await page.fill('#main input', 'CRM sync');
  await page.click('button:text("Create key")');
  await page.waitForSelector('.notice code');
  const key = await page.textContent('.notice code');
  assert.match(key, /^sk_/);
  assert.equal((await k.api('GET', '/v1/programs', undefined, { Authorization: 'Bearer ' + key })).status, 200);
  await axeCheck(page, 'keys');
  page.once('dialog', (d) => d.accept());
  await page.click('button[aria-label="Revoke CRM sync"]');
  await page.waitForSelector('button[aria-label="Revoke CRM sync"]', { state: 'detached' });
  assert.equal((await k.api('GET', '/v1/programs', undefined, { Authorization: 'Bearer ' + key })).status, 401);
  await page.click('#logout');
  await page.waitForSelector('h1:text("Sign in")');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a reviewer reads, decides referrals, and cannot change settings or keys', async () => {
  const progs = (await k.api('GET', '/v1/programs')).json.data;
  const prog = progs[progs.length - 1].id;
  const ip = '198.51.100.44';
  const rita = await participant(k, prog, 'Rina', { ip, device_id: 'dev-q' });
  const r = await k.api('POST', '/v1/signups', { program: prog, external_id: 'q-1', first_name: 'Quin',
    ref: rita.code, ip, device_id: 'dev-q' });
  assert.equal(r.json.referral.status, 'review');
  const ctx = await browser.newContext({ userAgent: PERSON_UA, bypassCSP: true });
  const page = await ctx.newPage();
  const problems = watch(page);
  await signIn(page, reviewer);
  await page.selectOption('select', prog);
  await visit(page, '/admin/settings', 'Program settings');
  assert.equal(await page.locator('button:text("Save settings")').count(), 0);
  assert.ok(await page.locator('#main input >> nth=0').isDisabled());
  await visit(page, '/admin/keys', 'API keys');
  await page.waitForSelector('.table-wrap, .empty');
  assert.equal(await page.locator('button:text("Revoke")').count(), 0);
  assert.equal(await page.locator('button:text("Create key")').count(), 0);
  /* The API refuses too, whatever the page shows. */
  const status = await page.evaluate(async () => (await fetch('/v1/api_keys', { method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Kith-CSRF': localStorage.getItem('kith_csrf') },
    body: JSON.stringify({ kind: 'secret' }) })).status);
  assert.equal(status, 403);
  await visit(page, '/admin/review', 'Review queue');
  await page.locator('.review-item button:text("Approve")').click();
  await page.waitForSelector('.review-item', { state: 'detached' });
  assert.equal((await k.api('GET', '/v1/referrals/' + r.json.referral.id)).json.status !== 'review', true);
  assert.deepEqual(problems, []);
  await ctx.close();
});
