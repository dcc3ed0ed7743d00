"""GET /v1/leaderboard (contract section 14).

The world (program L, hold_days 1, so referrals are `qualified` for a day, then `rewarded`):

  2035-01-20 12:00  Anaïs (opt-in)  a1 qualified; a2 signed up (qualifies on Feb 1 00:00:00)
                    Ben   (opt-in)  b1 qualified
                    Cid   (no)      c1 qualified
                    Dee   (opt-in)  d1 signed up only
                    Eve   (no)      e1, e2, e3 qualified
                    Fay   (opt-in, made by POST /v1/signups) f1 signed up
                    Gil   (opt-in)  g1 qualified
  2035-01-31 23:59:59               f1 qualified (last second of January)
  2035-02-01 00:00:00               a2 qualified (first second of February)
  2035-02-03 12:00  Ben  b2, b3 qualified; b4 qualified then rejected
                    Cid  c2 qualified;   Eve e4 qualified
                    Dee  d1 purchase then refund during the hold (back to pending)
                    then: Cid opts in (PATCH), Gil opts out (PATCH)

  all time: Ben 3 (rank 1), Anaïs 2 and Cid 2 (rank 2), Fay 1 (rank 4)
  month (February): Ben 2 (rank 1), Anaïs 1 and Cid 1 (rank 2)
  never: Eve (not opted in), Dee (0 qualified), Gil (opted out)
"""

import datetime as dt
import json
import urllib.parse

import kithtest
from kithtest import KithTestCase, uid

JAN20 = "2035-01-20T12:00:00Z"
JAN31_LAST = "2035-01-31T23:59:59Z"
FEB01 = "2035-02-01T00:00:00Z"
FEB03 = "2035-02-03T12:00:00Z"

ROW_KEYS = {"rank", "participant", "display_name", "qualified"}


class LeaderboardAsserts:
    def board(self, program=None, key="default", **params):
        q = {}
        if program is not None:
            q["program"] = program
        q.update(params)
        path = "/v1/leaderboard" + ("?" + urllib.parse.urlencode(q) if q else "")
        return self.s.get(path, key=key)

    def assertBoard(self, resp, program, period, groups):
        """groups: [(rank, {(participant id, display_name, qualified), ...}), ...] in order;
        rows that share a rank may come in any order within their group."""
        self.assertStatus(resp, 200)
        body = resp.body
        self.assertIsInstance(body, dict, repr(resp))
        self.assertEqual(body.get("program"), program, repr(resp))
        self.assertEqual(body.get("period"), period, repr(resp))
        data = body.get("data")
        self.assertIsInstance(data, list, repr(resp))
        for row in data:
            self.assertEqual(set(row.keys()), ROW_KEYS, "row keys: %r" % resp)
            self.assertTrue(isinstance(row["rank"], int) and not isinstance(row["rank"], bool))
            self.assertTrue(isinstance(row["qualified"], int)
                            and not isinstance(row["qualified"], bool))
        got = [(row["rank"], (row["participant"], row["display_name"], row["qualified"]))
               for row in data]
        i = 0
        for rank, members in groups:
            chunk = got[i:i + len(members)]
            self.assertEqual([r for r, _ in chunk], [rank] * len(members),
                             "ranks at rows %d..%d: %r" % (i, i + len(members) - 1, resp))
            self.assertEqual(set(m for _, m in chunk), set(members),
                             "rows of rank %d: %r" % (rank, resp))
            i += len(members)
        self.assertEqual(len(got), i, "unexpected extra rows: %r" % resp)
        return data


