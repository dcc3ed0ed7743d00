'use strict';
/*
 * insights_screenshots.js: the dashboard's health, forecast and experiment screens at a phone's
 * width and a desktop's, into docs/screenshots/admin-health-*, admin-health-forecast-* and
 * admin-experiments-* (the list, a new experiment, one running with its results). The world is
 * insights_world.js's six weeks on the test clock. Run after a build:
 * `KITH_BIN=build/kith node tests/browser/insights_screenshots.js`.
 */
const fs = require('fs');
const path = require('path');
const { startKith, launch, adminCreate, signIn, PERSON_UA } = require('./lib');
const { buildWorld, driveSignups } = require('./insights_world');

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const SIZES = [['phone', 390, 844], ['desktop', 1280, 800]];

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const k = await startKith();
  const browser = await launch();
  try {
    const world = await buildWorld(k);
    const pid = world.program.id;
    const GIVE = [{ to: 'referrer', kind: 'credit', amount: 4000, currency: 'USD' },
      { to: 'referred', kind: 'credit', amount: 1000, currency: 'USD' }];
    const e = await k.api('POST', '/v1/experiments', { program: pid, id: 'bigger-thanks', name: 'A bigger thank-you',
      metric: 'qualification_rate', max_days: 56, guardrails: { max_cost_per_qualified: { USD: 4000 }, max_review_rate: 0.2 },
      variants: [{ id: 'control', weight: 50 }, { id: 'give40', weight: 50, rewards: GIVE }] });
    if (e.status !== 201) throw new Error('experiment: ' + e.text);
    await k.api('POST', '/v1/experiments/bigger-thanks/start', {});
    await driveSignups(k, pid, 14);
    await k.api('POST', '/v1/experiments', { program: pid, id: 'welcome-gift', name: 'A welcome gift for friends',
      variants: [{ id: 'control', weight: 1 }, { id: 'tote', weight: 1, rewards: [{ to: 'referrer', kind: 'credit', amount: 2000, currency: 'USD' },
        { to: 'referred', kind: 'gift', description: 'A Wellness Circle tote bag' }] }] });
    const who = adminCreate(k, 'owner@example.com');
    for (const [name, width, height] of SIZES) {
      const ctx = await browser.newContext({ viewport: { width, height }, userAgent: PERSON_UA, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      await signIn(page, k, who);
      const shots = [['health', '.insight-charts svg', 'health'], ['health/forecast', '.assumptions', 'health-forecast'],
        ['experiments', 'tbody tr', 'experiments'], ['new-experiment', '.exp-variant', 'experiments-new'],
        ['experiments/bigger-thanks', 'svg.insight-chart', 'experiments-detail']];
      for (const [p, sel, file] of shots) {
        await page.evaluate((to) => { history.pushState(null, '', to); dispatchEvent(new PopStateEvent('popstate')); }, '/admin/' + p);
        await page.waitForSelector(sel);
        await page.waitForTimeout(250);
        const tall = await page.evaluate(() => document.documentElement.scrollHeight);
        await page.screenshot({ path: path.join(OUT, 'admin-' + file + '-' + name + '.png'), fullPage: true,
          clip: tall > 3200 ? { x: 0, y: 0, width, height: 3200 } : undefined });
      }
      await ctx.close();
    }
    console.log('screenshots written to ' + OUT);
  } finally {
    await browser.close();
    await k.stop();
  }
})().catch((e) => { console.error(e); process.exit(1); });
