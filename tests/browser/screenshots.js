'use strict';
/*
 * screenshots.js: the friend landing page and the share hub as people see them, at a phone's
 * width (390x844) and a desktop's (1280x800), into docs/screenshots/: the hub of Jane's story,
 * her hub with a gift to claim (hub-claim-*, its step open, then with the API's error by a field
 * in hub-claim-error-*), and her friend's hub with a coupon's code (hub-coupon-*). Run after a build:
 * `KITH_BIN=build/kith node tests/browser/screenshots.js` (make screenshots).
 */
const fs = require('fs');
const path = require('path');
const { startKith, startStripe, launch, seedStory, seedClaims, PERSON_UA } = require('./lib');

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const SIZES = [['phone', 390, 844], ['desktop', 1280, 800]];

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const key = 'sk_test_screenshots_standin';
  const stripe = await startStripe(key);
  const k = await startKith({ env: { KITH_STRIPE_API_BASE: stripe.base } });
  const browser = await launch();
  try {
    const story = await seedStory(k, { destination_url: 'https://wellness.example/join' });
    const claims = await seedClaims(k, key);
    for (const [name, width, height] of SIZES) {
      const ctx = await browser.newContext({ viewport: { width, height }, userAgent: PERSON_UA,
        deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      await page.goto(k.base + '/r/' + story.jane.code);
      await page.screenshot({ path: path.join(OUT, `landing-${name}.png`), fullPage: true });
      await page.goto(story.url);
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(OUT, `hub-${name}.png`), fullPage: true });
      await page.goto(claims.janeHub.url);
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(OUT, `hub-claim-${name}.png`), fullPage: true });
      await page.fill('#claim-0-address-line1', '2 Mill Road');
      await page.fill('#claim-0-address-city', 'Cambridge');
      await page.fill('#claim-0-address-country', 'G');
      await page.click('form.claim-form button[type=submit]');
      await page.waitForSelector('.field-error:not([hidden])');
      const step = page.locator('form.claim-form');
      await step.screenshot({ path: path.join(OUT, `hub-claim-error-${name}.png`) });
      await page.goto(claims.alexHub.url);
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(OUT, `hub-coupon-${name}.png`), fullPage: true });
      await ctx.close();
    }
    console.log('screenshots written to ' + OUT);
  } finally {
    await browser.close();
    await k.stop();
    await stripe.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
