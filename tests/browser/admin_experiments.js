'use strict';
/*
 * admin_experiments.js: the dashboard's Health, Forecast and Experiments screens (CONTRACT 21,
 * 22, 23) in headless Chromium, started by ctest as `browser_admin_experiments`. A small world
 * of six weeks is built through the API on the test clock (insights_world.js); the owner opens
 * Health and every figure shown must be the API's, for all time, the last 30 days and one month,
 * with the weekly series as charts and as tables; then the forecast with its band and
 * assumptions; then creates an experiment in the form, starts it, friends sign up, the results
 * shown (95% ranges, chance best, guardrails crossed) must be the API's, and the owner promotes
 * the winner into the program. An experiment past its days is shown stopped by itself. The
 * reviewer reads it all and gets no action, and the server refuses them. A program without
 * history shows its nulls as "not enough data yet" and the forecast's 409 in words; a taken
 * experiment id is named; one is started and stopped by hand. An experiment whose id is `new` opens
 * at /admin/experiments/new, and the form is at /admin/new-experiment, whose guardrail cost and
 * currency stand side by side with their inputs and labels aligned at 390 and 1280 px. axe-core
 * on every screen (no serious or critical violations), and the screens under the real CSP at a
 * phone's width, none wider than the phone.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { startKith, launch, adminCreate, axeCheck, dashboardPage } = require('./lib');
const { buildWorld, driveSignups, DAY } = require('./insights_world');

const NOT_YET = 'not enough data yet';
let k, browser, owner, reviewer, world, pid;

test.before(async () => {
  k = await startKith();
  browser = await launch();
  owner = adminCreate(k, 'owner@example.com');
  reviewer = adminCreate(k, 'reviewer@example.com', 'reviewer');
  world = await buildWorld(k);
  pid = world.program.id;
});
test.after(async () => {
  if (browser) await browser.close();
  if (k) await k.stop();
});

/* The page's words for the API's numbers (admin_health.js). */
const pct = (x) => (x === null ? NOT_YET : Math.round(x * 1000) / 10 + '%');
const days = (x) => { if (x === null) return NOT_YET; const r = Math.round(x * 10) / 10; return r === 1 ? '1 day' : r + ' days'; };
const money = (x, cur = 'USD') => (x === null ? NOT_YET : (Math.round(x) / 100).toFixed(2) + ' ' + cur);

function newPage(who, opts) { return dashboardPage(browser, k, who, opts); }

async function figures(page) {
  return page.evaluate(() => {
    const out = {};
    document.querySelectorAll('[data-figure]').forEach((el) => { out[el.dataset.figure] = el.textContent; });
    return out;
  });
}

/* What the Health screen must show for an API answer. */
function expected(m) {
  const out = {
    activation: pct(m.activation),
    time_to_first_share_days: days(m.time_to_first_share_days),
    cycle_time_days: days(m.cycle_time_days),
    'concentration.top_5pct_share': pct(m.concentration.top_5pct_share),
    'concentration.gini': m.concentration.gini === null ? NOT_YET : m.concentration.gini.toFixed(2),
    'fatigue.asks': String(m.fatigue.asks),
    'fatigue.answered_rate': pct(m.fatigue.answered_rate),
    'fatigue.opt_outs': String(m.fatigue.opt_outs),
    'fraud_pressure.review_rate': pct(m.fraud_pressure.review_rate),
    'fraud_pressure.reject_rate': pct(m.fraud_pressure.reject_rate),
    reward_cost_to_value: pct(m.reward_cost_to_value),
  };
  for (const side of ['referred', 'organic']) {
    const s = m.referred_vs_organic[side];
    out[side + '.customers'] = String(s.customers);
    out[side + '.purchasers'] = String(s.purchasers);
    out[side + '.purchase_rate'] = pct(s.purchase_rate);
    out[side + '.refund_rate'] = pct(s.refund_rate);
    out[side + '.revenue_per_customer'] = money(s.revenue_per_customer);
  }
  return out;
}

