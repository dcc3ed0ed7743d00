"""The test clock, GET/POST /v1/test/clock (contract section 10)."""

import datetime as dt
import time

import kithtest
from kithtest import KithTestCase, parse_time


class ClockTest(KithTestCase):
    def test_0_get_is_frozen_at_start(self):
        r = self.s.get("/v1/test/clock")
        self.assertStatus(r, 200)
        self.assertEqual(set(r.body.keys()), {"now"})
        now = parse_time(r.body["now"])
        wall = dt.datetime.now(dt.timezone.utc)
        self.assertLess(abs((wall - now).total_seconds()), 600, "clock far from wall time at start")
        time.sleep(1.2)
        self.assertEqual(self.s.get("/v1/test/clock").body["now"], r.body["now"], "clock not frozen")

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
        self.assertEqual(r.status, 400, repr(r))

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
