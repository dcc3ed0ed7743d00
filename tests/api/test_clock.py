"""The test clock, GET/POST /v1/test/clock (contract section 10)."""

import datetime as dt
import time
import unittest

import kithtest
from kithtest import KithTestCase, Server, parse_time


class ClockTest(KithTestCase):
    def test_0_get_is_frozen_at_start(self):
        r = self.s.get("/v1/test/clock")
        self.assertStatus(r, 200)
        self.assertEqual(set(r.body.keys()), {"now"})
        now = parse_time(r.body["now"])
        wall = dt.datetime.now(dt.timezone.utc)
        self.assertLess(abs((wall - now).total_seconds()), 600, "clock far from wall time at start")
        # The one sleep in these tests, on purpose: what is tested is that wall time passing
        # does not move the clock, so wall time has to pass (more than a second: readings are
        # whole seconds). Nothing kith could be still doing can make this pass wrongly, and no
        # response can stand in for it (even the Date header follows the test clock).
        time.sleep(1.2)
        self.assertEqual(self.s.get("/v1/test/clock").body["now"], r.body["now"], "clock not frozen")

    def test_starts_at_a_whole_second(self):
        s = Server(test_clock=True)  # its clock is untouched: this is where it started
        try:
            prog = s.make_program(qualification={"hold_days": 1})
            jane = s.make_participant(prog["id"], "Jane")
            sam = s.signup(prog["id"], ref=jane["code"]).body["participant"]
            e = s.event(prog["id"], sam["external_id"])
            self.assertStatus(e, 201)
            self.assertEqual(e.body["referral"]["status"], "qualified", repr(e))
            qualified_at = parse_time(e.body["referral"]["qualified_at"])
            self.assertEqual(qualified_at, s.clock_now())
            # the hold ends at qualified_at + 1 day, a time the clock can be set to exactly
            s.clock_set(qualified_at + dt.timedelta(days=1))
            self.assertEqual(s.referral(sam["referred_by"])["status"], "rewarded",
                             "the hold did not end at qualified_at + hold_days")
        finally:
            s.stop()

    def test_advance_and_set(self):
        before = self.s.clock_now()
        after = self.s.clock_advance(3600)
        self.assertEqual(after, before + dt.timedelta(seconds=3600))
        self.assertEqual(self.s.clock_now(), after)
        r = self.s.post("/v1/test/clock", {"now": "2030-01-02T03:04:05Z"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"now": "2030-01-02T03:04:05Z"})
        self.assertEqual(self.s.get("/v1/test/clock").body, {"now": "2030-01-02T03:04:05Z"})
        r = self.s.post("/v1/test/clock", {"advance_seconds": 86400})
        self.assertEqual(r.body, {"now": "2030-01-03T03:04:05Z"})

    def test_now_used_for_timestamps(self):
        t = self.s.clock_set("2031-06-15T12:00:00Z")
        prog = self.s.make_program()
        p = self.s.make_participant(prog["id"])
        self.assertEqual(p["created_at"], "2031-06-15T12:00:00Z")
        self.s.clock_advance(90)
        r = self.s.signup(prog["id"], ref=p["code"])
        self.assertEqual(r.body["referral"]["created_at"], "2031-06-15T12:01:30Z")
        self.assertEqual(r.body["participant"]["created_at"], "2031-06-15T12:01:30Z")
        self.assertEqual(parse_time(r.body["referral"]["expires_at"]),
                         t + dt.timedelta(seconds=90, days=90))

    def test_invalid_requests(self):
        for body, param in (({"now": "tomorrow"}, "now"), ({"now": 5}, "now"),
                            ({"advance_seconds": "60"}, "advance_seconds"),
                            ({"advance_seconds": 1.5}, "advance_seconds"),
                            ({"tick": 1}, "tick")):
            r = self.s.post("/v1/test/clock", body)
            self.assertError(r, 400, "invalid_param", param=param)
        r = self.s.post("/v1/test/clock", raw_body=b"{")
        self.assertError(r, 400, "invalid_json")
        r = self.s.post("/v1/test/clock", {})
        self.assertError(r, 400, "invalid_param")  # which of the two fields it names may vary

    def test_needs_secret_key(self):
        r = self.s.get("/v1/test/clock", key=None)
        self.assertError(r, 401, "unauthorized")
        r = self.s.post("/v1/test/clock", {"advance_seconds": 10}, key=None)
        self.assertError(r, 401, "unauthorized")


class NoTestClockTest(KithTestCase):
    server_kwargs = {"test_clock": False}

    def test_clock_routes_are_404(self):
        r = self.s.get("/v1/test/clock")
        self.assertError(r, 404, "not_found")
        r = self.s.post("/v1/test/clock", {"advance_seconds": 60})
        self.assertError(r, 404, "not_found")
        r = self.s.post("/v1/test/clock", {"now": "2030-01-01T00:00:00Z"})
        self.assertError(r, 404, "not_found")

    def test_real_clock_moves(self):
        prog = self.s.make_program()
        a = parse_time(self.s.make_participant(prog["id"])["created_at"])
        wall = dt.datetime.now(dt.timezone.utc)
        self.assertLess(abs((wall - a).total_seconds()), 60)


if __name__ == "__main__":
    kithtest.main()