class LeaderboardTest(LeaderboardAsserts, KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.notes = []
        s.clock_set(JAN20)
        cls.program = s.make_program(
            qualification={"event": "purchase", "min_amount": 0, "hold_days": 1,
                           "within_days": 90})
        pid = cls.pid = cls.program["id"]
        cls.other = s.make_program()

        def person(name, opt_in):
            return s.make_participant(pid, name, leaderboard_opt_in=opt_in,
                                      email="%s@example.com" % uid("mail"))

        cls.ann = person("Anaïs", True)
        cls.ben = person("Ben", True)
        cls.cid = person("Cid", False)
        cls.dee = person("Dee", True)
        cls.eve = person("Eve", False)
        cls.gil = person("Gil", True)
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("fay"), "first_name": "Fay",
                                   "leaderboard_opt_in": True})
        cls.notes.append(("Fay signs up with leaderboard_opt_in", r, 201))
        cls.fay = r.body["participant"] if r.status == 201 else None

        def refer(referrer, qualify=True):
            r = s.signup(pid, ref=referrer["code"])
            cls.notes.append(("signup for " + referrer["first_name"], r, 201))
            ext = r.body["participant"]["external_id"]
            if qualify:
                cls.notes.append(("purchase for " + referrer["first_name"],
                                  s.event(pid, ext), 201))
            return r.body["referral"], ext

        refer(cls.ann)
        _, a2 = refer(cls.ann, qualify=False)
        refer(cls.ben)
        refer(cls.cid)
        _, d1 = refer(cls.dee, qualify=False)
        for _ in range(3):
            refer(cls.eve)
        refer(cls.gil)
        _, f1 = refer(cls.fay, qualify=False) if cls.fay else (None, None)

        s.clock_set(JAN31_LAST)
        if f1:
            cls.notes.append(("f1 purchase at the end of January", s.event(pid, f1), 201))
        cls.snap_jan_month = cls.board_of(pid, period="month")
        s.clock_set(FEB01)
        cls.notes.append(("a2 purchase at the start of February", s.event(pid, a2), 201))
        cls.snap_feb1_month = cls.board_of(pid, period="month")

        s.clock_set(FEB03)
        refer(cls.ben)
        refer(cls.ben)
        b4, _ = refer(cls.ben)
        cls.notes.append(("reject b4", s.post("/v1/referrals/%s/reject" % b4["id"],
                                              {"reason": "test"}), 200))
        refer(cls.cid)
        refer(cls.eve)
        cls.notes.append(("d1 purchase", s.event(pid, d1), 201))
        cls.notes.append(("d1 refund", s.event(pid, d1, type="refund"), 201))
        cls.snap_before_patch = cls.board_of(pid)
        cls.notes.append(("Cid opts in", s.patch("/v1/participants/" + cls.cid["id"],
                                                 {"leaderboard_opt_in": True}), 200))
        cls.notes.append(("Gil opts out", s.patch("/v1/participants/" + cls.gil["id"],
                                                  {"leaderboard_opt_in": False}), 200))

    @classmethod
    def board_of(cls, pid, **params):
        q = dict(program=pid, **params)
        return cls.server.get("/v1/leaderboard?" + urllib.parse.urlencode(q))

    def row(self, p, n):
        return (p["id"], p["first_name"], n)

    # ---- the world ------------------------------------------------------------------------------
    def test_world_was_built(self):
        for what, resp, status in self.notes:
            self.assertStatus(resp, status, what)
        self.assertTrue(self.fay["leaderboard_opt_in"])

    # ---- all time -------------------------------------------------------------------------------
    def test_all_time(self):
        want = [(1, {self.row(self.ben, 3)}),
                (2, {self.row(self.ann, 2), self.row(self.cid, 2)}),
                (4, {self.row(self.fay, 1)})]
        self.assertBoard(self.board(self.pid, period="all"), self.pid, "all", want)
        # display_name is the first name, as given (not transliterated)
        names = {r["participant"]: r["display_name"]
                 for r in self.board(self.pid, period="all").body["data"]}
        self.assertEqual(names[self.ann["id"]], "Anaïs")

    def test_default_period_is_all(self):
        want = [(1, {self.row(self.ben, 3)}),
                (2, {self.row(self.ann, 2), self.row(self.cid, 2)}),
                (4, {self.row(self.fay, 1)})]
        self.assertBoard(self.board(self.pid), self.pid, "all", want)

    def test_absent_people(self):
        ids = {r["participant"] for r in self.board(self.pid).body["data"]}
        self.assertNotIn(self.eve["id"], ids, "Eve never opted in")
        self.assertNotIn(self.dee["id"], ids, "Dee has no qualified referral")
        self.assertNotIn(self.gil["id"], ids, "Gil opted out")

    def test_before_the_opt_in_changes(self):
        # Cid not yet opted in, Gil (1 qualified) still in: Ben 3, Anaïs 2, Gil 1 and Fay 1
        want = [(1, {self.row(self.ben, 3)}), (2, {self.row(self.ann, 2)}),
                (3, {self.row(self.gil, 1), self.row(self.fay, 1)})]
        self.assertBoard(self.snap_before_patch, self.pid, "all", want)

    # ---- this month ------------------------------------------------------------------------------
    def test_month(self):
        want = [(1, {self.row(self.ben, 2)}),
                (2, {self.row(self.ann, 1), self.row(self.cid, 1)})]
        self.assertBoard(self.board(self.pid, period="month"), self.pid, "month", want)

    def test_month_boundaries(self):
        # on Jan 31 23:59:59 January's qualifications count (Gil 1 at Jan 20; Cid not opted in)
        want_jan = [(1, {self.row(self.ann, 1), self.row(self.ben, 1), self.row(self.gil, 1),
                         self.row(self.fay, 1)})]
        self.assertBoard(self.snap_jan_month, self.pid, "month", want_jan)
        # on Feb 1 00:00:00 only a2, qualified at that very second
        self.assertBoard(self.snap_feb1_month, self.pid, "month", [(1, {self.row(self.ann, 1)})])

    # ---- limit -----------------------------------------------------------------------------------
    def test_limit(self):
        r = self.board(self.pid, limit=1)
        self.assertBoard(r, self.pid, "all", [(1, {self.row(self.ben, 3)})])
        r = self.board(self.pid, limit=2)
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body["data"]), 2, repr(r))
        self.assertEqual(r.body["data"][0]["participant"], self.ben["id"])
        self.assertEqual(r.body["data"][1]["rank"], 2)
        # Ann and Cid share rank 2: which of them a limit of 2 keeps is not fixed
        self.assertIn(r.body["data"][1]["participant"], (self.ann["id"], self.cid["id"]))
        r = self.board(self.pid, limit=100)
        self.assertEqual(len(r.body["data"]), 4, repr(r))
        r = self.board(self.pid, period="month", limit=3)
        self.assertEqual(len(r.body["data"]), 3, repr(r))

    def test_bad_limit(self):
        for bad in ("0", "101", "-1", "abc", "1.5", "", "1000000000000000000000"):
            r = self.board(self.pid, limit=bad)
            self.assertError(r, 400, "invalid_param", param="limit")

    def test_bad_period(self):
        for bad in ("week", "year", "", "al"):
            r = self.board(self.pid, period=bad)
            self.assertError(r, 400, "invalid_param", param="period")

    def test_unknown_param(self):
        r = self.board(self.pid, bogus="1")
        self.assertError(r, 400, "invalid_param", param="bogus")
        r = self.board(self.pid, **{"from": "2035-01-01T00:00:00Z"})
        self.assertError(r, 400, "invalid_param", param="from")

    def test_unknown_program(self):
        self.assertError(self.board("no-such-" + uid("q")), 404, "not_found")

    # ---- keys ------------------------------------------------------------------------------------
    def test_publishable_key_reads_it(self):
        pk = self.s.keys_create(publishable=True)
        self.assertTrue(pk.startswith("pk_"), pk)
        as_secret = self.board(self.pid, period="all")
        as_pk = self.board(self.pid, key=pk, period="all")
        self.assertStatus(as_pk, 200)
        self.assertEqual(as_pk.body, as_secret.body)
        as_pk = self.board(self.pid, key=pk, period="month", limit=2)
        self.assertStatus(as_pk, 200)
        # nothing private on a page a browser can read
        raw = json.dumps(as_pk.body)
        self.assertNotIn("@example.com", raw)
        self.assertNotIn(self.ben["code"], raw)
        # but the secret-key routes stay closed to it
        self.assertError(self.s.get("/v1/metrics?program=" + self.pid, key=pk), 403, "forbidden")
        self.assertError(self.s.get("/v1/participants/" + self.ben["id"], key=pk), 403,
                         "forbidden")

    def test_auth(self):
        self.assertError(self.board(self.pid, key=None), 401, "unauthorized")
        self.assertError(self.board(self.pid, key="pk_not_a_real_key"), 401, "unauthorized")

    # ---- scoping ---------------------------------------------------------------------------------
    def test_other_program_is_separate(self):
        s = self.s
        oid = self.other["id"]
        self.assertBoard(self.board(oid), oid, "all", [])
        olga = s.make_participant(oid, "Olga", leaderboard_opt_in=True)
        r = s.signup(oid, ref=olga["code"])
        self.assertStatus(r, 201)
        self.assertStatus(s.event(oid, r.body["participant"]["external_id"]), 201)
        self.assertBoard(self.board(oid), oid, "all", [(1, {self.row(olga, 1)})])
        ids = {x["participant"] for x in self.board(self.pid).body["data"]}
        self.assertNotIn(olga["id"], ids)


