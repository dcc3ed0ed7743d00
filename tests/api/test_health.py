"""GET /v1/metrics/health (contract section 22), and GET /v1/forecast.

A small world whose every figure is known by construction is built on the test clock, and each
figure of section 22 is asserted for all time, for a whole ISO week, for a window whose edges cut
weeks (so the partial weeks are read from the people themselves), at the half-open edges, and for
an empty window; every null the contract names is asserted where it has nothing to count. ISO
weeks are checked at a year boundary (2026-W53, 2027-W01, 2025-W01) against Python's own
isocalendar. The rollups are then rebuilt from the raw tables (the way a database that predates
them gets them) and must give the same answers. The forecast is deterministic (the same answer
twice), exact when every history week is alike, and refused with fewer than four weeks.

The world (program P: hold_days 0; the referrer's 1st rewarded referral 2500 USD, 2nd on 4000 USD;
the referred side 1000 USD; fraud review_at 1, reject_at 2; average_customer_value 100000 USD):

  T0 = 2035-01-10T12:00:00Z (Wednesday of 2035-W02)
    A, B, C, O1, O2 join (A, B with an IP and a device); O1 buys for 20000
    T0+1d  A's link: 2 clicks                     T0+3d  A 1 click, B 1 click
    T0+2d  S1, S2 sign up through A; S5 through A from A's IP (one flag: review)
    T0+4d  S3 through B; S6 through B from B's IP and device (two flags: rejected)
  2035-W03
    T0+5d  S1 buys 12000, S2 buys 8000 (both qualify: A's rewards 2500, 4000; 1000 each friend),
           S2 is refunded 3000; S3's referral is rejected by hand
    T0+6d  S4 signs up through S1 (S1's cycle: 4 days)
    T0+8d  B's link: 1 click
    T0+9d  S4 buys 5002 (qualifies: S1's reward 2500, S4's 1000); O2 is blocked
"""

import concurrent.futures
import datetime as dt
import math
import os
import sqlite3
import threading
import urllib.parse

import kithtest
from kithtest import KithTestCase, fmt_time, uid

DAY = 86400
T0 = dt.datetime(2035, 1, 10, 12, 0, 0, tzinfo=dt.timezone.utc)
W02 = dt.datetime(2035, 1, 8, tzinfo=dt.timezone.utc)  # Monday of 2035-W02
W03 = W02 + dt.timedelta(days=7)
W04 = W03 + dt.timedelta(days=7)

HEALTH_KEYS = {"program", "from", "to", "activation", "time_to_first_share_days",
               "cycle_time_days", "referred_vs_organic", "concentration", "fatigue",
               "fraud_pressure", "reward_cost_to_value", "series"}
SIDE_KEYS = {"customers", "purchasers", "purchase_rate", "refund_rate", "revenue_per_customer"}
SERIES_KEYS = {"week", "participants", "sharers", "clicks", "signups", "qualified",
               "rewards_cost"}


def at(days, hours=0):
    return T0 + dt.timedelta(days=days, hours=hours)


def iso_week(d):
    y, w, _ = d.isocalendar()
    return "%04d-W%02d" % (y, w)


def gini(xs):
    """Gini without a small-sample correction: sum |xi - xj| / (2 n^2 mean)."""
    n = len(xs)
    mean = sum(xs) / n
    return sum(abs(a - b) for a in xs for b in xs) / (2 * n * n * mean)


def top_share(xs):
    xs = sorted(xs, reverse=True)
    k = max(1, math.ceil(len(xs) * 0.05))
    return sum(xs[:k]) / sum(xs)


def half_up(num, den):
    return math.floor(num / den + 0.5)


