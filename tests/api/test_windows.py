"""Time windows and the test clock (contract section 10 v2): the clock starts at a whole second,
so a time it reports bounds what happened exactly, and every window is half-open."""
import datetime
import sys
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KithTestCase, fmt_time, parse_time, uid  # noqa: E402


class WholeSecondClockTest(KithTestCase):
    server_kwargs = {"test_clock": True}

    def test_a_reported_time_plus_the_hold_releases_the_hold(self):
        # A hold of one day from a purchase made "now": setting the clock to the reported now
        # plus exactly one day must release it. With a clock that started at a fraction of a
        # second, the purchase happened after the reported second and the hold stayed.
        s = self.s
        pid = s.make_program(qualification={"event": "purchase", "hold_days": 1})["id"]
        a = s.make_participant(pid, first_name="Ann", email=uid("a") + "@example.com")
        s.clock_advance(25 * 3600)
        r = s.signup(pid, code=a["code"], first_name="Bea", email=uid("b") + "@example.com")
        self.assertStatus(r, 201)
        now = s.clock_now()
        e = s.event(pid, r.body["participant"]["external_id"])
        self.assertStatus(e, 201)
        rid = r.body["referral"]["id"]
        self.assertEqual(s.referral(rid)["status"], "qualified")
        s.clock_set(fmt_time(now + datetime.timedelta(days=1) - datetime.timedelta(seconds=1)))
        self.assertEqual(s.referral(rid)["status"], "qualified", "released a second early")
        s.clock_set(fmt_time(now + datetime.timedelta(days=1)))
        self.assertEqual(s.referral(rid)["status"], "rewarded")

    def test_windows_are_half_open(self):
        # A click at the reported now T counts in [T, T+1s) and not in [T-1s, T).
        s = self.s
        pid = s.make_program()["id"]
        a = s.make_participant(pid, first_name="Cy", email=uid("c") + "@example.com")
        now = s.clock_now()
        s.click_id(a["code"])
        s.clock_advance(5)  # the click's batch is written before any later job
        one = datetime.timedelta(seconds=1)

        def clicks(f, t):
            r = s.get("/v1/metrics?program=%s&from=%s&to=%s" % (pid, fmt_time(f), fmt_time(t)))
            self.assertStatus(r, 200)
            return r.body["clicks"]

        self.assertEqual(clicks(now, now + one), 1)
        self.assertEqual(clicks(now - one, now), 0)
        self.assertEqual(clicks(now, now), 0)


if __name__ == "__main__":
    unittest.main()
