"""GET /v1/metrics (contract section 14, with the click rules of section 4).

One small world is built whose every number is known by construction, in two phases ten days
apart on the test clock, and every field of the answer is asserted for windows that hold phase
1, phase 2, both, neither, and windows whose edges fall exactly on the phases (the window is
[from, to)).

The world (program P: hold_days 2; referrer reward 2500 USD for the 1st rewarded referral and
4000 USD from the 2nd on; referred reward 999 EUR):

  Phase 1 at T0 (2035-01-10T12:00:00Z)
    referrers A, B, C, D (active), X (then blocked)
    clicks: A 3x ch=email + 1x no channel; B 2x ch=sms            -> 6 counted clicks
    not counted: A by facebookexternalhit, A by HEAD, C by Googlebot
    signups: S1, S2 cookie of A's email clicks 1, 2             (A, email)
             S3 ref=A + cookie of A's email click 3 (url wins)  (A, email)
             S4 cookie of B's sms click 1                        (B, sms)
             S5 typed code of C                                  (C, none)
             S6 ref=D                                            (D, none)
             S8 ref=A + cookie of B's sms click 2 (url wins)     (A, none)
             S7 organic (then erased), S9 ref=X after X was blocked (organic)
    purchases: S1 (A: 2500), S2 (A: 4000), S4 (B: 2500), S5 (C: 2500) -> qualified at T0
               S6 (D) purchase then refund during the hold -> back to pending, rewards voided
    clock +3 days: the hold ends, 4 x (USD reward + 999 EUR) are issued (at T0+2d..T0+3d)
  Phase 2 at T1 = T0 + 10 days
    new referrer E
    clicks: C 2x ch=qr, A 1x ch=email, E 1x no channel               -> 4 counted clicks
    not counted: C by Googlebot
    signups: S10 cookie of C's qr click (C, qr); S11 cookie of E's click (E, none);
             S12 ref=B (B, none); S13 cookie of A's phase-1 no-channel click (A, none)
    purchases: S3 (A: 4000), S10 (C: 4000), S6 again (D: 2500) -> qualified at T1
               S12 (B) purchase then rejected -> not qualified, its rewards voided
    clock +3 days: the phase-2 rewards are issued (at T1+2d..T1+3d)
    then: A's reward for S1 is redeemed (still a cost), S10's issued 999 EUR is voided (not one)

  Active, non-erased participants: 12 created at T0 (X blocked, S7 erased), 5 more at T1.
"""

import datetime as dt
import math
import urllib.parse

import kithtest
from kithtest import KithTestCase, fmt_time, uid

