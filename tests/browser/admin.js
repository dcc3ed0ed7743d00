'use strict';
/*
 * admin.js: the owner's dashboard (CONTRACT 21) in headless Chromium, started by ctest as
 * `browser_admin`: signing in, the first run on an empty database (a program, then a first
 * participant), the overview with its chart, participants and their actions, the review queue,
 * rewards with their fulfilment (retry, a claim marked delivered, the payout queue, CSV, mark
 * paid; CONTRACT 25; what voiding does to a Stripe delivery, said where it can be voided), every settings screen (a program created and edited, tracks and levels,
 * asks, rituals, landing, a template edited with its live preview, reward delivery), resources
 * (CSV import, edit, performance; one whose slug is `new` opens at /admin/resources/new, and the
 * form is at /admin/new-resource), community (leaderboard, a spotlight published, roles,
 * activities), integrations (a webhook endpoint and its deliveries, Stripe and Shopify
 * secrets), API keys (create shown once, revoke), the reviewer's limits on every screen and the
 * server's refusals, the screens' links all in sight on a phone (wrapped) and a desktop (one
 * line), and axe-core on every screen (no serious or critical violations). Every screen is
 * drawn under the CSP kith sends (never bypassed) and any violation of it fails the test. No
 * request leaves for another host: webhooks go to a local receiver and Stripe calls to a local
 * stand-in (KITH_WEBHOOK_ALLOW_CIDRS, KITH_STRIPE_API_BASE).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { startKith, launch, adminCreate, seedStory, seedProgram, participant, signup, purchase, localServer, poll,
  watch, axeCheck, signIn, dashboardPage, PERSON_UA } = require('./lib');

let k, browser, owner, reviewer, receiver, stripe;

/* Stripe's answers, as far as a balance credit needs them; `fail` refuses every call (a 4xx). */
const stripeMode = { fail: true };
function stripeAnswer(req) {
  if (stripeMode.fail) return [400, { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such customer' } }];
  if (req.url.startsWith('/v1/customers/search')) return [200, { object: 'search_result', url: '/v1/customers/search', has_more: false, data: [{ id: 'cus_T1', object: 'customer', metadata: {} }] }];
  if (req.method === 'GET') return [200, { object: 'list', url: req.url, has_more: false, data: [] }];
  return [200, { id: 'cbtxn_T1', object: 'customer_balance_transaction', amount: -2500, currency: 'usd', customer: 'cus_T1', type: 'adjustment', metadata: {} }];
}

test.before(async () => {
  receiver = await localServer(() => [200, { ok: true }]);
  stripe = await localServer(stripeAnswer);
  k = await startKith({ env: { KITH_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8', KITH_STRIPE_API_BASE: stripe.url } });
  browser = await launch();
  owner = adminCreate(k, 'owner@example.com');
  reviewer = adminCreate(k, 'reviewer@example.com', 'reviewer');
});
test.after(async () => {
  if (browser) await browser.close();
  if (k) await k.stop();
  if (receiver) await receiver.close();
  if (stripe) await stripe.close();
});

async function visit(page, path, heading) {
  await page.click('#nav a[href="' + path + '"]');
  await page.waitForSelector('h1:text-is("' + heading + '")');
}

/* A screen of a section, through its tabs. */
async function tab(page, path, heading) {
  await page.click('.tabs a[href="' + path + '"]');
  await page.waitForSelector('h1:text-is("' + heading + '")');
}

async function saved(page) {
  await page.waitForFunction(() => document.getElementById('toast').textContent === 'Saved');
  await page.evaluate(() => { document.getElementById('toast').textContent = ''; });
}

function newPage(who) { return dashboardPage(browser, k, who); }

async function program(id) {
  return (await k.api('GET', '/v1/programs/' + id)).json;
}

test('sign-in refuses a wrong password, then the first run creates a program and a participant', async () => {
  const ctx = await browser.newContext({ userAgent: PERSON_UA });
  const page = await ctx.newPage();
  const problems = await watch(page, k.base);
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
  const ctx = await browser.newContext({ userAgent: PERSON_UA });
  const page = await ctx.newPage();
  const problems = await watch(page, k.base);
  await signIn(page, k, owner);
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

  await visit(page, '/admin/integrations', 'Webhooks');
  await tab(page, '/admin/keys', 'API keys');
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

test('owner creates a program and edits every settings screen, with a live template preview', async () => {
  const { ctx, page, problems } = await newPage(owner);
  await page.goto(k.base + '/admin/new');
  await page.waitForSelector('h1:text-is("New program")');
  await axeCheck(page, 'new program');
  await page.getByLabel('Name').fill('Yoga Studio');
  await page.getByLabel('Where friends land').fill('https://yoga.example/join');
  await page.click('button:text("Create the program")');
  await page.waitForSelector('h1:text-is("Program settings")');
  const id = 'yoga-studio';
  assert.equal((await program(id)).name, 'Yoga Studio');
  assert.equal(await page.inputValue('.picker select'), id);
  await page.getByLabel('Name', { exact: true }).fill('Yoga Studio Plus');
  await page.getByLabel('Hold days').fill('7');
  const rules = page.locator('.rules fieldset');
  const before = await rules.count();
  await page.click('button:text("Add a reward")');
  await rules.nth(before).getByLabel('Amount').fill('25');
  await rules.nth(before).getByLabel('Up to friend no.').fill('3');
  await page.click('button:text("Add a reward")');
  await rules.nth(before + 1).getByLabel('Who gets it').selectOption('referred');
  await rules.nth(before + 1).getByLabel('Kind').selectOption('free_month');
  await rules.nth(before + 1).getByLabel('In words').fill('A month of classes on us');
  await axeCheck(page, 'settings with reward rules');
  await page.click('button:text("Save settings")');
  await saved(page);
  let p = await program(id);
  assert.equal(p.name, 'Yoga Studio Plus');
  assert.equal(p.qualification.hold_days, 7);
  const added = p.rewards.slice(before).map((r) => [r.to, r.kind, r.amount, r.currency, r.to_count, r.description]);
  assert.deepEqual(added, [['referrer', 'credit', 2500, 'USD', 3, null], ['referred', 'free_month', null, null, null, 'A month of classes on us']]);

  await tab(page, '/admin/settings/tracks', 'Tracks and levels');
  await page.click('button:text("Add a track")');
  const track = page.locator('.track').first();
  await track.getByLabel('Name').first().fill('Connector');
  await track.getByLabel('Id').first().fill('connector');
  const level = track.locator('fieldset.level').first();
  await level.getByLabel('Name').fill('Friend of the Studio');
  await level.getByLabel('Id').fill('friend');
  await level.locator('button:text("Add a grant")').click();
  await page.locator('.track fieldset.level').first().getByLabel('Description').fill('A founding-friend badge');
  await page.locator('.track').first().locator('button:text("Add a level")').click();
  const second = page.locator('.track fieldset.level').nth(1);
  await second.getByLabel('Name').fill('Studio Guide');
  await second.getByLabel('Id').fill('guide');
  await second.getByLabel('Reached at').fill('5');
  await second.getByLabel('An owner approves this level').check();
  await second.locator('button:text("Add a grant")').click();
  await page.locator('.track fieldset.level').nth(1).getByLabel('Grant').selectOption('role');
  await page.locator('.track fieldset.level').nth(1).getByLabel('Role').fill('studio_guide');
  await axeCheck(page, 'tracks');
  await page.click('button:text("Save settings")');
  await saved(page);
  p = await program(id);
  assert.equal(p.tracks.length, 1);
  assert.equal(p.tracks[0].name, 'Connector');
  assert.deepEqual(p.tracks[0].levels.map((l) => [l.id, l.at, l.approval]), [['friend', 1, 'auto'], ['guide', 5, 'owner']]);
  assert.equal(p.tracks[0].levels[0].grants[0].description, 'A founding-friend badge');
  assert.equal(p.tracks[0].levels[1].grants[0].role, 'studio_guide');

  await tab(page, '/admin/settings/asks', 'Asks');
  await page.getByLabel('Ask at moments').check();
  await page.getByLabel('Days between two asks').fill('21');
  await axeCheck(page, 'asks');
  await page.click('button:text("Save settings")');
  await saved(page);
  p = await program(id);
  assert.equal(p.asks.enabled, true);
  assert.equal(p.asks.min_days_between, 21);

  await tab(page, '/admin/settings/rituals', 'Rituals');
  await page.getByLabel('Send each person a monthly digest of their month').check();
  await page.getByLabel('Give spotlight winners a reward').check();
  await page.getByLabel('Description').fill('A handwritten card');
  await axeCheck(page, 'rituals');
  await page.click('button:text("Save settings")');
  await saved(page);
  p = await program(id);
  assert.equal(p.rituals.digest, true);
  assert.equal(p.rituals.spotlight_reward.description, 'A handwritten card');

  await tab(page, '/admin/settings/landing', 'Landing and public page');
  await page.getByLabel('Landing').selectOption('page');
  await page.getByLabel('Publish the program\'s page').check();
  await axeCheck(page, 'landing');
  await page.click('button:text("Save settings")');
  await saved(page);
  p = await program(id);
  assert.equal(p.landing, 'page');
  assert.equal(p.public_page, true);

  await tab(page, '/admin/settings/templates', 'Messages');
  await page.getByLabel('Message').selectOption('referral_rewarded_referrer');
  await page.waitForFunction(() => /Because of you, Sam is now part of Yoga Studio Plus/.test(document.querySelector('.preview-body').textContent));
  assert.equal(await page.textContent('.preview-subject'), 'A thank-you from Yoga Studio Plus');
  await axeCheck(page, 'messages');
  await page.getByLabel('Text').fill('Thank you {{first_name}}, from all of us at {{program_name}}.');
  await page.waitForFunction(() => document.querySelector('.preview-body').textContent === 'Thank you Jane, from all of us at Yoga Studio Plus.');
  await page.getByLabel('Subject').fill('For you, {{nobody}}');
  await page.waitForSelector('.preview .error:text("unknown placeholder {{nobody}}")');
  await page.getByLabel('Subject').fill('For you, {{first_name}}');
  await page.waitForFunction(() => document.querySelector('.preview-subject').textContent === 'For you, Jane');
  await page.click('button:text("Save message")');
  await saved(page);
  p = await program(id);
  assert.deepEqual(p.templates.referral_rewarded_referrer, { subject: 'For you, {{first_name}}', body: 'Thank you {{first_name}}, from all of us at {{program_name}}.' });
  await page.getByLabel('Message').selectOption('share_sms');
  await page.waitForFunction(() => /I've been enjoying Yoga Studio Plus/.test(document.querySelector('.preview-body').textContent));
  assert.ok(await page.locator('label:text-is("Subject")').isHidden());

  await tab(page, '/admin/settings/fulfilment', 'Reward delivery');
  await page.getByLabel('gift', { exact: true }).selectOption('claim');
  await page.getByLabel('cash', { exact: true }).selectOption('payout');
  await page.getByLabel('credit', { exact: true }).selectOption('stripe_balance');
  await page.getByLabel('New Stripe API key').fill('sk_test_abcdefgh1234');
  await axeCheck(page, 'reward delivery');
  await page.click('button:text("Save settings")');
  await saved(page);
  p = await program(id);
  assert.equal(p.fulfilment.gift, 'claim');
  assert.equal(p.fulfilment.cash, 'payout');
  assert.equal(p.stripe_api_key, '...1234');
  await tab(page, '/admin/settings', 'Program settings');
  await tab(page, '/admin/settings/fulfilment', 'Reward delivery');
  await page.waitForSelector('strong:text("set, ending 1234")');
  assert.ok(!(await page.content()).includes('abcdefgh'));
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('owner imports resources from CSV, edits one and sees its performance', async () => {
  const story = await seedStory(k);
  const { ctx, page, problems } = await newPage(owner);
  await page.selectOption('.picker select', story.program.id);
  await visit(page, '/admin/resources', 'Resources');
  await page.waitForSelector('.empty:text("No resources yet")');
  await page.getByLabel('Or paste the rows').fill('slug,title,kind,url,collection,description,gated\nstarter,Starter guide,guide,https://example.com/starter,,,false\nmats,Mats,nope,https://example.com/mats,,,false\n');
  await page.click('button:text-is("Import")');
  await page.waitForSelector('.error:text("Nothing was imported")');
  assert.match(await page.textContent('ul.flags'), /Line 3 \(kind\)/);
  assert.equal((await k.api('GET', '/v1/resources?program=' + story.program.id)).json.data.length, 0);
  await page.getByLabel('Or paste the rows').fill('slug,title,kind,url,collection,description,gated\nstarter,Starter guide,guide,https://example.com/starter,,,false\nmats,Our mats,collection,https://example.com/mats,Shop,,false\n');
  await page.click('button:text-is("Import")');
  await page.waitForSelector('.ok:text("2 created, 0 updated.")');
  await page.waitForSelector('table a:text("Our mats")');
  await axeCheck(page, 'resources');
  const click = await fetch(k.base + '/r/' + story.jane.code + '/starter', { redirect: 'manual', headers: { 'User-Agent': PERSON_UA } });
  assert.equal(click.status, 302);
  /* Clicks are written in batches: wait until the metrics count it. */
  await poll(async () => {
    const m = (await k.api('GET', '/v1/metrics?program=' + story.program.id)).json;
    return m.by_resource && m.by_resource.starter && m.by_resource.starter.clicks === 1;
  }, 'the resource click in the metrics');
  await page.click('table a:text("Starter guide")');
  await page.waitForSelector('h1:text-is("Starter guide")');
  await page.waitForSelector('.stat-n');
  assert.equal(await page.locator('.stat-n').first().textContent(), '1');
  await axeCheck(page, 'resource');
  await page.getByLabel('Title').fill('The starter guide');
  await page.getByLabel('Ask for an e-mail before opening it (a lead page)').check();
  await page.click('button:text-is("Save")');
  await page.waitForSelector('h1:text-is("The starter guide")');
  const r = (await k.api('GET', '/v1/resources/starter?program=' + story.program.id)).json;
  assert.equal(r.title, 'The starter guide');
  assert.equal(r.gated, true);
  await page.click('a:text("All resources")');
  await page.click('a:text("Add a resource")');
  await page.waitForSelector('h1:text-is("New resource")');
  await page.getByLabel('Title').fill('Spring retreat');
  assert.equal(await page.getByLabel('Slug').inputValue(), 'spring-retreat');
  await page.getByLabel('Kind').selectOption('event');
  await page.getByLabel('Address').fill('https://example.com/retreat');
  await page.click('button:text("Add the resource")');
  await page.waitForSelector('h1:text-is("Spring retreat")');
  page.once('dialog', (d) => d.accept());
  await page.click('button:text("Archive")');
  await page.waitForSelector('h1:text-is("Resources")');
  assert.equal((await k.api('GET', '/v1/resources/spring-retreat?program=' + story.program.id)).json.status, 'archived');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a resource whose slug is "new" opens at its own address; the form has an address no slug can take', async () => {
  const prog = await seedProgram(k);
  const r = await k.api('POST', '/v1/resources', { program: prog.id, slug: 'new', title: 'Called new', kind: 'guide',
    url: 'https://example.com/called-new' });
  assert.equal(r.status, 201, r.text);
  const { ctx, page, problems } = await newPage(owner);
  if (await page.locator('.picker select').count()) await page.selectOption('.picker select', prog.id);
  /* From the list: its page, not the form. */
  await visit(page, '/admin/resources', 'Resources');
  await page.click('table a:text("Called new")');
  await page.waitForSelector('h1:text-is("Called new")');
  assert.equal(new URL(page.url()).pathname, '/admin/resources/new');
  assert.equal(await page.getByLabel('Slug').inputValue(), 'new');
  assert.ok(await page.getByLabel('Slug').isDisabled(), 'a slug cannot change');
  await page.waitForSelector('.stat-n');
  await page.waitForSelector('button:text("Archive")');
  /* Directly, the address loaded anew. */
  await page.goto(k.base + '/admin/resources/new');
  await page.waitForSelector('h1:text-is("Called new")');
  await page.waitForSelector('button:text-is("Save")');
  assert.equal(await page.locator('button:text("Add the resource")').count(), 0, 'its page, not the form');
  /* The list's button leads to the form, at its own address, under Resources. */
  await page.click('a:text("All resources")');
  await page.click('a:text("Add a resource")');
  await page.waitForSelector('h1:text-is("New resource")');
  assert.equal(new URL(page.url()).pathname, '/admin/new-resource');
  assert.equal(await page.getAttribute('#nav a[href="/admin/resources"]', 'aria-current'), 'page');
  assert.equal(await page.getByLabel('Slug').inputValue(), '');
  await axeCheck(page, 'new resource');
  await page.reload();
  await page.waitForSelector('h1:text-is("New resource")');
  await page.waitForSelector('button:text("Add the resource")');
  assert.equal(await page.getAttribute('#nav a[href="/admin/resources"]', 'aria-current'), 'page');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('owner works the community: leaderboard, a spotlight published, roles, activities', async () => {
  const story = await seedStory(k);
  const pid = story.program.id;
  const board = (await k.api('GET', '/v1/leaderboard?program=' + pid)).json.data;
  const maya = board.find((e) => e.display_name === 'Maya');
  assert.equal((await k.api('PATCH', '/v1/participants/' + maya.participant, { preferences: { spotlight_opt_in: true } })).status, 200);
  const month = (await k.api('GET', '/v1/test/clock')).json.now.slice(0, 7);
  const { ctx, page, problems } = await newPage(owner);
  await page.selectOption('.picker select', pid);
  await visit(page, '/admin/community', 'Leaderboard');
  await page.waitForSelector('table a:text("Maya")');
  assert.equal(await page.locator('tbody tr').count(), 3);
  await axeCheck(page, 'leaderboard');

  await tab(page, '/admin/community/spotlights', 'Spotlights');
  await page.getByLabel('Month (YYYY-MM)').fill(month);
  await page.click('button:text("Draft a spotlight")');
  await page.waitForSelector('h2:text("' + month + ' · draft")');
  await axeCheck(page, 'spotlights');
  await page.locator('fieldset.level').first().getByLabel(/^Maya/).check();
  await page.getByLabel('Note for Maya').first().fill('Three friends this month');
  await page.click('button:text("Publish")');
  await page.waitForSelector('h2:text("' + month + ' · published")');
  assert.match(await page.textContent('article ul.flags'), /Maya — Three friends this month/);
  const spl = (await k.api('GET', '/v1/spotlights?program=' + pid)).json.data[0];
  assert.equal(spl.status, 'published');
  assert.equal(spl.winners[0].participant, maya.participant);

  await tab(page, '/admin/community/roles', 'Roles');
  await page.waitForSelector('.empty:text("Nobody holds a role yet")');
  await page.getByLabel('Their e-mail').fill(story.jane.email);
  await page.getByLabel('Role', { exact: true }).fill('community_guide');
  await page.click('button:text("Give the role")');
  await page.waitForSelector('td:text("community_guide")');
  await axeCheck(page, 'roles');
  assert.deepEqual((await k.api('GET', '/v1/participants/' + story.jane.id)).json.roles.map((r) => r.role), ['community_guide']);
  await page.click('button[aria-label="Revoke community_guide from Jane"]');
  await page.waitForSelector('.empty:text("Nobody holds a role yet")');
  assert.deepEqual((await k.api('GET', '/v1/participants/' + story.jane.id)).json.roles, []);

  await tab(page, '/admin/community/activities', 'Activities');
  await page.getByLabel('Their external id').fill(story.jane.external_id);
  await page.getByLabel('Type', { exact: true }).last().fill('testimonial');
  await page.getByLabel('Note').fill('A lovely review on the blog');
  await page.click('button:text("Record")');
  await page.waitForSelector('td:text("A lovely review on the blog")');
  assert.equal(await page.textContent('tbody tr td >> nth=0'), 'Jane');
  await axeCheck(page, 'activities');
  page.once('dialog', (d) => d.accept('posted twice'));
  await page.click('tbody button:text("Void")');
  await page.waitForSelector('td:text-is("voided")');
  const acts = (await k.api('GET', '/v1/activities?program=' + pid)).json.data;
  assert.equal(acts[0].status, 'voided');
  assert.equal(acts[0].reason, 'posted twice');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('owner adds a webhook endpoint, sees its deliveries, retries one, and sets provider secrets', async () => {
  const prog = await seedProgram(k);
  const { ctx, page, problems } = await newPage(owner);
  await page.selectOption('.picker select', prog.id);
  await visit(page, '/admin/integrations', 'Webhooks');
  await axeCheck(page, 'webhooks');
  await page.getByLabel('Address').fill(receiver.url + '/hook');
  await page.getByLabel('Note').fill('Local CRM');
  await page.click('summary:text("Events: all, unless you choose some")');
  await page.getByLabel('participant.created').check();
  await page.click('button:text("Add endpoint")');
  await page.waitForSelector('.notice code');
  assert.match(await page.textContent('.notice code'), /^whsec_/);
  await page.click('table a:text("' + receiver.url + '/hook")');
  await page.waitForSelector('h1:text-is("Webhook endpoint")');
  await page.waitForSelector('.empty:text("Nothing delivered yet.")');
  await participant(k, prog.id, 'Wren');
  await poll(async () => {
    await page.click('button:text("Refresh")');
    await page.waitForTimeout(300);
    return (await page.locator('td:text("participant.created")').count()) > 0;
  }, 'a delivery in the log');
  assert.match(await page.textContent('tbody'), /200 in \d+ ms/);
  await axeCheck(page, 'webhook endpoint');
  const msg = (await page.textContent('tbody td code')).trim();
  const before = receiver.got.filter((g) => g.headers['webhook-id'] === msg).length;
  await page.click('button[aria-label="Retry ' + msg + '"]');
  await poll(async () => receiver.got.filter((g) => g.headers['webhook-id'] === msg).length > before, 'the retried delivery');
  await page.click('button:text("Pause")');
  await page.waitForSelector('button:text("Turn back on")');

  await tab(page, '/admin/integrations/providers', 'Stripe and Shopify');
  assert.match(await page.textContent('section[aria-label="Stripe"] code'), new RegExp('/v1/integrations/stripe/' + prog.id + '$'));
  assert.match(await page.textContent('section[aria-label="Shopify"] code'), new RegExp('/v1/integrations/shopify/' + prog.id + '$'));
  await axeCheck(page, 'providers');
  await page.locator('section[aria-label="Stripe"]').getByLabel('New signing secret').fill('whsec_test_secret_9876');
  await page.locator('section[aria-label="Stripe"] button:text("Save secret")').click();
  await page.waitForSelector('section[aria-label="Stripe"] strong:text("set, ending 9876")');
  assert.equal((await program(prog.id)).stripe_webhook_secret, '...9876');
  assert.ok(!(await page.content()).includes('secret_9876'));
  assert.deepEqual(problems, []);
  await ctx.close();
});

let fulfilProg = null;
test('owner sees fulfilment, retries a failed one, marks a claim delivered and pays the payout queue', async () => {
  const prog = await seedProgram(k, {
    landing: 'redirect', qualification: { event: 'purchase', hold_days: 0 },
    rewards: [{ to: 'referrer', kind: 'credit', amount: 2500, currency: 'USD' }, { to: 'referred', kind: 'gift', description: 'A tote bag' }],
    fulfilment: { credit: 'stripe_balance', gift: 'claim' }, stripe_api_key: 'sk_test_standin_0000',
    claim_form: { gift: [{ name: 'size', type: 'choice', label: 'Size', choices: ['S', 'M', 'L'], required: true }] },
  });
  fulfilProg = prog.id;
  const jane = await participant(k, prog.id, 'Jane');
  const friend = await signup(k, prog.id, jane.code, 'Sam');
  const ev = await purchase(k, prog.id, friend.participant.external_id);
  const credit = ev.rewards.find((w) => w.to === 'referrer');
  const gift = ev.rewards.find((w) => w.to === 'referred');
  await poll(async () => (await k.api('GET', '/v1/rewards/' + credit.id)).json.fulfilment.status === 'failed', 'the credit to fail');
  const cash = await seedProgram(k, { landing: 'redirect', qualification: { event: 'purchase', hold_days: 0 },
    rewards: [{ to: 'referrer', kind: 'cash', amount: 1000, currency: 'USD' }], fulfilment: { cash: 'payout' } });
  const ann = await participant(k, cash.id, 'Ann');
  const bo = await signup(k, cash.id, ann.code, 'Bo');
  const paidOut = (await purchase(k, cash.id, bo.participant.external_id)).rewards[0];

  const { ctx, page, problems } = await newPage(owner);
  await page.selectOption('.picker select', prog.id);
  await visit(page, '/admin/rewards', 'Rewards');
  await page.waitForSelector('.pill-failed');
  assert.match(await page.textContent('tbody'), /No such customer/);
  /* A reward delivered through Stripe can be voided here: one line says that voiding stops only
   * what has not reached Stripe, and that reward's Void button points at it; the gift's does not. */
  const voidNote = page.locator('#void-stripe-note');
  assert.equal(await voidNote.textContent(), 'Voiding stops a Stripe delivery only if nothing has been sent to Stripe yet. ' +
    'One already sent still completes; undo it in Stripe if you need to.');
  assert.ok(await voidNote.isVisible());
  const rowOf = (id) => page.locator('tbody tr', { has: page.locator('a[href="/admin/rewards/' + id + '"]') });
  assert.equal(await rowOf(credit.id).locator('button:text-is("Void")').getAttribute('aria-describedby'), 'void-stripe-note');
  assert.equal(await rowOf(gift.id).locator('button:text-is("Void")').getAttribute('aria-describedby'), null);
  await axeCheck(page, 'rewards with fulfilment');
  /* On a phone the list is cards, and a long delivery status ("waiting for their answer")
   * wraps inside its card instead of widening the page. */
  const desk = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const fit = await page.evaluate(() => ({ page: document.documentElement.scrollWidth,
    pills: Array.from(document.querySelectorAll('tbody .pill')).map((p) => [p.textContent, p.getBoundingClientRect().right,
      p.closest('tr').getBoundingClientRect().right]) }));
  assert.ok(fit.page <= 390, 'the rewards list is ' + fit.page + ' px wide on a 390 px phone');
  assert.ok(fit.pills.some(([text]) => text === 'waiting for their answer'), JSON.stringify(fit.pills));
  for (const [text, right, card] of fit.pills) assert.ok(right <= card, text + ' sticks out of its card: ' + right + ' > ' + card);
  await page.setViewportSize(desk);
  /* The friend answers the claim; the list says so. */
  assert.equal((await k.api('POST', '/v1/rewards/' + gift.id + '/claim', { answers: { size: 'M' } })).status, 200);
  await visit(page, '/admin/rewards', 'Rewards');
  await page.waitForSelector('.pill:text("answered: to deliver")');
  stripeMode.fail = false;
  await page.click('button[aria-label="Retry delivery of ' + credit.id + '"]');
  await poll(async () => (await k.api('GET', '/v1/rewards/' + credit.id)).json.fulfilment.status === 'done', 'the retried credit');
  await page.click('a:text("See the claim")');
  await page.waitForSelector('h2:text("What they sent")');
  assert.match(await page.textContent('section[aria-label="Claim"]'), /Size\s*M/);
  await axeCheck(page, 'reward with claim');
  await page.click('button:text("Mark delivered")');
  await page.waitForSelector('p.lead:text("Delivered")');
  assert.equal((await k.api('GET', '/v1/rewards/' + gift.id)).json.fulfilment.status, 'done');

  await page.click('a:text("All rewards")');
  await page.waitForSelector('#void-stripe-note');
  await page.selectOption('.picker select', cash.id);
  /* No reward of this program goes through Stripe: no such line. */
  await page.waitForSelector('tbody a:text("Ann")');
  assert.equal(await page.locator('#void-stripe-note').count(), 0);
  await tab(page, '/admin/payouts', 'Payout queue');
  await page.waitForSelector('td:text("' + ann.email + '")');
  await axeCheck(page, 'payouts');
  const href = await page.getAttribute('a:text("Download the PayPal CSV")', 'href');
  const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  assert.equal(csv, ann.email + ',10.00,USD,' + paidOut.id + ',' + cash.name + ' referral reward\r\n');
  await page.getByLabel('Select 10.00 USD for Ann').check();
  await page.click('button:text("Mark selected paid")');
  await page.waitForSelector('.empty:text("No payouts are waiting.")');
  assert.equal((await k.api('GET', '/v1/rewards/' + paidOut.id)).json.status, 'redeemed');
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('a reviewer reads every screen, decides referrals, and can change nothing else', async () => {
  const progs = (await k.api('GET', '/v1/programs')).json.data;
  const prog = progs[progs.length - 1].id;
  const ip = '198.51.100.44';
  const rita = await participant(k, prog, 'Rina', { ip, device_id: 'dev-q' });
  const r = await k.api('POST', '/v1/signups', { program: prog, external_id: 'q-1', first_name: 'Quin',
    ref: rita.code, ip, device_id: 'dev-q' });
  assert.equal(r.json.referral.status, 'review');
  const ctx = await browser.newContext({ userAgent: PERSON_UA });
  const page = await ctx.newPage();
  const problems = await watch(page, k.base);
  await signIn(page, k, reviewer);
  await page.selectOption('select', prog);
  await visit(page, '/admin/settings', 'Program settings');
  assert.equal(await page.locator('button:text("Save settings")').count(), 0);
  assert.ok(await page.locator('#main input >> nth=0').isDisabled());
  await visit(page, '/admin/integrations', 'Webhooks');
  await tab(page, '/admin/keys', 'API keys');
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

  /* Every other screen: readable, its owner-only actions absent, the forms read-only. */
  await page.selectOption('.picker select', 'yoga-studio');
  await visit(page, '/admin/settings', 'Program settings');
  for (const [path, heading] of [['/admin/settings/tracks', 'Tracks and levels'], ['/admin/settings/asks', 'Asks'],
    ['/admin/settings/rituals', 'Rituals'], ['/admin/settings/landing', 'Landing and public page'], ['/admin/settings/fulfilment', 'Reward delivery']]) {
    await tab(page, path, heading);
    await page.waitForSelector('form.card');
    assert.equal(await page.locator('button:text("Save settings")').count(), 0, heading);
    assert.equal(await page.locator('form.card input:not([disabled]), form.card select:not([disabled]), form.card textarea:not([disabled])').count(), 0, heading);
    assert.equal(await page.locator('.track button, button:text("Add a track")').count(), 0, heading);
    await page.waitForSelector('.notice-soft:text("signed in as a reviewer")');
  }
  await axeCheck(page, 'reviewer settings');
  /* The preview is a read: the reviewer sees it; the text cannot be changed or saved. */
  await tab(page, '/admin/settings/templates', 'Messages');
  await page.getByLabel('Message').selectOption('referral_rewarded_referrer');
  await page.waitForFunction(() => document.querySelector('.preview-body').textContent === 'Thank you Jane, from all of us at Yoga Studio Plus.');
  assert.ok(await page.getByLabel('Text').isDisabled());
  assert.equal(await page.locator('button:text("Save message")').count(), 0);
  await visit(page, '/admin/resources', 'Resources');
  await page.waitForSelector('.table-wrap, .empty');
  assert.equal(await page.locator('a:text("Add a resource"), button:text-is("Import")').count(), 0);
  await visit(page, '/admin/community', 'Leaderboard');
  await tab(page, '/admin/community/spotlights', 'Spotlights');
  await page.waitForSelector('article, .empty');
  assert.equal(await page.locator('button:text("Draft a spotlight"), button:text("Publish")').count(), 0);
  await tab(page, '/admin/community/roles', 'Roles');
  await page.waitForSelector('.table-wrap, .empty');
  assert.equal(await page.locator('button:text("Give the role"), button:text("Revoke")').count(), 0);
  await tab(page, '/admin/community/activities', 'Activities');
  await page.waitForSelector('.table-wrap, .empty');
  assert.equal(await page.locator('button:text("Record"), tbody button:text("Void")').count(), 0);
  await visit(page, '/admin/integrations', 'Webhooks');
  await page.waitForSelector('.table-wrap, .empty');
  assert.equal(await page.locator('button:text("Add endpoint")').count(), 0);
  await page.locator('tbody a').first().click();
  await page.waitForSelector('h1:text-is("Webhook endpoint")');
  await page.waitForSelector('tbody tr');
  assert.equal(await page.locator('button:text("Pause"), button:text("Turn back on"), button:text("Remove"), tbody button:text("Retry")').count(), 0);
  await tab(page, '/admin/integrations/providers', 'Stripe and Shopify');
  assert.equal(await page.locator('button:text("Save secret")').count(), 0);
  await page.selectOption('.picker select', fulfilProg);
  await visit(page, '/admin/rewards', 'Rewards');
  await page.waitForSelector('tbody tr');
  assert.equal(await page.locator('tbody button').count(), 0);
  assert.equal(await page.locator('#void-stripe-note').count(), 0, 'a reviewer voids nothing');
  await tab(page, '/admin/payouts', 'Payout queue');
  assert.equal(await page.locator('button:text("Mark selected paid"), tbody input[type=checkbox]').count(), 0);
  await axeCheck(page, 'reviewer payouts');

  /* And the server refuses what the screens do not offer. */
  const rewardId = (await k.api('GET', '/v1/rewards?program=' + fulfilProg)).json.data[0].id;
  const refused = await page.evaluate(async (args) => {
    const h = { 'Content-Type': 'application/json', 'X-Kith-CSRF': localStorage.getItem('kith_csrf') };
    const out = [];
    for (const [m, u, b] of args) out.push((await fetch(u, { method: m, headers: h, body: JSON.stringify(b) })).status);
    return out;
  }, [['PATCH', '/v1/programs/yoga-studio', { name: 'x' }],
    ['PATCH', '/v1/programs/yoga-studio', { templates: { share_sms: { body: 'x' } } }],
    ['POST', '/v1/resources', { program: 'yoga-studio', slug: 'x', title: 'X', kind: 'guide', url: 'https://example.com/x' }],
    ['POST', '/v1/spotlights', { program: 'yoga-studio', period: '2026-11' }],
    ['POST', '/v1/webhook_endpoints', { url: 'https://example.com/hook' }],
    ['POST', '/v1/rewards/' + rewardId + '/fulfilment/retry', {}],
    ['POST', '/v1/rewards/' + rewardId + '/fulfilment/delivered', {}],
    ['POST', '/v1/payouts/mark_paid', { rewards: [rewardId] }],
    ['POST', '/v1/programs/yoga-studio/templates/preview', { name: 'share_sms' }]]);
  assert.deepEqual(refused, [403, 403, 403, 403, 403, 403, 403, 403, 200]);
  assert.deepEqual(problems, []);
  await ctx.close();
});

test('every screen\'s link is in sight: on lines of their own on a phone, one line on a desktop', async () => {
  for (const [w, h] of [[390, 844], [1280, 800]]) {
    const { ctx, page, problems } = await dashboardPage(browser, k, owner, { viewport: { width: w, height: h } });
    await visit(page, '/admin/settings', 'Program settings');
    const nav = await page.evaluate(() => {
      const n = document.getElementById('nav');
      return { scroll: n.scrollWidth, width: n.clientWidth, links: Array.from(n.querySelectorAll('a')).map((a) => {
        const r = a.getBoundingClientRect();
        return { text: a.textContent, left: r.left, right: r.right, top: r.top };
      }) };
    });
    assert.equal(nav.links.length, 11);
    assert.ok(nav.scroll <= nav.width, w + ' px: the links scroll sideways (' + nav.scroll + ' px in ' + nav.width + ')');
    for (const l of nav.links) assert.ok(l.left >= 0 && l.right <= w, w + ' px: ' + l.text + ' is cut at the edge: ' + JSON.stringify(l));
    const lines = new Set(nav.links.map((l) => Math.round(l.top))).size;
    if (w === 1280) assert.equal(lines, 1, 'one line on a desktop');
    else assert.ok(lines > 1, 'wrapped on a phone');
    assert.equal(await page.getAttribute('#nav a[href="/admin/settings"]', 'aria-current'), 'page');
    await axeCheck(page, 'the screens\' links at ' + w + ' px');
    assert.deepEqual(problems, []);
    await ctx.close();
  }
});
