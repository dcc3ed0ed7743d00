'use strict';
/*
 * admin_screenshots.js: the owner's dashboard (overview, participants, a participant, the review
 * queue, settings, API keys) at a phone's width and a desktop's, into docs/screenshots/admin-*.
 * Run after a build: `KITH_BIN=build/kith node tests/browser/admin_screenshots.js`.
 */
const fs = require('fs');
const path = require('path');
const { startKith, launch, seedStory, participant, adminCreate, PERSON_UA } = require('./lib');

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const SIZES = [['phone', 390, 844], ['desktop', 1280, 800]];

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const k = await startKith();
  const browser = await launch();
  try {
    const story = await seedStory(k, { destination_url: 'https://wellness.example/join' });
    const rita = await participant(k, story.program.id, 'Rita', { ip: '198.51.100.9', device_id: 'd1' });
    for (const n of ['Olu', 'Pat']) {
      await k.api('POST', '/v1/signups', { program: story.program.id, external_id: 'x-' + n, first_name: n,
        ref: rita.code, ip: '198.51.100.9', device_id: 'd1' });
    }
    await k.api('POST', '/v1/api_keys', { kind: 'secret', name: 'CRM sync' });
    await k.api('POST', '/v1/api_keys', { kind: 'publishable', name: 'Website' });
    const who = adminCreate(k, 'owner@example.com');
    for (const [name, width, height] of SIZES) {
      const ctx = await browser.newContext({ viewport: { width, height }, userAgent: PERSON_UA, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      await page.goto(k.base + '/admin');
      await page.waitForSelector('input[type=email]');
      if (name === 'phone') await page.screenshot({ path: path.join(OUT, 'admin-signin-phone.png'), fullPage: true });
      await page.fill('input[type=email]', who.email);
      await page.fill('input[type=password]', who.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('svg.chart rect');
      await page.screenshot({ path: path.join(OUT, `admin-overview-${name}.png`), fullPage: true });
      const shots = [['participants', 'table'], ['participants/' + story.jane.id, '.facts'], ['review', '.review-item'],
        ['settings', 'textarea'], ['keys', '.table-wrap, .empty']];
      for (const [p, sel] of shots) {
        await page.evaluate((to) => { history.pushState(null, '', to); dispatchEvent(new PopStateEvent('popstate')); }, '/admin/' + p);
        await page.waitForSelector(sel);
        await page.waitForTimeout(150);
        const file = 'admin-' + p.replace(/\/.*/, '-detail') + '-' + name + '.png';
        await page.screenshot({ path: path.join(OUT, file), fullPage: true });
      }
      await ctx.close();
    }
    console.log('screenshots written to ' + OUT);
  } finally {
    await browser.close();
    await k.stop();
  }
})().catch((e) => { console.error(e); process.exit(1); });