class LeaderboardMonthRolloverTest(LeaderboardAsserts, KithTestCase):
    """period=month follows the test clock's month; all time does not move."""

    def test_rollover(self):
        s = self.s
        s.clock_set("2035-05-31T23:59:59Z")
        prog = s.make_program()
        pid = prog["id"]
        zoe = s.make_participant(pid, "Zoë", leaderboard_opt_in=True)
        for _ in range(2):
            r = s.signup(pid, ref=zoe["code"])
            self.assertStatus(r, 201)
            self.assertStatus(s.event(pid, r.body["participant"]["external_id"]), 201)
        row = (zoe["id"], "Zoë")
        self.assertBoard(self.board(pid, period="month"), pid, "month", [(1, {row + (2,)})])
        s.clock_set("2035-06-01T00:00:00Z")
        self.assertBoard(self.board(pid, period="month"), pid, "month", [])
        self.assertBoard(self.board(pid, period="all"), pid, "all", [(1, {row + (2,)})])
        r = s.signup(pid, ref=zoe["code"])
        self.assertStatus(s.event(pid, r.body["participant"]["external_id"]), 201)
        self.assertBoard(self.board(pid, period="month"), pid, "month", [(1, {row + (1,)})])
        s.clock_set("2035-06-30T23:59:59Z")
        self.assertBoard(self.board(pid, period="month"), pid, "month", [(1, {row + (1,)})])
        s.clock_set("2035-07-01T00:00:00Z")
        self.assertBoard(self.board(pid, period="month"), pid, "month", [])
        self.assertBoard(self.board(pid, period="all"), pid, "all", [(1, {row + (3,)})])
        # with exactly one program on the server, `program` may be left out
        self.assertBoard(self.board(), pid, "all", [(1, {row + (3,)})])