def build_world(s):
    """Builds the world of the module docstring on s; returns the program id."""
    s.clock_set(T0)
    pid = uid("h")
    body = s.program_body(
        id=pid, qualification={"event": "purchase", "hold_days": 0},
        rewards=[{"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD",
                  "from_count": 1, "to_count": 1},
                 {"to": "referrer", "kind": "credit", "amount": 4000, "currency": "USD",
                  "from_count": 2},
                 {"to": "referred", "kind": "credit", "amount": 1000, "currency": "USD"}],
        fraud={"review_at": 1, "reject_at": 2}, average_customer_value=100000, currency="USD")
    r = s.post("/v1/programs", body)
    assert r.status == 201, r
    people = {}
    for name, extra in (("A", {"ip": "198.51.100.4", "device_id": "dev-a"}),
                        ("B", {"ip": "203.0.113.9", "device_id": "dev-b"}),
                        ("C", {}), ("O1", {}), ("O2", {})):
        people[name] = s.make_participant(pid, first_name=name, external_id="x-" + name, **extra)
    assert s.event(pid, "x-O1", amount=20000, currency="USD").status == 201

    def clicks(who, n):
        for _ in range(n):
            s.click_id(people[who]["code"])
        s.settle_clicks()

    def signup(name, referrer, **kw):
        r = s.signup(pid, external_id="x-" + name, first_name=name,
                     ref=people[referrer]["code"], **kw)
        assert r.status == 201, r
        people[name] = r.body["participant"]
        people[name]["referral"] = r.body["referral"]
        return r.body["referral"]

    s.clock_set(at(1))
    clicks("A", 2)
    s.clock_set(at(2))
    assert signup("S1", "A")["status"] == "pending"
    assert signup("S2", "A")["status"] == "pending"
    assert signup("S5", "A", ip="198.51.100.4")["status"] == "review"
    s.clock_set(at(3))
    clicks("A", 1)
    clicks("B", 1)
    s.clock_set(at(4))
    assert signup("S3", "B")["status"] == "pending"
    assert signup("S6", "B", ip="203.0.113.9", device_id="dev-b")["status"] == "rejected"
    s.clock_set(at(5))
    for name, amount in (("S1", 12000), ("S2", 8000)):
        r = s.event(pid, "x-" + name, amount=amount, currency="USD")
        assert r.status == 201 and r.body["referral"]["status"] == "rewarded", r
    assert s.event(pid, "x-S2", type="refund", amount=3000, currency="USD").status == 201
    r = s.post("/v1/referrals/%s/reject" % people["S3"]["referral"]["id"], {"reason": "test"})
    assert r.status == 200, r
    s.clock_set(at(6))
    assert signup("S4", "S1")["status"] == "pending"
    s.clock_set(at(8))
    clicks("B", 1)
    s.clock_set(at(9))
    r = s.event(pid, "x-S4", amount=5002, currency="USD")
    assert r.status == 201 and r.body["referral"]["status"] == "rewarded", r
    r = s.patch("/v1/participants/" + people["O2"]["id"], {"status": "blocked"})
    assert r.status == 200, r
    return pid


class HealthAsserts:
    def health(self, program, frm=None, to=None, status=200):
        q = {"program": program}
        if frm is not None:
            q["from"] = fmt_time(frm) if isinstance(frm, dt.datetime) else frm
        if to is not None:
            q["to"] = fmt_time(to) if isinstance(to, dt.datetime) else to
        r = self.s.get("/v1/metrics/health?" + urllib.parse.urlencode(q))
        self.assertStatus(r, status)
        if status == 200:
            self.assertEqual(set(r.body.keys()), HEALTH_KEYS, repr(r))
            for side in ("referred", "organic"):
                self.assertEqual(set(r.body["referred_vs_organic"][side]), SIDE_KEYS, repr(r))
            self.assertEqual(set(r.body["concentration"]), {"top_5pct_share", "gini"})
            self.assertEqual(set(r.body["fatigue"]), {"asks", "answered_rate", "opt_outs"})
            self.assertEqual(set(r.body["fraud_pressure"]), {"review_rate", "reject_rate"})
            for e in r.body["series"]:
                self.assertEqual(set(e), SERIES_KEYS, repr(e))
        return r.body

    def assertNum(self, got, want, what):
        if want is None:
            self.assertIsNone(got, what)
            return
        self.assertTrue(isinstance(got, (int, float)) and not isinstance(got, bool),
                        "%s: %r is not a number" % (what, got))
        self.assertTrue(math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12),
                        "%s: expected %r, got %r" % (what, want, got))

    def assertSide(self, got, customers, purchasers, refunded, revenue, what):
        self.assertEqual(got["customers"], customers, what)
        self.assertEqual(got["purchasers"], purchasers, what)
        self.assertNum(got["purchase_rate"], None if customers == 0 else purchasers / customers,
                       what + ".purchase_rate")
        self.assertNum(got["refund_rate"], None if purchasers == 0 else refunded / purchasers,
                       what + ".refund_rate")
        want = None if customers == 0 else half_up(revenue, customers)
        self.assertEqual(got["revenue_per_customer"], want, what + ".revenue_per_customer")
        if want is not None:
            self.assertIsInstance(got["revenue_per_customer"], int, what)


SERIES_W02 = {"week": "2035-W02", "participants": 9, "sharers": 2, "clicks": 4, "signups": 5,
              "qualified": 0, "rewards_cost": {"USD": 0}}
SERIES_W03 = {"week": "2035-W03", "participants": 10, "sharers": 1, "clicks": 1, "signups": 1,
              "qualified": 3, "rewards_cost": {"USD": 12000}}