DAY = 86400
T0 = dt.datetime(2035, 1, 10, 12, 0, 0, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(days=10)

BOT_FACEBOOK = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
BOT_GOOGLE = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

METRICS_KEYS = {"program", "from", "to", "participants", "sharers", "participation_rate",
                "clicks", "signups", "share_to_signup_conversion", "qualified",
                "qualification_rate", "k_factor", "rewards_cost", "cost_per_qualified_referral",
                "top_5pct_share", "by_channel"}
COUNT_KEYS = ("participants", "sharers", "clicks", "signups", "qualified")


def iso(d):
    return fmt_time(d)


def ratio(num, den):
    return None if den == 0 else num / den


def expected(participants, sharers, clicks, signups, qualified, cost, cpq, top, by_channel):
    """The full expected answer (without program/from/to) from the raw counts."""
    return {
        "participants": participants,
        "sharers": sharers,
        "participation_rate": ratio(sharers, participants),
        "clicks": clicks,
        "signups": signups,
        "share_to_signup_conversion": ratio(signups, clicks),
        "qualified": qualified,
        "qualification_rate": ratio(qualified, signups),
        "k_factor": ratio(qualified, participants),
        "rewards_cost": cost,
        "cost_per_qualified_referral": cpq,
        "top_5pct_share": top,
        "by_channel": by_channel,
    }


class MetricsAsserts:
    def metrics(self, program, key="default", **params):
        q = {"program": program}
        q.update({k: v for k, v in params.items() if v is not None})
        r = self.s.get("/v1/metrics?" + urllib.parse.urlencode(q), key=key)
        return r

    def assertNumber(self, got, want, what, resp):
        """Rates: a JSON number (int or float, never a bool or string), or null exactly."""
        if want is None:
            self.assertIsNone(got, "%s should be null: %r" % (what, resp))
            return
        self.assertTrue(isinstance(got, (int, float)) and not isinstance(got, bool),
                        "%s should be a JSON number (%r): %r" % (what, want, resp))
        self.assertTrue(math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12),
                        "%s: expected %r, got %r: %r" % (what, want, got, resp))

    def assertMetrics(self, resp, program, want, frm=None, to=None):
        self.assertStatus(resp, 200)
        body = resp.body
        self.assertIsInstance(body, dict, repr(resp))
        self.assertEqual(set(body.keys()) & METRICS_KEYS, METRICS_KEYS,
                         "missing keys %s: %r" % (sorted(METRICS_KEYS - set(body)), resp))
        self.assertEqual(body["program"], program, repr(resp))
        self.assertEqual(body["from"], frm, "from echo: %r" % resp)
        self.assertEqual(body["to"], to, "to echo: %r" % resp)
        for k in COUNT_KEYS:
            self.assertTrue(isinstance(body[k], int) and not isinstance(body[k], bool),
                            "%s is not an integer: %r" % (k, resp))
        got_counts = {k: body[k] for k in COUNT_KEYS}
        want_counts = {k: want[k] for k in COUNT_KEYS}
        self.assertEqual(got_counts, want_counts, "counts: %r" % resp)
        for k in ("participation_rate", "share_to_signup_conversion", "qualification_rate",
                  "k_factor", "top_5pct_share"):
            self.assertNumber(body[k], want[k], k, resp)
        self.assertEqual(body["rewards_cost"], want["rewards_cost"], "rewards_cost: %r" % resp)
        for cur, v in body["rewards_cost"].items():
            self.assertTrue(isinstance(v, int) and not isinstance(v, bool),
                            "rewards_cost[%s] must be integer minor units: %r" % (cur, resp))
        self.assertEqual(body["cost_per_qualified_referral"], want["cost_per_qualified_referral"],
                         "cost_per_qualified_referral: %r" % resp)
        for cur, v in body["cost_per_qualified_referral"].items():
            self.assertTrue(v is None or (isinstance(v, int) and not isinstance(v, bool)),
                            "cost_per_qualified_referral[%s] must be integer or null: %r"
                            % (cur, resp))
        self.assertChannels(resp, want["by_channel"])
        return body

    def assertChannels(self, resp, want):
        """by_channel: exactly the expected channels; any other entry may only be all zeros."""
        got = resp.body["by_channel"]
        self.assertIsInstance(got, dict, repr(resp))
        for ch, v in got.items():
            self.assertEqual(set(v.keys()) >= {"clicks", "signups"}, True,
                             "by_channel[%s] shape: %r" % (ch, resp))
        nonzero = {ch: {"clicks": v["clicks"], "signups": v["signups"]} for ch, v in got.items()
                   if v["clicks"] or v["signups"] or ch in want}
        self.assertEqual(nonzero, want, "by_channel: %r" % resp)