async function health(query) {
  const r = await k.api('GET', '/v1/metrics/health?program=' + pid + query);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/* The shown figures and the first chart's table (signups and qualified per week). */
async function checkHealth(page, m, what) {
  await page.waitForSelector('.insight-charts svg, .empty');
  await page.waitForFunction(() => document.querySelector('[aria-busy="false"]'));
  assert.deepEqual(await figures(page), expected(m), what);
  const rows = await page.locator('.insight-figure').first().locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
  assert.deepEqual(rows.map((r) => [r[1], r[2]]), m.series.map((w) => [String(w.signups), String(w.qualified)]), what + ': weekly table');
  assert.equal(await page.locator('.insight-charts svg[role=img][aria-label]').count(), 4, what + ': four charts');
}

test('Health shows the API\'s figures for all time, the last 30 days and a month, with weekly charts', async () => {
  const { ctx, page, problems } = await newPage(owner);
  await page.click('#nav a[href="/admin/health"]');
  await page.waitForSelector('h1:text-is("Program health")');
  const all = await health('');
  assert.equal(all.series.length, 7);
  assert.notEqual(all.activation, null);
  assert.equal(all.fatigue.answered_rate, null, 'no asks in this world: a null to show');
  await checkHealth(page, all, 'all time');
  assert.equal(await page.locator('[data-figure="fatigue.answered_rate"]').textContent(), NOT_YET);
  /* A chart's figures are in a table behind a disclosure. */
  await page.locator('.insight-figure summary').first().click();
  assert.ok(await page.locator('.insight-figure table').first().isVisible());
  await axeCheck(page, 'health, all time');

  const now = Date.parse((await k.api('GET', '/v1/test/clock')).json.now);
  const iso = (ms) => new Date(ms).toISOString().slice(0, 19) + 'Z';
  await page.getByLabel('Period', { exact: true }).selectOption('30d');
  await page.waitForURL(/window=30d/);
  const last30 = await health('&from=' + iso(now - 30 * DAY * 1000) + '&to=' + iso(now));
  await checkHealth(page, last30, 'last 30 days');
  assert.notDeepEqual(expected(last30), expected(all), 'a window changes the figures');

  await page.getByLabel('Period', { exact: true }).selectOption('month');
  await page.getByLabel('Month', { exact: true }).fill('2026-09');
  await page.click('button:text("Show")');
  await page.waitForURL(/month=2026-09/);
  const sept = await health('&from=2026-09-01T00:00:00Z&to=2026-10-01T00:00:00Z');
  await checkHealth(page, sept, 'September');
  await page.waitForSelector('caption:text("in September 2026")');
  await axeCheck(page, 'health, a month');
  /* The address keeps the window. */
  await page.reload();
  await page.waitForSelector('h1:text-is("Program health")');
  await checkHealth(page, sept, 'September, reloaded');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('Forecast shows the p10..p90 band per month and its assumptions', async () => {
  const { ctx, page, problems } = await newPage(owner);
  await page.goto(k.base + '/admin/health/forecast');
  await page.waitForSelector('.assumptions');
  const fc = (await k.api('GET', '/v1/forecast?program=' + pid + '&months=6')).json;
  const f = await figures(page);
  assert.equal(f['forecast.referred_signups'], String(fc.months[0].referred_signups.p50));
  assert.equal(f['forecast.qualified'], String(fc.months[0].qualified.p50));
  assert.equal(f['forecast.reward_cost'], money(fc.months[0].reward_cost.p50));
  const rows = await page.locator('.insight-figure').first().locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td')).slice(1).map((td) => td.textContent)));
  assert.deepEqual(rows, fc.months.map((m) => [m.referred_signups.p10, m.referred_signups.p50, m.referred_signups.p90].map(String)));
  assert.equal(await page.locator('svg polygon.band').count(), 3);
  const text = await page.locator('.assumptions').textContent();
  assert.ok(text.includes('last ' + fc.assumptions.history_weeks + ' complete weeks'), text);
  assert.ok(text.includes('growth, seasonality'), text);
  await axeCheck(page, 'forecast');
  await page.getByLabel('Months ahead').selectOption('12');
  await page.waitForFunction(() => document.querySelector('.insight-figure tbody').children.length === 12);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('owner creates, starts and reads an experiment, then promotes the winner', async () => {
  const { ctx, page, problems } = await newPage(owner);
  await page.click('#nav a[href="/admin/experiments"]');
  await page.waitForSelector('h1:text-is("Experiments")');
  await page.waitForSelector('.empty:text("No experiments yet")');
  await page.click('a:text("New experiment")');
  await page.waitForSelector('h1:text-is("New experiment")');
  await page.getByLabel('Name', { exact: true }).fill('A bigger thank-you');
  assert.equal(await page.getByLabel('Short id').inputValue(), 'a-bigger-thank-you');
  await page.getByLabel('What counts as better').selectOption('qualification_rate');
  const second = page.locator('.exp-variant').nth(1);
  await second.getByLabel('Short name').fill('give40');
  await second.locator('.exp-rule').nth(0).getByLabel('Amount').fill('40');
  await second.locator('.exp-rule').nth(1).getByLabel('Amount').fill('10');
  await page.getByLabel('Highest reward cost per new customer').fill('30');
  await page.getByLabel('Highest share of referrals sent to review (%)').fill('20');
  await axeCheck(page, 'new experiment');
  await page.click('button:text("Create the experiment")');
  await page.waitForSelector('h1:text-is("A bigger thank-you")');
  await page.waitForSelector('.pill:text("Not started")');
  const made = (await k.api('GET', '/v1/experiments/a-bigger-thank-you')).json;
  assert.equal(made.status, 'draft');
  assert.equal(made.metric, 'qualification_rate');
  assert.deepEqual(made.guardrails, { max_cost_per_qualified: { USD: 3000 }, max_review_rate: 0.2 });
  assert.equal(made.max_days, 56);
  assert.deepEqual(made.variants.map((v) => [v.id, v.weight]), [['control', 50], ['give40', 50]]);
  assert.equal(made.variants[0].rewards, null);
  assert.deepEqual(made.variants[1].rewards.map((r) => [r.to, r.kind, r.amount, r.currency]),
    [['referrer', 'credit', 4000, 'USD'], ['referred', 'credit', 1000, 'USD']]);

  await page.click('button:text("Start the experiment")');
  await page.waitForSelector('.pill:text("Running")');
  assert.equal((await k.api('GET', '/v1/experiments/a-bigger-thank-you')).json.status, 'running');
  await driveSignups(k, pid, 12);
  await page.click('button:text("Refresh the results")');
  await page.waitForFunction(() => !/not enough/.test(document.querySelector('[data-figure="rate.control"]').textContent));
  const e = (await k.api('GET', '/v1/experiments/a-bigger-thank-you')).json;
  const f = await figures(page);
  for (const v of e.variants) {
    const r = v.rate;
    assert.equal(f['rate.' + v.id], r.value === null ? NOT_YET : pct(r.value) + ' (' + pct(r.low) + ' to ' + pct(r.high) + ')', v.id);
    assert.equal(f['best.' + v.id], pct(v.probability_best), v.id);
  }
  const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).slice(2, 5).map((td) => td.textContent)));
  assert.deepEqual(rows, e.variants.map((v) => [v.referrers, v.signups, v.qualified].map(String)));
  /* give40's rewards cost 50.00 USD per new customer: above the 30.00 USD guardrail. */
  assert.ok(e.guardrails_breached.some((b) => b.variant === 'give40' && b.guardrail === 'max_cost_per_qualified'), JSON.stringify(e.guardrails_breached));
  assert.equal(await page.locator('.exp-breaches li').count(), e.guardrails_breached.length);
  await page.waitForSelector('.exp-breaches li:text("give40: each friend who became a customer cost 50.00 USD in rewards, above your limit of 30.00 USD.")');
  const label = await page.locator('svg.interval').getAttribute('aria-label');
  assert.ok(label.includes('control ' + f['rate.control']), label);
  await axeCheck(page, 'a running experiment');

  await page.click('button:text("Promote give40")');
  await page.click('button:text("Yes, promote give40")');
  await page.waitForSelector('.pill:text("Winner promoted")');
  await page.waitForSelector('.exp-promoted:text("give40 was promoted")');
  const prog = (await k.api('GET', '/v1/programs/' + pid)).json;
  assert.deepEqual(prog.rewards.map((r) => [r.to, r.amount]), [['referrer', 4000], ['referred', 1000]]);
  const after = (await k.api('GET', '/v1/experiments/a-bigger-thank-you')).json;
  assert.equal(after.status, 'promoted');
  assert.equal(after.promoted_variant, 'give40');
  assert.equal(await page.locator('button:text("Promote"), button:text("Stop the experiment")').count(), 0);
  await page.click('a:text("All experiments")');
  await page.waitForSelector('tbody tr:has-text("give40 (promoted)")');
  await axeCheck(page, 'experiments list');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('an experiment past its days is shown stopped by itself', async () => {
  const r = await k.api('POST', '/v1/experiments', { program: pid, id: 'three-days', name: 'Three days',
    max_days: 3, variants: [{ id: 'control', weight: 1 }, { id: 'tote', weight: 1, rewards: [
      { to: 'referrer', kind: 'gift', description: 'A tote bag' }] }] });
  assert.equal(r.status, 201, r.text);
  assert.equal((await k.api('POST', '/v1/experiments/three-days/start', {})).status, 200);
  await k.api('POST', '/v1/test/clock', { advance_seconds: 3 * DAY });
  const { ctx, page, problems } = await newPage(owner);
  await page.goto(k.base + '/admin/experiments/three-days');
  await page.waitForSelector('.pill:text("Stopped")');
  await page.waitForSelector('.exp-autostop:text("It stopped by itself")');
  assert.equal((await k.api('GET', '/v1/experiments/three-days')).json.status, 'stopped');
  assert.equal(await page.locator('button:text("Promote tote")').count(), 1);
  assert.equal(await page.locator('button:text("Stop the experiment")').count(), 0);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the reviewer reads health and experiments, has no actions, and the server refuses them', async () => {
  const { ctx, page, problems } = await newPage(reviewer);
  await page.click('#nav a[href="/admin/health"]');
  await page.waitForSelector('[data-figure="activation"]');
  await page.click('.tabs a[href="/admin/health/forecast"]');
  await page.waitForSelector('.assumptions');
  await page.click('#nav a[href="/admin/experiments"]');
  await page.waitForSelector('tbody tr');
  await page.waitForSelector('.notice-soft:text("signed in as a reviewer")');
  assert.equal(await page.locator('a:text("New experiment")').count(), 0);
  await page.click('tbody a:text("A bigger thank-you")');
  await page.waitForSelector('[data-figure="rate.control"]');
  assert.equal(await page.locator('#main button').count(), 0, 'no actions on a promoted experiment');
  await page.goto(k.base + '/admin/experiments/three-days');
  await page.waitForSelector('[data-figure="rate.control"]');
  assert.equal(await page.locator('#main button').count(), 0, 'no promote, stop or start for a reviewer');
  await axeCheck(page, 'reviewer, an experiment');
  await page.goto(k.base + '/admin/new-experiment');
  await page.waitForSelector('.notice-soft:text("signed in as a reviewer")');
  assert.equal(await page.locator('#main form').count(), 0);
  const refused = await page.evaluate(async (program) => {
    const h = { 'Content-Type': 'application/json', 'X-Kith-CSRF': localStorage.getItem('kith_csrf') };
    const out = [];
    for (const [u, b] of [['/v1/experiments', { program, id: 'x', name: 'X', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }] }],
      ['/v1/experiments/three-days/promote', { variant: 'tote' }], ['/v1/experiments/three-days/start', {}]]) {
      out.push((await fetch(u, { method: 'POST', headers: h, body: JSON.stringify(b) })).status);
    }
    return out;
  }, pid);
  assert.deepEqual(refused, [403, 403, 403]);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the screens run under the dashboard\'s real Content-Security-Policy, at a phone\'s width', async () => {
  const { ctx, page, problems } = await newPage(owner, { viewport: { width: 390, height: 844 } });
  for (const [p, sel] of [['/admin/health', '.insight-charts svg'], ['/admin/health/forecast', '.assumptions'],
    ['/admin/experiments', 'tbody tr'], ['/admin/new-experiment', '.exp-variant'], ['/admin/experiments/a-bigger-thank-you', 'svg.interval']]) {
    await page.goto(k.base + p);
    await page.waitForSelector(sel);
    /* Nothing wider than the phone's screen. */
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 390, p + ' is ' + wide + ' px wide');
  }
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a program without history: every null in words, the forecast waits for four weeks, a taken id is named', async () => {
  const fresh = await k.api('POST', '/v1/programs', { id: 'fresh-start', name: 'Fresh Start', destination_url: 'https://example.com/join' });
  assert.equal(fresh.status, 201, fresh.text);
  const { ctx, page, problems } = await newPage(owner);
  await page.goto(k.base + '/admin/health');
  await page.waitForSelector('.picker select');
  await page.selectOption('.picker select', 'fresh-start');
  await page.waitForFunction(() => document.querySelector('[data-figure="activation"]') && document.querySelector('[aria-busy="false"]'));
  const m = (await k.api('GET', '/v1/metrics/health?program=fresh-start')).json;
  assert.equal(m.activation, null);
  assert.deepEqual(await figures(page), expected(m));
  assert.equal(await page.locator('[data-figure="activation"]').textContent(), NOT_YET);
  assert.equal(await page.locator('[data-figure="referred.purchase_rate"]').textContent(), NOT_YET);
  const worth = fresh.json.average_customer_value;
  await page.waitForSelector(worth > 0 ? '.hint:text("A customer is worth ' + money(worth) + ' to you")' : '.hint:text("Set what a customer is worth in Settings")');
  await axeCheck(page, 'health, no data');
  assert.equal((await k.api('GET', '/v1/forecast?program=fresh-start')).status, 409);
  await page.click('.tabs a[href="/admin/health/forecast"]');
  await page.waitForSelector('h2:text("Not enough history yet")');
  /* The same id twice: the API's answer, with the field it names. */
  await page.goto(k.base + '/admin/new-experiment');
  await page.waitForSelector('.exp-variant');
  await page.getByLabel('Name', { exact: true }).fill('Three days');
  assert.equal(await page.getByLabel('Short id').inputValue(), 'three-days');
  await page.click('button:text("Create the experiment")');
  await page.waitForSelector('#main .error:text("(id)")');
  /* Another id: created, started, then stopped by hand. */
  await page.getByLabel('Short id').fill('fresh-try');
  await page.click('button:text("Create the experiment")');
  await page.waitForSelector('h1:text-is("Three days")');
  await page.click('button:text("Start the experiment")');
  await page.waitForSelector('.pill:text("Running")');
  await page.click('button:text("Stop the experiment")');
  await page.waitForSelector('.pill:text("Stopped")');
  const stopped = (await k.api('GET', '/v1/experiments/fresh-try')).json;
  assert.equal(stopped.status, 'stopped');
  assert.equal(stopped.program, 'fresh-start');
  assert.equal(await page.locator('.exp-autostop').count(), 0, 'stopped by hand, not by itself');
  assert.equal(await page.locator('button:text("Promote control"), button:text("Promote bigger")').count(), 2);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('an experiment whose id is "new" opens at its own address; the form has an address no id can take', async () => {
  const r = await k.api('POST', '/v1/experiments', { program: pid, id: 'new', name: 'Called new',
    variants: [{ id: 'control', weight: 1 }, { id: 'tote', weight: 1, rewards: [
      { to: 'referrer', kind: 'gift', description: 'A tote bag' }] }] });
  assert.equal(r.status, 201, r.text);
  const { ctx, page, problems } = await newPage(owner);
  await page.goto(k.base + '/admin/experiments/new');
  await page.waitForSelector('h1:text-is("Called new")');
  await page.waitForSelector('.pill:text("Not started")');
  assert.equal(await page.locator('.exp-variant').count(), 0, 'its results, not the form');
  /* From the list, and the form from its button. */
  await page.goto(k.base + '/admin/experiments');
  await page.waitForSelector('h1:text-is("Experiments")');
  if (await page.locator('.picker select').count()) await page.selectOption('.picker select', pid);
  await page.click('tbody a:text("Called new")');
  await page.waitForSelector('h1:text-is("Called new")');
  assert.equal(new URL(page.url()).pathname, '/admin/experiments/new');
  await page.click('a:text("All experiments")');
  await page.click('a:text("New experiment")');
  await page.waitForSelector('h1:text-is("New experiment")');
  await page.waitForSelector('.exp-variant');
  assert.equal(new URL(page.url()).pathname, '/admin/new-experiment');
  assert.equal(await page.getAttribute('#nav a[href="/admin/experiments"]', 'aria-current'), 'page');
  /* Its own address, reloaded, is still the form. */
  await page.reload();
  await page.waitForSelector('.exp-variant');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('the guardrails\' cost and currency fields stand side by side, their inputs and labels aligned, on a phone and a desktop', async () => {
  for (const [w, h] of [[390, 844], [1280, 800]]) {
    const { ctx, page, problems } = await newPage(owner, { viewport: { width: w, height: h } });
    await page.goto(k.base + '/admin/new-experiment');
    await page.waitForSelector('.exp-variant');
    const box = async (loc) => { const b = await loc.boundingBox(); assert.ok(b, w + ' px: not drawn'); return b; };
    const cost = page.getByLabel('Highest reward cost per new customer');
    /* The currency is the other input of the cost's row (the row holds the two fields). */
    const cur = cost.locator('xpath=../..').locator('input').nth(1);
    assert.equal(await page.textContent('label[for="' + await cur.getAttribute('id') + '"]'), 'Currency');
    const [c, u] = [await box(cost), await box(cur)];
    const [cl, ul] = [await box(page.locator('label[for="' + await cost.getAttribute('id') + '"]')),
      await box(page.locator('label[for="' + await cur.getAttribute('id') + '"]'))];
    assert.ok(Math.abs(c.y - u.y) <= 1, w + ' px: the cost input\'s top is at ' + c.y + ', the currency\'s at ' + u.y);
    assert.ok(Math.abs(c.height - u.height) <= 1, w + ' px: inputs of different heights');
    assert.ok(u.x >= c.x + c.width, w + ' px: the currency is not beside the cost');
    assert.ok(u.x + u.width <= w, w + ' px: the currency is cut at the edge');
    /* Each label sits on its input: their last lines end at the same height. */
    assert.ok(Math.abs((cl.y + cl.height) - (ul.y + ul.height)) <= 1, w + ' px: labels end at ' + (cl.y + cl.height) + ' and ' + (ul.y + ul.height));
    assert.ok(c.y - (cl.y + cl.height) < 12 && u.y - (ul.y + ul.height) < 12, w + ' px: a label far from its input');
    await axeCheck(page, 'new experiment at ' + w + ' px');
    assert.deepEqual(problems, []);
    await ctx.close();
  }
});
