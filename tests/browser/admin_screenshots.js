'use strict';
/*
 * admin_screenshots.js: the owner's dashboard at a phone's width and a desktop's, into
 * docs/screenshots/admin-*: overview, participants, a participant, the review queue, settings
 * (basics, tracks and levels, messages with the live preview), rewards with their fulfilment,
 * the payout queue, resources, the community (leaderboard, a spotlight draft), a webhook
 * endpoint with its delivery log, and API keys. Webhooks go to a local receiver and Stripe
 * calls to a local stand-in that refuses them (a failed delivery, visible). Run after a build:
 * `KITH_BIN=build/kith node tests/browser/admin_screenshots.js`.
 */
const fs = require('fs');
const path = require('path');
const { startKith, launch, seedStory, participant, signup, purchase, adminCreate, localServer, signIn, PERSON_UA } = require('./lib');

const OUT = path.join(__dirname, '..', '..', 'docs', 'screenshots');
const SIZES = [['phone', 390, 844], ['desktop', 1280, 800]];

const TRACKS = [{ id: 'connector', name: 'Connector', counts: 'qualified_referrals', levels: [
  { id: 'friend', name: 'Friend of the Circle', at: 1, grants: [{ kind: 'recognition', description: 'A founding-friend badge' }] },
  { id: 'guide', name: 'Community Guide', at: 5, approval: 'owner', grants: [{ kind: 'role', role: 'community_guide', description: 'Host the monthly welcome call' }] }] }];

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const hooks = await localServer(() => [200, { ok: true }]);
  const stripe = await localServer(() => [402, { error: { type: 'card_error', message: 'This customer has no Stripe account yet' } }]);
  const k = await startKith({ env: { KITH_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8', KITH_STRIPE_API_BASE: stripe.url } });
  const browser = await launch();
  try {
    const hook = await k.api('POST', '/v1/webhook_endpoints', { url: hooks.url + '/kith', description: 'CRM sync',
      events: ['referral.qualified', 'reward.issued'] });
    const story = await seedStory(k, { destination_url: 'https://wellness.example/join', tracks: TRACKS,
      fulfilment: { credit: 'stripe_balance', cash: 'payout', gift: 'claim' }, stripe_api_key: 'sk_test_standin_4242', stripe_webhook_secret: 'whsec_test_standin_7f3a' });
    const pid = story.program.id;
    const rita = await participant(k, pid, 'Rita', { ip: '198.51.100.9', device_id: 'd1' });
    for (const n of ['Olu', 'Pat']) {
      await k.api('POST', '/v1/signups', { program: pid, external_id: 'x-' + n, first_name: n,
        ref: rita.code, ip: '198.51.100.9', device_id: 'd1' });
    }
    await k.api('PATCH', '/v1/programs/' + pid, { rewards: [
      { to: 'referrer', kind: 'cash', amount: 2000, currency: 'USD' }, { to: 'referred', kind: 'gift', description: 'A tote bag' }],
      qualification: { event: 'purchase', hold_days: 0 } });
    const ines = await participant(k, pid, 'Ines', { email: 'ines@example.com' });
    for (const n of ['Ravi', 'Zoe']) {
      const s = await signup(k, pid, ines.code, n);
      const ev = await purchase(k, pid, s.participant.external_id);
      const gift = ev.rewards.find((w) => w.kind === 'gift');
      if (n === 'Ravi' && gift) await k.api('POST', '/v1/rewards/' + gift.id + '/claim', { answers: { note: 'Blue, please' } });
    }
    const csv = 'slug,title,kind,url,collection,description,gated\nstarter,The starter guide,guide,https://wellness.example/starter,,A gentle first week,false\n' +
      'retreat,Spring retreat,event,https://wellness.example/retreat,,,true\nmats,Our mats,collection,https://wellness.example/mats,Shop,,false\n';
    await fetch(k.base + '/v1/resources/import?program=' + pid, { method: 'POST', body: csv,
      headers: { Authorization: 'Bearer ' + k.secret, 'Content-Type': 'text/csv' } });
    for (let i = 0; i < 3; i++) {
      await fetch(k.base + '/r/' + story.jane.code + '/starter', { redirect: 'manual', headers: { 'User-Agent': PERSON_UA } });
    }
    const board = (await k.api('GET', '/v1/leaderboard?program=' + pid)).json.data;
    for (const e of board) await k.api('PATCH', '/v1/participants/' + e.participant, { preferences: { spotlight_opt_in: true } });
    const month = (await k.api('GET', '/v1/test/clock')).json.now.slice(0, 7);
    await k.api('POST', '/v1/spotlights', { program: pid, period: month });
    await k.api('POST', '/v1/api_keys', { kind: 'secret', name: 'CRM sync' });
    await k.api('POST', '/v1/api_keys', { kind: 'publishable', name: 'Website' });
    await new Promise((r) => setTimeout(r, 1500)); /* the first deliveries */
    const who = adminCreate(k, 'owner@example.com');
    for (const [name, width, height] of SIZES) {
      const ctx = await browser.newContext({ viewport: { width, height }, userAgent: PERSON_UA, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      if (name === 'phone') {
        await page.goto(k.base + '/admin');
        await page.waitForSelector('input[type=email]');
        await page.screenshot({ path: path.join(OUT, 'admin-signin-phone.png'), fullPage: true });
      }
      await signIn(page, k, who);
      await page.waitForSelector('svg.chart rect');
      await page.screenshot({ path: path.join(OUT, `admin-overview-${name}.png`), fullPage: true });
      const shots = [['participants', 'table', 'participants'], ['participants/' + story.jane.id, '.facts', 'participants-detail'],
        ['review', '.review-item', 'review'], ['settings', 'textarea', 'settings'], ['settings/tracks', '.track', 'settings-tracks'],
        ['settings/templates', '.preview-body:not(:empty)', 'settings-templates'], ['rewards', '.pill-failed', 'rewards'],
        ['payouts', 'tbody tr', 'payouts'], ['resources', 'tbody tr', 'resources'], ['community', 'tbody tr', 'community'],
        ['community/spotlights', 'article', 'community-spotlights'], ['integrations/' + hook.json.id, 'tbody tr', 'integrations-webhook'],
        ['integrations/providers', 'section[aria-label="Stripe"]', 'integrations-providers'], ['keys', '.table-wrap, .empty', 'keys']];
      for (const [p, sel, file] of shots) {
        await page.evaluate((to) => { history.pushState(null, '', to); dispatchEvent(new PopStateEvent('popstate')); }, '/admin/' + p);
        await page.waitForSelector(sel);
        await page.waitForTimeout(250);
        /* A long list is cut where a reader has seen enough of it. */
        const tall = await page.evaluate(() => document.documentElement.scrollHeight);
        await page.screenshot({ path: path.join(OUT, 'admin-' + file + '-' + name + '.png'), fullPage: true,
          clip: tall > 2600 ? { x: 0, y: 0, width, height: 2600 } : undefined });
      }
      await ctx.close();
    }
    console.log('screenshots written to ' + OUT);
  } finally {
    await browser.close();
    await k.stop();
    await hooks.close();
    await stripe.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