class LeaderboardLeaversTest(LeaderboardAsserts, KithTestCase):
    """An erased person (name removed, section 6b) and a blocked one leave the public board;
    a qualified referral in its hold counts, one sent back to pending by a refund does not."""

    def test_leavers_and_hold(self):
        s = self.s
        prog = s.make_program(qualification={"event": "purchase", "hold_days": 5})
        pid = prog["id"]
        people = {n: s.make_participant(pid, n, leaderboard_opt_in=True)
                  for n in ("Uma", "Vic", "Wes")}
        friends = {}
        for n, p in people.items():
            r = s.signup(pid, ref=p["code"])
            self.assertStatus(r, 201)
            friends[n] = r.body["participant"]["external_id"]
            self.assertStatus(s.event(pid, friends[n]), 201)
        refs = s.list_all("/v1/referrals?program=%s&referrer=%s" % (pid, people["Uma"]["id"]))
        self.assertEqual([x["status"] for x in refs], ["qualified"])  # still in its hold
        rows = {n: (p["id"], n, 1) for n, p in people.items()}
        self.assertBoard(self.board(pid), pid, "all", [(1, set(rows.values()))])
        # a refund during the hold sends Wes's referral back to pending
        self.assertStatus(s.event(pid, friends["Wes"], type="refund"), 201)
        self.assertBoard(self.board(pid), pid, "all", [(1, {rows["Uma"], rows["Vic"]})])
        self.assertStatus(s.patch("/v1/participants/" + people["Vic"]["id"],
                                  {"status": "blocked"}), 200)
        self.assertBoard(self.board(pid), pid, "all", [(1, {rows["Uma"]})])
        self.assertStatus(s.post("/v1/participants/%s/erase" % people["Uma"]["id"]), 200)
        self.assertBoard(self.board(pid), pid, "all", [])
        self.assertBoard(self.board(pid, period="month"), pid, "month", [])


if __name__ == "__main__":
    kithtest.main()
