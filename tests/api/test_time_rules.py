"""Time-based rules that must not depend on when the sweeper last ran (contract sections 2, 5, 6,
7, 8): a referral past its window never qualifies, a reward past its expiry is neither redeemed
nor voided, a decision meets a referral as time has made it, the attribution window follows
cookie_days until it is given, and velocity and sequential_email count only earlier referrals.

The test clock is frozen, and every clock move sweeps before it answers, so a row past one of
its times without a sweep comes from a signup or event dated back with occurred_at. The server's
own sweeper still runs once a second and may get there first: every assertion holds either way
(that is the rule under test), and without the rule most runs fail.
"""

import datetime as dt
import unittest

import kithtest
from kithtest import KithTestCase, fmt_time, uid
from test_webhooks import ALLOW_ENV, Receiver, wait_until

DAY = 86400
HOUR = 3600
CREDIT = {"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD"}
MONTH = {"to": "referred", "kind": "free_month", "description": "Your first month on us"}
QUIET = {"review_at": 8, "reject_at": 9, "new_account_hours": 0}


class TimeRulesTest(KithTestCase):
    server_kwargs = {"test_clock": True, "env": ALLOW_ENV}

    @classmethod
    def setUpClass(cls):
        cls.rcv = Receiver()
        super().setUpClass()
        cls.hook = cls.rcv.new_path()
        r = cls.s.post("/v1/webhook_endpoints", {"url": cls.rcv.url(cls.hook)})
        if r.status != 201:
            raise AssertionError("webhook endpoint: %r" % r)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rcv.close()

    # ---- helpers ---------------------------------------------------------------------------------
    def ago(self, seconds):
        return fmt_time(self.s.clock_now() - dt.timedelta(seconds=seconds))

    def later(self, seconds):
        return fmt_time(self.s.clock_now() + dt.timedelta(seconds=seconds))

    def referrer(self, prog, **kw):
        """Jane, a participant for two weeks already, so signups can be dated back past her."""
        jane = self.s.make_participant(prog["id"], "Jane", **kw)
        self.s.clock_advance(14 * DAY)
        return jane

    def refer(self, prog, referrer, **kw):
        r = self.s.signup(prog["id"], ref=referrer["code"], **kw)
        self.assertStatus(r, 201)
        self.assertIsNotNone(r.body["referral"], repr(r))
        return r.body["participant"], r.body["referral"]

    def purchase(self, prog, person, **kw):
        r = self.s.event(prog["id"], person["external_id"], "purchase", **kw)
        self.assertStatus(r, 201)
        return r.body

    def hooks_for(self, obj_id):
        """The types of the webhook messages delivered about obj_id (each message once, however
        often it was delivered), after a sweep to completion."""
        self.s.clock_advance(0)
        msgs = {d.msg_id: d.type for d in self.rcv.got(self.hook)
                if ((d.json or {}).get("data") or {}).get("id") == obj_id}
        return sorted(msgs.values())

    def assertHooks(self, obj_id, wanted):
        """Exactly the messages wanted about obj_id (deliveries arrive in any order)."""
        wanted = sorted(wanted)
        wait_until(lambda: set(wanted) <= set(self.hooks_for(obj_id)))
        self.assertEqual(self.hooks_for(obj_id), wanted, "webhook messages about %s" % obj_id)

    def flags(self, referral):
        return sorted(referral["fraud"]["flags"])

    # ---- 1. contract 5: a referral past its window does not qualify --------------------------------
    def test_purchase_after_window_before_sweep_expires(self):
        prog = self.s.make_program(qualification={"within_days": 10}, rewards=[CREDIT, MONTH])
        jane = self.referrer(prog)
        sam, ref = self.refer(prog, jane, occurred_at=self.ago(11 * DAY))
        self.assertEqual(ref["expires_at"], self.ago(DAY))
        body = self.purchase(prog, sam)
        self.assertEqual(body["referral"]["id"], ref["id"])
        self.assertEqual(body["referral"]["status"], "expired")
        self.assertIsNone(body["referral"]["qualified_at"])
        self.assertEqual(body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "expired")
        self.assertEqual(self.s.rewards(program=prog["id"]), [])
        # expired once, by whoever got there first; never qualified
        self.assertHooks(ref["id"], ["referral.created", "referral.expired"])
        # and it stays so: a later purchase dated inside the window cannot revive it
        body = self.purchase(prog, sam, occurred_at=self.ago(10 * DAY))
        self.assertEqual(body["referral"]["status"], "expired")
        self.assertEqual(body["rewards"], [])

    def test_purchase_dated_after_window_does_not_qualify(self):
        prog = self.s.make_program(qualification={"within_days": 10}, rewards=[CREDIT, MONTH])
        jane = self.s.make_participant(prog["id"], "Jane")
        sam, ref = self.refer(prog, jane)
        # a purchase that says it happens after the window: not a qualification, whatever the
        # clock; the referral is not due to expire yet, so it stays pending
        body = self.purchase(prog, sam, occurred_at=self.later(10 * DAY))
        self.assertEqual(body["referral"]["status"], "pending")
        self.assertEqual(body["rewards"], [])
        body = self.purchase(prog, sam)
        self.assertEqual(body["referral"]["status"], "rewarded")
        self.assertEqual(len(body["rewards"]), 2)

    # ---- 2. contract 8: a reward past its expiry is expired ---------------------------------------
    def test_reward_past_expiry_cannot_be_redeemed_or_voided(self):
        # Dated back: the hold (1 day) ended two days ago, so the rewards were issued then and
        # their one day of life is over before anyone could look.
        rules = [dict(CREDIT, expires_days=1), dict(MONTH, expires_days=1)]
        prog = self.s.make_program(qualification={"hold_days": 1}, rewards=rules)
        jane = self.referrer(prog)
        sam, ref = self.refer(prog, jane, occurred_at=self.ago(4 * DAY))
        body = self.purchase(prog, sam, occurred_at=self.ago(3 * DAY))
        self.assertEqual(body["referral"]["status"], "rewarded")
        self.assertEqual(body["referral"]["rewarded_at"], self.ago(2 * DAY))
        self.assertEqual(len(body["rewards"]), 2)
        mine, theirs = body["rewards"]
        for rw in (mine, theirs):
            self.assertEqual(rw["status"], "expired")
            self.assertEqual(rw["issued_at"], self.ago(2 * DAY))
            self.assertEqual(rw["expires_at"], self.ago(DAY))
        r = self.s.post("/v1/rewards/%s/redeem" % mine["id"])
        self.assertError(r, 409, "invalid_state")
        r = self.s.post("/v1/rewards/%s/void" % theirs["id"])
        self.assertError(r, 409, "invalid_state")
        for rw in (mine, theirs):
            got = self.s.get("/v1/rewards/" + rw["id"])
            self.assertStatus(got, 200)
            self.assertEqual(got.body["status"], "expired")
            self.assertIsNone(got.body["redeemed_at"])
            self.assertHooks(rw["id"], ["reward.created", "reward.issued", "reward.expired"])
        self.assertEqual(len(self.s.rewards(program=prog["id"], status="expired")), 2)

    def test_reject_past_window_is_refused(self):
        prog = self.s.make_program(qualification={"within_days": 10}, rewards=[CREDIT, MONTH])
        jane = self.referrer(prog)
        _, ref = self.refer(prog, jane, occurred_at=self.ago(10 * DAY))
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "late"})
        self.assertError(r, 409, "invalid_state")
        self.assertEqual(self.s.referral(ref["id"])["status"], "expired")

    def test_approve_after_window_expires(self):
        prog = self.s.make_program(qualification={"within_days": 10}, rewards=[CREDIT, MONTH],
                                   fraud={"review_at": 1, "reject_at": 2, "new_account_hours": 0})
        dev = uid("dev")
        jane = self.referrer(prog, device_id=dev)
        # in review since before the window closed (review never expires), approved after it
        _, ref = self.refer(prog, jane, device_id=dev, occurred_at=self.ago(10 * DAY))
        self.assertEqual(ref["status"], "review")
        r = self.s.post("/v1/referrals/%s/approve" % ref["id"], {"reason": "checked"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "expired")
        self.assertEqual(self.s.referral(ref["id"])["status"], "expired")

    # ---- 3. contract 2: attribution_window_days defaults to cookie_days -----------------------------
    def test_window_follows_cookie_days_until_given(self):
        prog = self.s.make_program()
        pid = prog["id"]
        self.assertEqual((prog["cookie_days"], prog["attribution_window_days"]), (30, 30))
        r = self.s.patch("/v1/programs/" + pid, {"cookie_days": 7})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["cookie_days"], r.body["attribution_window_days"]), (7, 7))
        got = self.s.get("/v1/programs/" + pid).body
        self.assertEqual(got["attribution_window_days"], 7)
        self.assertEqual(self.s.patch("/v1/programs/" + pid,
                                      {"name": "Renamed"}).body["attribution_window_days"], 7)
        # given apart, it stays apart
        r = self.s.patch("/v1/programs/" + pid, {"attribution_window_days": 14})
        self.assertEqual((r.body["cookie_days"], r.body["attribution_window_days"]), (7, 14))
        r = self.s.patch("/v1/programs/" + pid, {"cookie_days": 3})
        self.assertEqual((r.body["cookie_days"], r.body["attribution_window_days"]), (3, 14))
        # null is the default again: following cookie_days
        r = self.s.patch("/v1/programs/" + pid, {"attribution_window_days": None})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["attribution_window_days"], 3)
        r = self.s.patch("/v1/programs/" + pid, {"cookie_days": 5})
        self.assertEqual(r.body["attribution_window_days"], 5)
        # a window given at creation stays through cookie_days changes
        apart = self.s.make_program(cookie_days=7, attribution_window_days=14)
        r = self.s.patch("/v1/programs/" + apart["id"], {"cookie_days": 10})
        self.assertEqual((r.body["cookie_days"], r.body["attribution_window_days"]), (10, 14))

    def test_window_that_follows_decides_stale_clicks(self):
        prog = self.s.make_program()
        self.assertStatus(self.s.patch("/v1/programs/" + prog["id"], {"cookie_days": 7}), 200)
        jane = self.s.make_participant(prog["id"], "Jane")
        old = self.s.click_id(jane["code"])
        self.s.clock_advance(2 * DAY)
        recent = self.s.click_id(jane["code"])
        self.s.clock_advance(6 * DAY)
        r = self.s.signup(prog["id"], click_id=old)
        self.assertStatus(r, 201)
        self.assertIsNone(r.body["referral"])
        self.assertEqual(r.body["attribution"],
                         {"source": "organic", "rejected": [{"source": "cookie", "reason": "stale_click"}]})
        r = self.s.signup(prog["id"], click_id=recent)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["attribution"], {"source": "cookie", "rejected": []})

    # ---- 4 and 5. contract 6: velocity and sequential_email count earlier referrals ----------------
    def test_velocity_counts_only_earlier_referrals(self):
        prog = self.s.make_program(fraud=dict(QUIET, velocity_per_day=1))
        jane = self.s.make_participant(prog["id"], "Jane")
        self.s.clock_advance(2 * DAY)
        _, a = self.refer(prog, jane)
        self.assertEqual(self.flags(a), [])
        # dated ten hours before a: a is not one of the referrals before it
        _, b = self.refer(prog, jane, occurred_at=self.ago(10 * HOUR))
        self.assertEqual(b["created_at"], self.ago(10 * HOUR))
        self.assertEqual(self.flags(b), [])
        self.assertEqual(b["fraud"]["score"], 0)
        # now both are before the next one
        _, c = self.refer(prog, jane)
        self.assertEqual(self.flags(c), ["velocity"])
        # dated before both: still nothing earlier in its 24 hours
        _, d = self.refer(prog, jane, occurred_at=self.ago(11 * HOUR))
        self.assertEqual(self.flags(d), [])
        # dated between b and a: b (and d) were before it
        _, e = self.refer(prog, jane, occurred_at=self.ago(5 * HOUR))
        self.assertEqual(self.flags(e), ["velocity"])

    def test_sequential_email_counts_only_earlier_referrals(self):
        prog = self.s.make_program(fraud=QUIET)
        jane = self.s.make_participant(prog["id"], "Jane")
        self.s.clock_advance(2 * DAY)
        stem = "anna"
        _, a = self.refer(prog, jane, email="%s1@mail.example" % stem)
        _, b = self.refer(prog, jane, email="%s2@mail.example" % stem)
        self.assertEqual((self.flags(a), self.flags(b)), ([], []))
        # dated an hour before a and b: they are not earlier referrals
        _, c = self.refer(prog, jane, email="%s3@mail.example" % stem,
                          occurred_at=self.ago(HOUR))
        self.assertEqual(self.flags(c), [])
        self.assertEqual(c["fraud"]["score"], 0)
        # dated between c and a: only c is earlier
        _, d = self.refer(prog, jane, email="%s4@mail.example" % stem,
                          occurred_at=self.ago(HOUR // 2))
        self.assertEqual(self.flags(d), [])
        # at now every one of them is earlier
        _, e = self.refer(prog, jane, email="%s5@mail.example" % stem)
        self.assertEqual(self.flags(e), ["sequential_email"])


if __name__ == "__main__":
    unittest.main()
