'use strict';
/*
 * screenshots.js: the friend landing page and the share hub as people see them, at a phone's
 * width (390x844) and a desktop's (1280x800), into docs/screenshots/. Run after a build:
 * `KITH_BIN=build/kith node tests/browser/screenshots.js` (make screenshots).
 */
const fs = require('fs');
const path = require('path');
const { startKith, launch, seedStory, PERSON_UA } = require('./lib');

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const SIZES = [['phone', 390, 844], ['desktop', 1280, 800]];

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const k = await startKith();
  const browser = await launch();
  try {
    const story = await seedStory(k, { destination_url: 'https://wellness.example/join' });
    for (const [name, width, height] of SIZES) {
      const ctx = await browser.newContext({ viewport: { width, height }, userAgent: PERSON_UA,
        deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      await page.goto(k.base + '/r/' + story.jane.code);
      await page.screenshot({ path: path.join(OUT, `landing-${name}.png`), fullPage: true });
      await page.goto(story.url);
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(OUT, `hub-${name}.png`), fullPage: true });
      await ctx.close();
    }
    console.log('screenshots written to ' + OUT);
  } finally {
    await browser.close();
    await k.stop();
  }
})().catch((e) => { console.error(e); process.exit(1); });
