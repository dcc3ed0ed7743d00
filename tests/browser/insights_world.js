'use strict';
/*
 * insights_world.js: a small program with six weeks of history on the test clock, for the
 * health, forecast and experiments screens (tests/browser/admin_experiments.js and
 * tests/browser/insights_screenshots.js). Each week two new people share their links (counted
 * clicks), friends sign up through them, most buy and one asks for a refund; a friend brings a
 * friend of their own (the viral cycle); organic customers join and buy; one signup from the
 * sharer's own device goes to review. Then the clock moves into a seventh week, so that the
 * forecast has six complete weeks to learn from. Only lib.js helpers and the public API.
 */
const { seedProgram, participant, signup, purchase, PERSON_UA } = require('./lib');

const DAY = 86400;
/* A Monday, 09:00 UTC: the world's first week is 2026-W37. */
const START = '2026-09-07T09:00:00Z';

async function settleClicks(k) {
  for (let i = 0; i < 200; i++) {
    const r = await fetch(k.base + '/metrics');
    const m = (await r.text()).match(/^kith_clicks_buffered (\d+)/m);
    if (m && m[1] === '0') return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('clicks never settled');
}

async function click(k, code, n) {
  for (let i = 0; i < n; i++) {
    await fetch(k.base + '/r/' + code, { redirect: 'manual', headers: { 'User-Agent': PERSON_UA } });
  }
}

async function buildWorld(k) {
  await k.api('POST', '/v1/test/clock', { now: START });
  const prog = await seedProgram(k, {
    average_customer_value: 20000,
    qualification: { event: 'purchase', hold_days: 0 },
    rewards: [
      { to: 'referrer', kind: 'credit', amount: 2000, currency: 'USD' },
      { to: 'referred', kind: 'credit', amount: 500, currency: 'USD' },
    ],
    fraud: { review_at: 2, reject_at: 5, velocity_per_day: 1000, new_account_hours: 0 },
  });
  const pid = prog.id;
  const names = ['Jane', 'Maya', 'Tom', 'Ines', 'Kofi', 'Lea', 'Noor', 'Ravi', 'Zoe', 'Sam', 'Priya', 'Alex'];
  const sharers = [];
  for (let w = 0; w < 6; w++) {
    const adv = (s) => k.api('POST', '/v1/test/clock', { advance_seconds: s });
    for (let j = 0; j < 2; j++) {
      const p = await participant(k, pid, names[(w * 2 + j) % names.length], { ip: '203.0.113.' + (w * 2 + j + 1), device_id: 'dev-' + w + '-' + j });
      sharers.push(p);
    }
    await adv(DAY);
    const a = sharers[sharers.length - 2], b = sharers[sharers.length - 1];
    await click(k, a.code, 2 + (w % 2));
    await click(k, b.code, 1);
    await settleClicks(k);
    const friends = [];
    for (let i = 0; i < 2 + (w % 3); i++) friends.push(await signup(k, pid, (i % 2 ? b : a).code, 'Friend' + w + i));
    await adv(DAY);
    for (let i = 0; i < friends.length; i++) {
      if (i === friends.length - 1 && w % 2) continue;
      await purchase(k, pid, friends[i].participant.external_id);
    }
    if (w === 2) {
      await k.api('POST', '/v1/events', { program: pid, type: 'refund', external_id: friends[0].participant.external_id, amount: 4000, currency: 'USD' });
    }
    if (w === 1) {
      /* A friend becomes a sharer: their own friend, three days after they joined. */
      await adv(DAY);
      await click(k, friends[0].participant.code, 1);
      await settleClicks(k);
      const ff = await signup(k, pid, friends[0].participant.code, 'Second' + w);
      await purchase(k, pid, ff.participant.external_id);
    }
    if (w === 3) {
      /* From the sharer's own address and device: a second look. */
      await k.api('POST', '/v1/signups', { program: pid, external_id: 'same-dev-' + w, first_name: 'Echo', ref: a.code, ip: '203.0.113.' + (w * 2 + 1), device_id: 'dev-' + w + '-0' });
    }
    const o = await participant(k, pid, 'Organic' + w);
    if (w % 2 === 0) await purchase(k, pid, o.external_id);
    const now = (await k.api('GET', '/v1/test/clock')).json.now;
    const toMonday = 7 * DAY - ((Date.parse(now) - Date.parse(START)) / 1000) % (7 * DAY);
    await adv(toMonday);
  }
  await k.api('POST', '/v1/test/clock', { advance_seconds: 2 * DAY });
  return { program: prog, sharers };
}

/* Friends who sign up through referrers while an experiment runs, and buy. Returns the
 * referrers made. */
async function driveSignups(k, pid, n = 8) {
  const made = [];
  for (let i = 0; i < n; i++) {
    const p = await participant(k, pid, 'Exp' + i);
    made.push(p);
    for (let j = 0; j < 1 + (i % 3); j++) {
      const s = await signup(k, pid, p.code, 'ExpFriend' + i + j);
      if ((i + j) % 2 === 0) await purchase(k, pid, s.participant.external_id);
    }
  }
  return made;
}

module.exports = { buildWorld, driveSignups, settleClicks, START, DAY };