class MetricsWorldTest(MetricsAsserts, KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        s.clock_set(T0)
        cls.notes = []  # (what, Resp) of every step, checked in test_world_was_built
        cls.program = s.make_program(
            qualification={"event": "purchase", "min_amount": 0, "hold_days": 2,
                           "within_days": 90},
            rewards=[
                {"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD",
                 "from_count": 1, "to_count": 1},
                {"to": "referrer", "kind": "credit", "amount": 4000, "currency": "USD",
                 "from_count": 2},
                {"to": "referred", "kind": "discount", "amount": 999, "currency": "EUR"},
            ])
        pid = cls.pid = cls.program["id"]
        # A second program: nothing of P's may leak into it (and vice versa).
        cls.other = s.make_program(currency="EUR", rewards=[
            {"to": "referrer", "kind": "recognition", "description": "A thank-you card"},
            {"to": "referred", "kind": "gift", "description": "A tote bag"}])

        # ---- phase 1, at T0 ----------------------------------------------------------------
        A = cls.A = s.make_participant(pid, "Alice")
        B = cls.B = s.make_participant(pid, "Bob")
        C = cls.C = s.make_participant(pid, "Cara")
        D = cls.D = s.make_participant(pid, "Dan")
        X = cls.X = s.make_participant(pid, "Xena")
        a_email = [s.click_id(A["code"], query="?ch=email") for _ in range(3)]
        a_none = s.click_id(A["code"])
        b_sms = [s.click_id(B["code"], query="?ch=sms") for _ in range(2)]
        cls.notes.append(("facebook bot on A", s.click(A["code"], ua=BOT_FACEBOOK), 302))
        cls.notes.append(("HEAD on A", s.click(A["code"], method="HEAD"), 302))
        cls.notes.append(("Googlebot on C", s.click(C["code"], ua=BOT_GOOGLE), 302))
        # a click in the other program
        o = s.make_participant(cls.other["id"], "Olga")
        s.click_id(o["code"], query="?ch=email")
        cls.wait_clicks(pid, 6)

        cls.signups = {}

        def signup(name, status=201, **kw):
            r = s.signup(pid, first_name=name, **kw)
            cls.notes.append(("signup " + name, r, status))
            cls.signups[name] = r
            return r

        signup("S1", click_id=a_email[0])
        signup("S2", click_id=a_email[1])
        signup("S3", ref=A["code"], click_id=a_email[2])
        signup("S4", click_id=b_sms[0])
        signup("S5", code=C["code"].replace("-", " ").lower())
        signup("S6", ref=D["code"])
        signup("S7")
        signup("S8", ref=A["code"], click_id=b_sms[1])
        cls.notes.append(("block X", s.patch("/v1/participants/" + X["id"],
                                             {"status": "blocked"}), 200))
        signup("S9", ref=X["code"])
        s7 = cls.signups["S7"].body["participant"]["id"]
        cls.notes.append(("erase S7", s.post("/v1/participants/%s/erase" % s7), 200))

        def ext(name):
            return cls.signups[name].body["participant"]["external_id"]

        def event(what, name, type="purchase", status=201):
            r = s.event(pid, ext(name), type=type)
            cls.notes.append((what, r, status))
            return r

        for n in ("S1", "S2", "S4", "S5", "S6"):
            event("purchase " + n, n)
        event("refund S6 during hold", "S6", type="refund")
        cls.t_hold1 = s.clock_advance(3 * DAY)

        # ---- phase 2, at T1 ----------------------------------------------------------------
        s.clock_set(T1)
        E = cls.E = s.make_participant(pid, "Emil")
        c_qr = [s.click_id(C["code"], query="?ch=qr") for _ in range(2)]
        s.click_id(A["code"], query="?ch=email")
        e_none = s.click_id(E["code"])
        cls.notes.append(("Googlebot on C (2)", s.click(C["code"], ua=BOT_GOOGLE), 302))
        cls.wait_clicks(pid, 10)
        signup("S10", click_id=c_qr[0])
        signup("S11", click_id=e_none)
        signup("S12", ref=B["code"])
        signup("S13", click_id=a_none)  # a click of phase 1, a signup of phase 2
        for n in ("S3", "S10", "S6", "S12"):
            event("purchase %s (phase 2)" % n, n)
        s12_ref = cls.signups["S12"].body["referral"]
        if s12_ref:
            cls.notes.append(("reject S12", s.post("/v1/referrals/%s/reject" % s12_ref["id"],
                                                   {"reason": "test"}), 200))
        cls.t_hold2 = s.clock_advance(3 * DAY)
        cls.wait_clicks(pid, 10)

        def reward_of(name, to):
            ref_id = cls.signups[name].body["referral"]["id"]
            rs = [x for x in s.rewards(program=pid) if x["referral"] == ref_id and x["to"] == to]
            return rs[0]["id"] if len(rs) == 1 else "rwd_missing"

        cls.notes.append(("redeem S1's referrer reward",
                          s.post("/v1/rewards/%s/redeem" % reward_of("S1", "referrer")), 200))
        cls.notes.append(("void S10's issued referred reward",
                          s.post("/v1/rewards/%s/void" % reward_of("S10", "referred")), 200))

    @classmethod
    def wait_clicks(cls, pid, n):
        """Clicks are written in batches: returns once every click so far is written (a stray,
        wrongly counted one included), after checking that the all-time count reached n (the
        exact counts are the tests' business)."""
        cls.server.settle_clicks()
        r = cls.server.get("/v1/metrics?program=" + pid)
        if r.status != 200 or r.body.get("clicks", 0) < n:
            raise AssertionError("expected at least %d clicks in %s once written: %r" % (n, pid, r))

    # ---- the world itself ------------------------------------------------------------------------
    def test_world_was_built(self):
        for what, resp, status in self.notes:
            self.assertStatus(resp, status, what)

    def test_world_attribution(self):
        """Each signup's referral (referrer, source, channel) is what the world says."""
        want = {
            "S1": (self.A, "cookie", "email"), "S2": (self.A, "cookie", "email"),
            "S3": (self.A, "url", "email"), "S4": (self.B, "cookie", "sms"),
            "S5": (self.C, "code", None), "S6": (self.D, "url", None),
            "S8": (self.A, "url", None), "S10": (self.C, "cookie", "qr"),
            "S11": (self.E, "cookie", None), "S12": (self.B, "url", None),
            "S13": (self.A, "cookie", None),
            "S7": None, "S9": None,
        }
        for name, w in want.items():
            r = self.signups[name]
            self.assertStatus(r, 201, name)
            ref = r.body["referral"]
            if w is None:
                self.assertIsNone(ref, "%s should be organic: %r" % (name, r))
                continue
            self.assertIsNotNone(ref, "%s: %r" % (name, r))
            got = (ref["referrer"]["id"], ref["source"], ref["channel"])
            self.assertEqual(got, (w[0]["id"], w[1], w[2]), "%s: %r" % (name, r))
        self.assertIn(("url", "referrer_blocked"),
                      [(x["source"], x["reason"]) for x in
                       self.signups["S9"].body["attribution"]["rejected"]])

    def test_world_referral_states(self):
        want = {"S1": "rewarded", "S2": "rewarded", "S3": "rewarded", "S4": "rewarded",
                "S5": "rewarded", "S6": "rewarded", "S8": "pending", "S10": "rewarded",
                "S11": "pending", "S12": "rejected",
                "S13": "pending"}
        got = {n: self.s.referral(self.signups[n].body["referral"]["id"])["status"]
               for n in want}
        self.assertEqual(got, want)

    # ---- windows ---------------------------------------------------------------------------------
    PHASE1_CHANNELS = {"email": {"clicks": 3, "signups": 3}, "none": {"clicks": 1, "signups": 3},
                       "sms": {"clicks": 2, "signups": 1}}
    PHASE2_CHANNELS = {"email": {"clicks": 1, "signups": 0}, "none": {"clicks": 1, "signups": 3},
                       "qr": {"clicks": 2, "signups": 1}}
    ALL_CHANNELS = {"email": {"clicks": 4, "signups": 3}, "none": {"clicks": 2, "signups": 6},
                    "sms": {"clicks": 2, "signups": 1}, "qr": {"clicks": 2, "signups": 1}}
    COST1 = {"USD": 2500 + 4000 + 2500 + 2500, "EUR": 4 * 999}    # 11500, 3996
    COST2 = {"USD": 4000 + 4000 + 2500, "EUR": 2 * 999}           # 10500, 1998 (one voided)
    COST_ALL = {"USD": 22000, "EUR": 5994}

    def check(self, frm, to, want):
        f = iso(frm) if isinstance(frm, dt.datetime) else frm
        t = iso(to) if isinstance(to, dt.datetime) else to
        r = self.metrics(self.pid, **{"from": f, "to": t})
        return self.assertMetrics(r, self.pid, want, frm=f, to=t)

    def test_all_time(self):
        # A made 3 of the 7 qualified referrals (S1, S2, S3); 4 referrers qualified -> top 1
        want = expected(17, 4, 10, 11, 7, self.COST_ALL,
                        {"USD": round(22000 / 7), "EUR": round(5994 / 7)},  # 3143, 856
                        3 / 7, self.ALL_CHANNELS)
        self.assertEqual(want["cost_per_qualified_referral"], {"USD": 3143, "EUR": 856})
        self.check(None, None, want)

    def test_window_holding_both_phases(self):
        want = expected(17, 4, 10, 11, 7, self.COST_ALL, {"USD": 3143, "EUR": 856}, 3 / 7,
                        self.ALL_CHANNELS)
        self.check(T0 - dt.timedelta(hours=1), T1 + dt.timedelta(days=5), want)
        self.check(T0, None, want)
        self.check(None, T1 + dt.timedelta(days=5), want)

    def test_phase1_before_rewards_issued(self):
        # qualified during the hold, no reward issued yet: cost 0 in the program currency
        want = expected(12, 2, 6, 7, 4, {"USD": 0}, {"USD": 0}, 2 / 4, self.PHASE1_CHANNELS)
        self.check(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=1), want)
        # [T0, T0+1s) holds exactly phase 1's instant
        self.check(T0, T0 + dt.timedelta(seconds=1), want)

    def test_phase1_with_rewards(self):
        # A made 2 of the 4 (S1, S2); B and C one each -> 3 referrers, top 1 -> 0.5
        want = expected(12, 2, 6, 7, 4, self.COST1, {"USD": 2875, "EUR": 999}, 0.5,
                        self.PHASE1_CHANNELS)
        self.check(T0 - dt.timedelta(hours=1), T0 + dt.timedelta(days=5), want)
        # `to` is exclusive: [T0, T1) leaves out everything that happened at T1
        self.check(T0, T1, want)
        self.check(None, T1, want)

    def test_phase2(self):
        # S3 (A, signed up in phase 1), S10 (C), S6 (D, re-qualified) -> top 1 of 3 -> 1/3
        want = expected(17, 3, 4, 4, 3, self.COST2, {"USD": 3500, "EUR": 666}, 1 / 3,
                        self.PHASE2_CHANNELS)
        self.check(T0 + dt.timedelta(days=5), T1 + dt.timedelta(days=5), want)
        # `from` is inclusive
        self.check(T1, None, want)

    def test_phase2_instant_only(self):
        want = expected(17, 3, 4, 4, 3, {"USD": 0}, {"USD": 0}, 1 / 3, self.PHASE2_CHANNELS)
        self.check(T1, T1 + dt.timedelta(seconds=1), want)

    def test_window_numerators_are_independent(self):
        # [T0+1s, T1+1s): phase 2's clicks, signups and qualifications, but phase 1's rewards
        # (issued at T0+2d..T0+3d); phase 2's rewards are issued after T1+2d.
        want = expected(17, 3, 4, 4, 3, self.COST1,
                        {"USD": round(11500 / 3), "EUR": 1332},  # 3833.33 -> 3833
                        1 / 3, self.PHASE2_CHANNELS)
        self.check(T0 + dt.timedelta(seconds=1), T1 + dt.timedelta(seconds=1), want)

    def test_window_with_only_rewards(self):
        # [T1+1s, T1+5d): only phase 2's reward issuance; no qualified -> cost per referral null
        want = expected(17, 0, 0, 0, 0, self.COST2, {"USD": None, "EUR": None}, None, {})
        self.check(T1 + dt.timedelta(seconds=1), T1 + dt.timedelta(days=5), want)

    def test_empty_window_between_phases(self):
        want = expected(12, 0, 0, 0, 0, {"USD": 0}, {"USD": None}, None, {})
        body = self.check(T0 + dt.timedelta(days=5), T0 + dt.timedelta(days=6), want)
        self.assertEqual(body["participation_rate"], 0)
        self.assertEqual(body["k_factor"], 0)

    def test_window_before_anything(self):
        want = expected(0, 0, 0, 0, 0, {"USD": 0}, {"USD": None}, None, {})
        body = self.check(T0 - dt.timedelta(days=10), T0 - dt.timedelta(days=1), want)
        for k in ("participation_rate", "share_to_signup_conversion", "qualification_rate",
                  "k_factor", "top_5pct_share"):
            self.assertIsNone(body[k], k)

    def test_window_after_everything(self):
        want = expected(17, 0, 0, 0, 0, {"USD": 0}, {"USD": None}, None, {})
        self.check(T1 + dt.timedelta(days=30), None, want)

    def test_fractional_from_is_exclusive_of_earlier_instant(self):
        """from=T1+0.5s must leave out what happened at T1 (or be refused as a bad time)."""
        f = iso(T1)[:-1] + ".500Z"
        r = self.metrics(self.pid, **{"from": f, "to": iso(T1 + dt.timedelta(days=5))})
        # Either answer is legal: section 1 shows times with whole seconds, so a server may refuse
        # a fraction (400 naming `from`); one that accepts it must not round it down (kith: 200).
        if r.status == 400:
            self.assertError(r, 400, "invalid_param", param="from")
            return
        self.assertStatus(r, 200)
        self.assertEqual({k: r.body[k] for k in ("clicks", "signups", "qualified", "sharers")},
                         {"clicks": 0, "signups": 0, "qualified": 0, "sharers": 0},
                         "[T1+0.5s, ...) must not contain events at T1: %r" % r)

    def test_offset_time_means_the_same_instant(self):
        """An RFC 3339 time with an offset is either refused (400 from) or read correctly."""
        f = (T1 + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"  # == T1
        r = self.metrics(self.pid, **{"from": f})
        # Either answer is legal: section 1 says times are RFC 3339 UTC, so a server may refuse an
        # offset (400 naming `from`); one that accepts it must read it as that instant (kith: 200).
        if r.status == 400:
            self.assertError(r, 400, "invalid_param", param="from")
            return
        self.assertStatus(r, 200)
        self.assertEqual((r.body["clicks"], r.body["signups"], r.body["qualified"]), (4, 4, 3),
                         repr(r))

    # ---- program scoping and the program currency ------------------------------------------------
    def test_other_program_is_separate(self):
        want = expected(1, 1, 1, 0, 0, {"EUR": 0}, {"EUR": None}, None,
                        {"email": {"clicks": 1, "signups": 0}})
        r = self.metrics(self.other["id"])
        self.assertMetrics(r, self.other["id"], want)


class NonMonetaryMetricsTest(MetricsAsserts, KithTestCase):
    """A program whose rewards are not money: rewards_cost is {<program currency>: 0}."""

    def test_program_currency_and_non_monetary_rewards(self):
        s = self.s
        s.clock_set(T0)
        prog = s.make_program(currency="EUR", rewards=[
            {"to": "referrer", "kind": "recognition", "description": "A thank-you card"},
            {"to": "referred", "kind": "free_month", "description": "A month on us"}])
        pid = prog["id"]
        ana = s.make_participant(pid, "Ana")
        r = s.signup(pid, ref=ana["code"])
        self.assertStatus(r, 201)
        self.assertStatus(s.event(pid, r.body["participant"]["external_id"], currency="EUR"), 201)
        want = expected(2, 0, 0, 1, 1, {"EUR": 0}, {"EUR": 0}, 1.0, {"none": {"clicks": 0,
                                                                          "signups": 1}})
        self.assertMetrics(self.metrics(pid), pid, want)
        # with exactly one program on the server, `program` may be left out
        r2 = s.get("/v1/metrics")
        self.assertMetrics(r2, pid, want)


class MetricsErrorsTest(MetricsAsserts, KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = cls.server.make_program()["id"]
        cls.server.make_program()

    def test_unknown_query_param(self):
        r = self.s.get("/v1/metrics?program=%s&bogus=1" % self.pid)
        self.assertError(r, 400, "invalid_param", param="bogus")
        r = self.s.get("/v1/metrics?program=%s&period=all" % self.pid)
        self.assertError(r, 400, "invalid_param", param="period")

    def test_bad_from(self):
        for bad in ("yesterday", "2035-13-01T00:00:00Z", "2035-01-10", "1700000000", "",
                    "2035-01-10T25:00:00Z"):
            r = self.metrics(self.pid, **{"from": bad})
            self.assertError(r, 400, "invalid_param", param="from")

    def test_bad_to(self):
        for bad in ("tomorrow", "2035-02-30T00:00:00Z", "2035-01-10 12:00:00", ""):
            r = self.metrics(self.pid, to=bad)
            self.assertError(r, 400, "invalid_param", param="to")

    def test_good_times_are_echoed(self):
        r = self.metrics(self.pid, **{"from": "2035-01-01T00:00:00Z", "to": "2035-02-01T00:00:00Z"})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["from"], r.body["to"]),
                         ("2035-01-01T00:00:00Z", "2035-02-01T00:00:00Z"))

    def test_unknown_program(self):
        r = self.metrics("no-such-program-" + uid("q"))
        self.assertError(r, 404, "not_found")

    def test_auth(self):
        r = self.metrics(self.pid, key=None)
        self.assertError(r, 401, "unauthorized")
        r = self.metrics(self.pid, key="sk_test_not_a_key")
        self.assertError(r, 401, "unauthorized")
        pk = self.s.keys_create(publishable=True)
        self.assertTrue(pk.startswith("pk_"), pk)
        r = self.metrics(self.pid, key=pk)
        self.assertError(r, 403, "forbidden")
        # a newly created secret key works
        sk = self.s.keys_create()
        self.assertTrue(sk.startswith("sk_"), sk)
        self.assertStatus(self.metrics(self.pid, key=sk), 200)


if __name__ == "__main__":
    kithtest.main()