class TestHealth(HealthAsserts, KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = build_world(cls.s)

    def test_all_time(self):
        b = self.health(self.pid)
        self.assertIsNone(b["from"])
        self.assertIsNone(b["to"])
        # 11 joined; A (1 day) and B (3 days) got a counted click within 30 days.
        self.assertNum(b["activation"], 2 / 11, "activation")
        self.assertNum(b["time_to_first_share_days"], 2.0, "median of 1 and 3 days")
        self.assertNum(b["cycle_time_days"], 4.0, "S1: signup T0+2d, own referral T0+6d")
        ro = b["referred_vs_organic"]
        # Referred: S1, S2, S5 (in review, not rejected), S4; S3 and S6 were rejected.
        self.assertSide(ro["referred"], 4, 3, 1, 12000 + 8000 - 3000 + 5002, "referred")
        self.assertEqual(ro["referred"]["revenue_per_customer"], 5501, "22002 / 4 = 5500.5 up")
        self.assertSide(ro["organic"], 7, 1, 0, 20000, "organic")
        self.assertEqual(ro["organic"]["revenue_per_customer"], 2857)
        # Qualified referrals per referrer: A 2, S1 1.
        self.assertNum(b["concentration"]["top_5pct_share"], top_share([2, 1]), "top share")
        self.assertNum(b["concentration"]["gini"], gini([2, 1]), "gini")
        self.assertNum(b["concentration"]["gini"], 1 / 6, "gini by hand")
        # Six referrals: S5 went to review; S6 (at signup) and S3 (by hand) were rejected.
        self.assertNum(b["fraud_pressure"]["review_rate"], 1 / 6, "review_rate")
        self.assertNum(b["fraud_pressure"]["reject_rate"], 2 / 6, "reject_rate")
        # 12000 USD issued for 3 qualified referrals: 4000 each, over 100000.
        self.assertNum(b["reward_cost_to_value"], 0.04, "reward_cost_to_value")
        self.assertEqual(b["fatigue"], {"asks": 0, "answered_rate": None, "opt_outs": 0},
                         "the program asks nobody")
        self.assertEqual(b["series"], [SERIES_W02, SERIES_W03])

    def test_whole_week(self):
        b = self.health(self.pid, W03, W04)
        self.assertEqual(b["from"], fmt_time(W03))
        self.assertEqual(b["to"], fmt_time(W04))
        self.assertNum(b["activation"], 0.0, "S4 joined in W03, no click")
        self.assertNum(b["time_to_first_share_days"], None, "no first click in W03")
        self.assertNum(b["cycle_time_days"], 4.0, "S1's first referral is in W03")
        ro = b["referred_vs_organic"]
        self.assertSide(ro["referred"], 1, 1, 0, 5002, "referred")
        self.assertSide(ro["organic"], 0, 0, 0, 0, "organic")
        self.assertIsNone(ro["organic"]["revenue_per_customer"])
        self.assertNum(b["concentration"]["top_5pct_share"], 2 / 3, "top share")
        self.assertNum(b["fraud_pressure"]["review_rate"], 0.0, "review")
        self.assertNum(b["fraud_pressure"]["reject_rate"], 0.0, "reject")
        self.assertNum(b["reward_cost_to_value"], 0.04, "cost to value")
        self.assertEqual(b["series"], [SERIES_W03])
        # W02 alone: ten joined, two activated; nothing qualified, nothing cost.
        b = self.health(self.pid, W02, W03)
        self.assertNum(b["activation"], 2 / 10, "activation W02")
        self.assertNum(b["time_to_first_share_days"], 2.0, "ttfs W02")
        self.assertNum(b["cycle_time_days"], None, "no first own referral of a referred person")
        self.assertNum(b["concentration"]["gini"], None, "nothing qualified in W02")
        self.assertNum(b["concentration"]["top_5pct_share"], None, "nothing qualified")
        self.assertNum(b["reward_cost_to_value"], None, "no qualified referral")
        self.assertNum(b["fraud_pressure"]["review_rate"], 1 / 5, "review W02")
        self.assertNum(b["fraud_pressure"]["reject_rate"], 2 / 5, "S3 and S6 were made in W02")
        self.assertEqual(b["series"], [SERIES_W02])

    def test_window_cutting_weeks(self):
        # [T0+1d, T0+5d+1h): no whole week inside; everything is read from the edges.
        b = self.health(self.pid, at(1), at(5, 1))
        self.assertNum(b["activation"], 0.0, "S1, S2, S5, S3, S6 never clicked")
        self.assertNum(b["time_to_first_share_days"], 2.0, "A at T0+1d (from is inclusive), B")
        self.assertNum(b["cycle_time_days"], None, "S4's referral is later")
        ro = b["referred_vs_organic"]
        self.assertSide(ro["referred"], 3, 2, 1, 12000 + 5000, "referred")
        self.assertEqual(ro["referred"]["revenue_per_customer"], 5667)
        self.assertSide(ro["organic"], 2, 0, 0, 0, "organic (S3, S6)")
        self.assertEqual(ro["organic"]["revenue_per_customer"], 0)
        self.assertNum(b["concentration"]["top_5pct_share"], 1.0, "A alone")
        self.assertNum(b["concentration"]["gini"], 0.0, "one referrer")
        self.assertNum(b["fraud_pressure"]["review_rate"], 1 / 5, "review")
        self.assertNum(b["fraud_pressure"]["reject_rate"], 2 / 5, "reject")
        self.assertNum(b["reward_cost_to_value"], 8500 / 2 / 100000, "issued at T0+5d")
        # Weeks that overlap the period are reported whole.
        self.assertEqual(b["series"], [SERIES_W02, SERIES_W03])
        # A window spanning a week boundary with a whole week inside: [T0+4d, T0+20d).
        b = self.health(self.pid, at(4), at(20))
        self.assertNum(b["activation"], 0.0, "S3, S6 (T0+4d), S4")
        self.assertSide(b["referred_vs_organic"]["referred"], 1, 1, 0, 5002, "referred: S4")
        self.assertSide(b["referred_vs_organic"]["organic"], 2, 0, 0, 0, "organic: S3, S6")
        self.assertNum(b["fraud_pressure"]["reject_rate"], 2 / 3, "S3, S6 of S3, S6, S4")
        self.assertNum(b["time_to_first_share_days"], None, "no first click after T0+4d")
        self.assertNum(b["cycle_time_days"], 4.0, "S1")

    def test_half_open_edges(self):
        b = self.health(self.pid, at(1), at(3))
        self.assertNum(b["time_to_first_share_days"], 1.0, "A only: B's click is at `to`")
        b = self.health(self.pid, at(1) + dt.timedelta(seconds=1), at(20))
        self.assertNum(b["time_to_first_share_days"], 3.0, "B only: A's click is before `from`")
        b = self.health(self.pid, at(9), at(20))
        self.assertNum(b["reward_cost_to_value"], 3500 / 1 / 100000, "S4 at T0+9d exactly")
        b = self.health(self.pid, at(0), at(9))
        self.assertNum(b["reward_cost_to_value"], 8500 / 2 / 100000, "S4 at `to` is out")

    def test_empty_window(self):
        b = self.health(self.pid, at(3), at(3))
        for k in ("activation", "time_to_first_share_days", "cycle_time_days",
                  "reward_cost_to_value"):
            self.assertIsNone(b[k], k)
        for side in ("referred", "organic"):
            self.assertSide(b["referred_vs_organic"][side], 0, 0, 0, 0, side)
        self.assertEqual(b["concentration"], {"top_5pct_share": None, "gini": None})
        self.assertEqual(b["fraud_pressure"], {"review_rate": None, "reject_rate": None})
        self.assertEqual(b["series"], [])
        # Long before anything happened: nulls, and weeks of zeros (2034-W50 .. W51).
        b = self.health(self.pid, "2034-12-11T00:00:00Z", "2034-12-25T00:00:00Z")
        self.assertIsNone(b["activation"])
        self.assertEqual([e["week"] for e in b["series"]], ["2034-W50", "2034-W51"])
        self.assertEqual(b["series"][0]["participants"], 0)
        self.assertEqual(b["series"][0]["rewards_cost"], {"USD": 0})

    def test_errors(self):
        r = self.s.get("/v1/metrics/health?program=%s&from=yesterday" % self.pid)
        self.assertError(r, 400, "invalid_param", param="from")
        r = self.s.get("/v1/metrics/health?program=%s&from=2035-02-01T00:00:00Z"
                       "&to=2035-01-01T00:00:00Z" % self.pid)
        self.assertError(r, 400, "invalid_param", param="from")
        r = self.s.get("/v1/metrics/health?program=%s&bogus=1" % self.pid)
        self.assertError(r, 400, "invalid_param", param="bogus")
        r = self.s.get("/v1/metrics/health?program=nope")
        self.assertError(r, 404, "not_found", param="program")
        r = self.s.get("/v1/metrics/health?program=%s" % self.pid, key=None)
        self.assertError(r, 401, "unauthorized")

    def test_health_matches_metrics_weekly(self):
        # Each series entry is section 14 for that week: /v1/metrics over the same week agrees.
        for monday, entry in ((W02, SERIES_W02), (W03, SERIES_W03)):
            q = urllib.parse.urlencode({"program": self.pid, "from": fmt_time(monday),
                                        "to": fmt_time(monday + dt.timedelta(days=7))})
            m = self.s.get("/v1/metrics?" + q).body
            for k in ("participants", "sharers", "clicks", "signups", "qualified",
                      "rewards_cost"):
                self.assertEqual(m[k], entry[k], "%s %s" % (entry["week"], k))


class TestIsoWeeks(HealthAsserts, KithTestCase):
    def test_year_boundaries(self):
        pid = self.s.make_program(currency="EUR")["id"]
        times = [dt.datetime(2026, 12, 28, 9, tzinfo=dt.timezone.utc),   # Mon, 2026-W53
                 dt.datetime(2027, 1, 1, 23, 59, 59, tzinfo=dt.timezone.utc),  # Fri, 2026-W53
                 dt.datetime(2027, 1, 3, 23, 59, 59, tzinfo=dt.timezone.utc),  # Sun, 2026-W53
                 dt.datetime(2027, 1, 4, 0, 0, 0, tzinfo=dt.timezone.utc)]  # Mon, 2027-W01
        for t in times:
            self.s.clock_set(t)
            p = self.s.make_participant(pid)
            self.s.click_id(p["code"])
            self.s.settle_clicks()
        b = self.health(pid, "2026-12-21T00:00:00Z", "2027-01-11T00:00:00Z")
        weeks = [e["week"] for e in b["series"]]
        self.assertEqual(weeks, ["2026-W52", "2026-W53", "2027-W01"])
        self.assertEqual(weeks[1:], [iso_week(times[0]), iso_week(times[3])])
        self.assertEqual([e["participants"] for e in b["series"]], [0, 3, 4])
        self.assertEqual([e["clicks"] for e in b["series"]], [0, 3, 1])
        self.assertEqual([e["sharers"] for e in b["series"]], [0, 3, 1])
        self.assertEqual(b["series"][0]["rewards_cost"], {"EUR": 0})
        self.assertNum(b["time_to_first_share_days"], 0.0, "each clicked at once")
        self.assertNum(b["activation"], 1.0, "all four clicked")
        # 2024-12-30 (a Monday) opens 2025-W01.
        b = self.health(pid, "2024-12-23T00:00:00Z", "2025-01-06T00:00:00Z")
        self.assertEqual([e["week"] for e in b["series"]], ["2024-W52", "2025-W01"])
        d = dt.datetime(2024, 12, 30, tzinfo=dt.timezone.utc)
        self.assertEqual(iso_week(d), "2025-W01")

    def test_empty_program(self):
        self.s.clock_set("2031-06-04T10:00:00Z")
        pid = self.s.make_program()["id"]
        b = self.health(pid)
        for k in ("activation", "time_to_first_share_days", "cycle_time_days",
                  "reward_cost_to_value"):
            self.assertIsNone(b[k], k)
        self.assertEqual(b["concentration"], {"top_5pct_share": None, "gini": None})
        self.assertEqual(b["fraud_pressure"], {"review_rate": None, "reject_rate": None})
        self.assertEqual(b["series"], [{"week": "2031-W23", "participants": 0, "sharers": 0,
                                        "clicks": 0, "signups": 0, "qualified": 0,
                                        "rewards_cost": {"USD": 0}}])


class TestFatigue(HealthAsserts, KithTestCase):
    """fatigue: asks made in the period, the share answered of those decided (answered, or
    ignored once their window closed; open ones count in neither), and preference changes to
    never or fewer in the period (section 17's asks and preferences)."""

    def test_fatigue(self):
        t = dt.datetime(2035, 3, 5, 9, 0, 0, tzinfo=dt.timezone.utc)
        self.s.clock_set(t)
        pid = self.s.make_program(asks={"enabled": True, "not_before_days": 0,
                                        "min_days_between": 0, "max_per_30_days": 100,
                                        "stop_after_ignored": 100,
                                        "answered_within_days": 7})["id"]
        p = {n: self.s.make_participant(pid, first_name=n, external_id="q-" + n)
             for n in ("P1", "P2", "P3")}

        def moment(name):
            r = self.s.post("/v1/moments", {"program": pid, "external_id": "q-" + name,
                                            "type": "milestone"})
            self.assertStatus(r, 201)
            self.assertEqual(r.body["ask"]["decision"], "ask", repr(r))

        def prefer(name, value):
            r = self.s.patch("/v1/participants/" + p[name]["id"],
                             {"preferences": {"asks": value}})
            self.assertStatus(r, 200)

        self.s.clock_set(t + dt.timedelta(hours=1))
        for n in ("P1", "P2", "P3"):
            moment(n)
        self.s.clock_set(t + dt.timedelta(days=1))
        self.s.click_id(p["P1"]["code"])  # answers P1's ask
        self.s.settle_clicks()
        self.s.clock_set(t + dt.timedelta(days=2))
        prefer("P3", "never")
        self.s.clock_set(t + dt.timedelta(days=3))
        moment("P2")  # open until T+10d
        self.s.clock_set(t + dt.timedelta(days=4))
        prefer("P2", "fewer")
        self.s.clock_set(t + dt.timedelta(days=5))
        prefer("P2", "normal")  # not an opt-out
        self.s.clock_set(t + dt.timedelta(days=8))
        b = self.health(pid)
        # Four asks: P1's answered; P2's first and P3's ignored (their 7 days are over); P2's
        # second still open.
        self.assertEqual(b["fatigue"]["asks"], 4)
        self.assertNum(b["fatigue"]["answered_rate"], 1 / 3, "answered of decided")
        self.assertEqual(b["fatigue"]["opt_outs"], 2)
        b = self.health(pid, t + dt.timedelta(days=2), t + dt.timedelta(days=8))
        self.assertEqual(b["fatigue"], {"asks": 1, "answered_rate": None, "opt_outs": 2})
        b = self.health(pid, t + dt.timedelta(days=2, seconds=1), t + dt.timedelta(days=4))
        self.assertEqual(b["fatigue"], {"asks": 1, "answered_rate": None, "opt_outs": 0})
        self.s.clock_set(t + dt.timedelta(days=11))
        b = self.health(pid)
        self.assertNum(b["fatigue"]["answered_rate"], 1 / 4, "P2's second is ignored now")


class TestConcurrentUpkeep(HealthAsserts, KithTestCase):
    """Signups, clicks and purchases of one program sent at once over many connections (on
    PostgreSQL, many database connections: each writes the rollups' shard of its own server
    process) still add up to exactly the figures of the people and referrals made."""

    THREADS = 8

    def test_activation_window_and_cost_without_value(self):
        # Activation counts a first share within 30 days of joining (section 22): day 29 counts,
        # day 31 does not. A customer value of 0 (none known; unset is the contract's 120000)
        # leaves cost to value nothing to divide by.
        t = dt.datetime(2037, 1, 5, tzinfo=dt.timezone.utc)  # a Monday
        self.s.clock_set(t)
        pid = self.s.make_program(
            qualification={"event": "purchase", "hold_days": 0},
            rewards=[{"to": "referrer", "kind": "credit", "amount": 500, "currency": "USD"}],
            average_customer_value=0)["id"]
        early = self.s.make_participant(pid, first_name="Early")
        late = self.s.make_participant(pid, first_name="Late")
        self.s.clock_set(t + dt.timedelta(days=29))
        self.s.click_id(early["code"])
        self.s.settle_clicks()
        self.s.clock_set(t + dt.timedelta(days=31))
        self.s.click_id(late["code"])
        self.s.settle_clicks()
        self.s.clock_set(t + dt.timedelta(days=40))
        b = self.health(pid)
        self.assertNum(b["activation"], 0.5, "early shared on day 29, late on day 31")
        r = self.s.signup(pid, external_id="friend-1", first_name="Fay", ref=early["code"])
        self.assertStatus(r, 201)
        r = self.s.event(pid, "friend-1", amount=5000, currency="USD")
        self.assertEqual(r.body["referral"]["status"], "rewarded")
        b = self.health(pid)
        self.assertNum(b["reward_cost_to_value"], None, "average_customer_value 0")

    def test_concurrent_writes_add_up(self):
        t = dt.datetime(2036, 3, 5, 12, 0, 0, tzinfo=dt.timezone.utc)  # Wednesday of 2036-W10
        monday = dt.datetime(2036, 3, 3, tzinfo=dt.timezone.utc)
        self.s.clock_set(t)
        pid = uid("hc")
        body = self.s.program_body(
            id=pid, qualification={"event": "purchase", "hold_days": 0},
            rewards=[{"to": "referrer", "kind": "credit", "amount": 500, "currency": "USD"}],
            average_customer_value=100000, currency="USD")
        self.assertStatus(self.s.post("/v1/programs", body), 201)
        n = self.THREADS
        referrers = [self.s.make_participant(pid, first_name="R%d" % i) for i in range(n)]
        buys = [i % 4 + 1 for i in range(n)]  # referrer i's referrals that purchase

        def at_once(fn):
            gate = threading.Barrier(n)

            def run(i):
                gate.wait(timeout=30)
                return fn(i)

            with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
                return list(pool.map(run, range(n)))

        self.s.clock_set(t + dt.timedelta(hours=1))
        at_once(lambda i: self.s.click_id(referrers[i]["code"]))
        self.s.settle_clicks()
        self.s.clock_set(t + dt.timedelta(hours=2))

        def signups(i):
            made = []
            for j in range(6):
                r = self.s.signup(pid, external_id="c-%d-%d" % (i, j), first_name="S",
                                  ref=referrers[i]["code"])
                self.assertStatus(r, 201)
                self.assertEqual(r.body["referral"]["status"], "pending", r.body)
                made.append(r.body["participant"])
            # The first one refers someone in turn (a cycle), and one person joins on their own.
            r = self.s.signup(pid, external_id="c-%d-x" % i, first_name="S", ref=made[0]["code"])
            self.assertStatus(r, 201)
            self.assertEqual(r.body["referral"]["status"], "pending", r.body)
            self.assertStatus(self.s.signup(pid, external_id="o-%d" % i, first_name="O"), 201)
            return made

        at_once(signups)

        def purchases(i):
            for j in range(buys[i]):
                r = self.s.event(pid, "c-%d-%d" % (i, j), amount=1000, currency="USD")
                self.assertStatus(r, 201)

        at_once(purchases)
        qualified = sum(buys)  # 20
        people = n + n * 7 + n  # referrers, the referred, the organic
        b = self.health(pid)
        self.assertNum(b["activation"], n / people, "the referrers clicked")
        self.assertNum(b["time_to_first_share_days"], 1 / 24, "each referrer's click, 1 h")
        self.assertNum(b["cycle_time_days"], 0.0, "the first friends referred as they joined")
        ro = b["referred_vs_organic"]
        self.assertSide(ro["referred"], n * 7, qualified, 0, qualified * 1000, "referred")
        self.assertSide(ro["organic"], 2 * n, 0, 0, 0, "organic: referrers, own joiners")
        self.assertNum(b["concentration"]["gini"], gini(buys), "gini")
        self.assertNum(b["concentration"]["top_5pct_share"], top_share(buys), "top share")
        self.assertEqual(b["fraud_pressure"], {"review_rate": 0.0, "reject_rate": 0.0})
        self.assertNum(b["reward_cost_to_value"], 500 / 100000, "500 per qualified referral")
        week = {"week": "2036-W10", "participants": people, "sharers": n, "clicks": n,
                "signups": n * 7, "qualified": qualified, "rewards_cost": {"USD": 500 * qualified}}
        self.assertEqual(b["series"], [week])
        self.assertEqual(self.health(pid, monday, monday + dt.timedelta(days=7))["series"], [week])
        q = urllib.parse.urlencode({"program": pid, "from": fmt_time(monday),
                                    "to": fmt_time(monday + dt.timedelta(days=7))})
        m = self.s.get("/v1/metrics?" + q).body
        for k in ("participants", "sharers", "clicks", "signups", "qualified", "rewards_cost"):
            self.assertEqual(m[k], week[k], "/v1/metrics %s" % k)


ROLLUP_TABLES = ("health_people", "health_weeks", "health_costs", "health_hist", "health_qual",
                 "sharer_weeks", "health_referrals")


class TestRebuild(HealthAsserts, KithTestCase):
    """The rollups kept request by request equal the ones rebuilt from the raw tables."""

    def test_rebuild_gives_the_same_answers(self):
        pid = build_world(self.s)
        windows = [(None, None), (W02, W03), (W03, W04), (at(1), at(5, 1)), (at(4), at(20)),
                   (at(1), at(3))]
        before = [self.health(pid, a, b) for a, b in windows]
        self.s.stop()
        if self.s.is_pg:
            for t in ROLLUP_TABLES:
                self.s.pg("DELETE FROM %s" % t)
            self.s.pg("DELETE FROM meta WHERE key = 'health_rollups'")
        else:
            db = sqlite3.connect(self.s.db)
            for t in ROLLUP_TABLES:
                db.execute("DELETE FROM %s" % t)
            db.execute("DELETE FROM meta WHERE key = 'health_rollups'")
            db.commit()
            db.close()
        self.s.start()
        self.assertIn("health rollups rebuilt", self.s.log_text())
        self.s.clock_set(at(9))
        after = [self.health(pid, a, b) for a, b in windows]
        for (a, b), x, y in zip(windows, before, after):
            self.assertEqual(x, y, "window %s..%s" % (a, b))


class TestForecast(KithTestCase):
    def forecast(self, pid, months=None):
        q = {"program": pid}
        if months is not None:
            q["months"] = months
        return self.s.get("/v1/forecast?" + urllib.parse.urlencode(q))

    def weeks_of(self, pid, referrer, weekly, start):
        """weekly: [(signups, purchases)] for consecutive weeks from start (a Monday)."""
        for w, (n_signups, n_buys) in enumerate(weekly):
            self.s.clock_set(start + dt.timedelta(days=7 * w, hours=10))
            for i in range(n_signups):
                ext = uid("f")
                r = self.s.signup(pid, external_id=ext, ref=referrer["code"])
                self.assertStatus(r, 201)
                if i < n_buys:
                    self.assertStatus(self.s.event(pid, ext, amount=1000, currency="USD"), 201)

    def test_too_little_history(self):
        start = dt.datetime(2033, 3, 7, tzinfo=dt.timezone.utc)  # a Monday
        self.s.clock_set(start)
        pid = self.s.make_program(qualification={"event": "purchase", "hold_days": 0})["id"]
        ref = self.s.make_participant(pid)
        self.weeks_of(pid, ref, [(2, 1), (1, 1), (3, 0)], start)
        self.s.clock_set(start + dt.timedelta(days=27))  # three complete weeks, a fourth begun
        r = self.forecast(pid)
        self.assertError(r, 409, "invalid_state")
        self.s.clock_set(start + dt.timedelta(days=28))
        self.assertStatus(self.forecast(pid), 200)

    def test_alike_weeks_are_exact_and_deterministic(self):
        start = dt.datetime(2033, 6, 6, tzinfo=dt.timezone.utc)  # a Monday
        self.s.clock_set(start)
        pid = self.s.make_program(
            qualification={"event": "purchase", "hold_days": 0},
            rewards=[{"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD"}])["id"]
        ref = self.s.make_participant(pid)
        self.weeks_of(pid, ref, [(7, 7)] * 4, start)
        self.s.clock_set(start + dt.timedelta(days=30))  # 2033-07-06, in the fifth week
        r = self.forecast(pid, 3)
        self.assertStatus(r, 200)
        b = r.body
        self.assertEqual(b["program"], pid)
        self.assertEqual([m["month"] for m in b["months"]], ["2033-08", "2033-09", "2033-10"])
        # One signup, one qualified referral and 2500 of cost a day, every day: exact bands.
        for m, days in zip(b["months"], (31, 30, 31)):
            for k, per_day in (("referred_signups", 1), ("qualified", 1), ("reward_cost", 2500)):
                v = days * per_day
                self.assertEqual(m[k], {"p10": v, "p50": v, "p90": v}, "%s %s" % (m["month"], k))
        a = b["assumptions"]
        self.assertEqual(a["history_weeks"], 4)
        self.assertEqual(a["history_from"], "2033-W23")
        self.assertEqual(a["history_to"], "2033-W26")
        self.assertEqual(a["currency"], "USD")
        self.assertEqual(a["simulations"], 10000)
        for k in ("method", "quantiles", "not_modelled", "seed", "months_start"):
            self.assertIsInstance(a[k], str, k)
        # months: 6 when not given, 1 and 24 at the edges of 1-24
        self.assertEqual(len(self.forecast(pid).body["months"]), 6)
        self.assertEqual([m["month"] for m in self.forecast(pid, 1).body["months"]], ["2033-08"])
        months = [m["month"] for m in self.forecast(pid, 24).body["months"]]
        self.assertEqual((len(months), months[0], months[-1]), (24, "2033-08", "2035-07"))
        self.assertEqual(self.forecast(pid, 3).body, b, "same data, same answer")

    def test_bootstrap_spreads_and_repeats(self):
        start = dt.datetime(2034, 2, 6, tzinfo=dt.timezone.utc)  # a Monday
        self.s.clock_set(start)
        pid = self.s.make_program(
            qualification={"event": "purchase", "hold_days": 0},
            rewards=[{"to": "referrer", "kind": "credit", "amount": 1000, "currency": "USD"}])["id"]
        ref = self.s.make_participant(pid)
        weekly = [(1, 1), (4, 1), (0, 0), (6, 3), (2, 2)]
        self.weeks_of(pid, ref, weekly, start)
        self.s.clock_set(start + dt.timedelta(days=7 * 5 + 2))
        one = self.forecast(pid, 12)
        self.assertStatus(one, 200)
        two = self.forecast(pid, 12)
        self.assertEqual(one.body, two.body, "seeded: the same data gives the same answer")
        self.assertEqual(one.body["assumptions"]["history_weeks"], 5)
        months = one.body["months"]
        self.assertEqual(len(months), 12)
        for m in months:
            for k in ("referred_signups", "qualified", "reward_cost"):
                band = m[k]
                self.assertEqual(set(band), {"p10", "p50", "p90"})
                self.assertTrue(band["p10"] <= band["p50"] <= band["p90"], m)
            # A week has 0 to 6 signups: a month (4 to 5 weeks' worth) stays within 0..31.
            self.assertTrue(0 <= m["referred_signups"]["p10"] <= m["referred_signups"]["p90"] <= 31)
            self.assertTrue(m["qualified"]["p90"] <= m["referred_signups"]["p90"])
        self.assertTrue(any(m["referred_signups"]["p10"] < m["referred_signups"]["p90"]
                            for m in months), "different weeks give a spread")
        # A longer horizon keeps the first months' bands (each month has its own stream).
        self.assertEqual(self.forecast(pid, 3).body["months"], months[:3])

    def test_months_param(self):
        self.s.clock_set("2033-01-03T00:00:00Z")
        pid = self.s.make_program()["id"]
        for bad in ("0", "25", "x", "1.5", ""):
            self.assertError(self.forecast(pid, bad), 400, "invalid_param", param="months")
        r = self.s.get("/v1/forecast?program=%s&weeks=3" % pid)
        self.assertError(r, 400, "invalid_param", param="weeks")


if __name__ == "__main__":
    import unittest
    unittest.main()
