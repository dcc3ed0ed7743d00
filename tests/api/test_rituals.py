"""Rituals and the public program page (contract section 18) on the test clock: spotlight
drafts (categories, opt-in, the cap of five, order, month boundaries, rotation), publishing
(winners, notes, notifications, the spotlight reward, webhooks), auto-drafts and digests on
the first day of a month (and only then, once), and GET /v1/public/programs/{id}.

The spotlight world (program S, rotation 3, a recognition reward for winners), qualified
referrals by month; everyone opted in to the spotlight except Cyd:

  2049-12-15          Eve 1
  2050-01-09 .. 01-12 Bea 3 (first on Jan 9), Al 3 (first on Jan 10), Cyd 5, Eve 2
  2050-01-20, 01-21   Gus 1, Hal 1
  2050-01-31 23:59:59 Dot 1                  (the last second of January)
  2050-02-01 00:00:00 Fay 1                  (the first second of February)

  January most_qualified: Bea 3, Al 3, Eve 2, Gus 1, Hal 1 (Dot is sixth)
  January rising:         Bea 3, Al 3, Gus 1, Hal 1, Dot 1 (Eve started in December)
"""

import json
import urllib.parse

import kithtest
from kithtest import KithTestCase, uid
from test_webhooks import ALLOW_ENV, Receiver

CANDIDATE_KEYS = {"participant", "first_name", "count"}
SPOTLIGHT_KEYS = {"id", "program", "period", "status", "candidates", "winners", "created_at",
                  "updated_at", "published_at"}
REWARD_RULE = {"kind": "recognition", "description": "A handwritten thank-you card"}


def ts(y, m, d, hh=12, mm=0, ss=0):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, hh, mm, ss)


class RitualCase(KithTestCase):
    server_kwargs = {"test_clock": True, "env": ALLOW_ENV}

    def at(self, when):
        return self.s.clock_set(when)

    def person(self, program, name, spotlight=True, **kw):
        p = self.s.make_participant(program, first_name=name, **kw)
        if spotlight:
            r = self.s.patch("/v1/participants/" + p["id"],
                             {"preferences": {"spotlight_opt_in": True}})
            self.assertStatus(r, 200)
            p = r.body
        return p

    def qualify(self, program, referrer, when):
        """One friend of referrer signs up and buys at `when`: a referral qualified then."""
        self.at(when)
        r = self.s.signup(program, ref=referrer["code"], first_name="Friend")
        self.assertStatus(r, 201)
        self.assertIsNotNone(r.body["referral"], repr(r))
        e = self.s.event(program, r.body["participant"]["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "rewarded", repr(e))
        return r.body["participant"]

    def draft(self, program, period=None, status=201):
        body = {"program": program}
        if period:
            body["period"] = period
        r = self.s.post("/v1/spotlights", body)
        self.assertStatus(r, status)
        if status in (200, 201):
            self.assertEqual(set(r.body.keys()), SPOTLIGHT_KEYS, repr(r))
        return r.body

    def names(self, spot, category):
        rows = spot["candidates"][category]
        for c in rows:
            self.assertEqual(set(c.keys()), CANDIDATE_KEYS)
        return [(c["first_name"], c["count"]) for c in rows]

    def notes(self, person, stage):
        items = self.s.list_all("/v1/participants/%s/notifications" % person["id"])
        return [n for n in items if n["stage"] == stage]


class SettingsTest(RitualCase):
    def test_defaults_and_validation(self):
        self.at(ts(2060, 1, 1))
        p = self.s.make_program(id=uid("rit"))
        self.assertEqual(p["rituals"], {"rotation_periods": 3, "auto_draft": False,
                                        "digest": False, "spotlight_reward": None})
        self.assertIs(p["public_page"], False)
        bad = [({"rituals": {"rotation_periods": 25}}, "rituals.rotation_periods"),
               ({"rituals": {"rotation_periods": -1}}, "rituals.rotation_periods"),
               ({"rituals": {"digest": "monthly"}}, "rituals.digest"),
               ({"rituals": {"weekly": True}}, "rituals.weekly"),
               ({"rituals": {"spotlight_reward": dict(REWARD_RULE, to="participant")}},
                "rituals.spotlight_reward.to"),
               ({"rituals": {"spotlight_reward": {"kind": "credit"}}},
                "rituals.spotlight_reward.amount"),
               ({"rituals": {"spotlight_reward": {"kind": "credit", "amount": 500}}},
                "rituals.spotlight_reward.currency"),
               ({"rituals": {"spotlight_reward": {"kind": "gift"}}},
                "rituals.spotlight_reward.description"),
               ({"rituals": {"spotlight_reward": {"kind": "hug", "description": "x"}}},
                "rituals.spotlight_reward.kind"),
               ({"rituals": {"spotlight_reward": dict(REWARD_RULE, from_count=2)}},
                "rituals.spotlight_reward.from_count"),
               ({"rituals": "monthly"}, "rituals"),
               ({"public_page": "yes"}, "public_page")]
        for extra, param in bad:
            r = self.s.post("/v1/programs", self.s.program_body(id=uid("rit"), **extra))
            self.assertError(r, 400, "invalid_param", param=param)
        r = self.s.patch("/v1/programs/" + p["id"], {"rituals": {"digest": True}})
        self.assertEqual(r.body["rituals"]["digest"], True)
        r = self.s.patch("/v1/programs/" + p["id"],
                         {"rituals": {"spotlight_reward": {"kind": "credit", "amount": 500,
                                                           "currency": "EUR"}}})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["rituals"], {"rotation_periods": 3, "auto_draft": False,
                                             "digest": True, "spotlight_reward": {
                                                 "kind": "credit", "amount": 500,
                                                 "currency": "EUR", "description": None,
                                                 "expires_days": None}})
        r = self.s.patch("/v1/programs/" + p["id"], {"rituals": {"spotlight_reward": None}})
        self.assertIsNone(r.body["rituals"]["spotlight_reward"])


class SpotlightTest(RitualCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rcv = Receiver()
        cls.path = cls.rcv.new_path()
        s = cls.s
        r = s.post("/v1/webhook_endpoints", {"url": cls.rcv.url(cls.path),
                                             "events": ["spotlight.drafted",
                                                        "spotlight.published", "reward.issued"]})
        assert r.status == 201, r
        cls.rcv.secrets[cls.path] = r.body["secret"]
        s.clock_set(ts(2049, 12, 1))
        cls.pid = s.make_program(id=uid("spot"),
                                 rituals={"spotlight_reward": REWARD_RULE})["id"]

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rcv.close()

    def world(self):
        """Builds the world of the module docstring once; returns people by name."""
        cls = type(self)
        if getattr(cls, "people", None):
            return cls.people
        pid = cls.pid
        self.at(ts(2049, 12, 1))
        p = {n: self.person(pid, n) for n in ("Al", "Bea", "Dot", "Eve", "Fay", "Gus", "Hal")}
        p["Cyd"] = self.person(pid, "Cyd", spotlight=False)
        self.qualify(pid, p["Eve"], ts(2049, 12, 15))
        for day in (9, 10, 11):
            self.qualify(pid, p["Bea"], ts(2050, 1, day))
        for day in (10, 11, 12):
            self.qualify(pid, p["Al"], ts(2050, 1, day))
        for day in (10, 10, 11, 11, 12):
            self.qualify(pid, p["Cyd"], ts(2050, 1, day))
        for day in (12, 13):
            self.qualify(pid, p["Eve"], ts(2050, 1, day))
        self.qualify(pid, p["Gus"], ts(2050, 1, 20))
        self.qualify(pid, p["Hal"], ts(2050, 1, 21))
        self.qualify(pid, p["Dot"], ts(2050, 1, 31, 23, 59, 59))
        self.qualify(pid, p["Fay"], ts(2050, 2, 1, 0, 0, 0))
        cls.people = p
        return p

    def test_1_draft(self):
        p = self.world()
        self.at(ts(2050, 2, 3))
        spot = self.draft(self.pid, "2050-01")
        self.assertTrue(spot["id"].startswith("spl_"))
        self.assertEqual(spot["status"], "draft")
        self.assertEqual(spot["period"], "2050-01")
        self.assertEqual(spot["winners"], [])
        self.assertIsNone(spot["published_at"])
        self.assertEqual(self.names(spot, "most_qualified"),
                         [("Bea", 3), ("Al", 3), ("Eve", 2), ("Gus", 1), ("Hal", 1)])
        self.assertEqual(self.names(spot, "rising"),
                         [("Bea", 3), ("Al", 3), ("Gus", 1), ("Hal", 1), ("Dot", 1)])
        self.assertEqual(spot["candidates"]["most_qualified"][0]["participant"], p["Bea"]["id"])
        got = self.rcv.wait(self.path, 1, type="spotlight.drafted")
        self.assertEqual(got[0].json["data"]["id"], spot["id"])
        self.assertIsNone(got[0].sig_error)
        # Drafting the same month again refreshes the draft (200), the same spotlight.
        again = self.draft(self.pid, "2050-01", status=200)
        self.assertEqual(again["id"], spot["id"])
        self.assertEqual(again["candidates"], spot["candidates"])
        self.assertEqual(self.s.get("/v1/spotlights/" + spot["id"]).body, again)
        listed = self.s.list_all("/v1/spotlights?program=" + self.pid)
        self.assertEqual([x["id"] for x in listed], [spot["id"]])
        # February so far: Fay's first qualified referral, at its very first second.
        feb = self.draft(self.pid, "2050-02")
        self.assertEqual(self.names(feb, "rising"), [("Fay", 1)])
        self.assertEqual(self.names(feb, "most_qualified"), [("Fay", 1)])

    def test_2_refusals(self):
        self.world()
        self.at(ts(2050, 2, 3))
        for period in ("2050-13", "2050-1", "January", "2050-01-01"):
            r = self.s.post("/v1/spotlights", {"program": self.pid, "period": period})
            self.assertError(r, 400, "invalid_param", param="period")
        r = self.s.post("/v1/spotlights", {"program": self.pid, "period": "2050-03"})
        self.assertError(r, 400, "invalid_param", param="period")  # has not begun
        r = self.s.post("/v1/spotlights", {"program": self.pid, "colour": "red"})
        self.assertError(r, 400, "invalid_param", param="colour")
        r = self.s.post("/v1/spotlights", {"program": "no-such", "period": "2050-01"})
        self.assertError(r, 404, "not_found")
        self.assertError(self.s.get("/v1/spotlights/spl_nope"), 404, "not_found")
        r = self.s.post("/v1/spotlights/spl_nope/publish", {"winners": []})
        self.assertError(r, 404, "not_found")

    def test_3_publish(self):
        p = self.world()
        self.at(ts(2050, 2, 4))
        spot = self.draft(self.pid, "2050-01", status=200)
        url = "/v1/spotlights/%s/publish" % spot["id"]
        bad = [({}, "winners"), ({"winners": []}, "winners"),
               ({"winners": [{"category": "most_qualified", "participant": p["Cyd"]["id"]}]},
                "winners[0].participant"),
               ({"winners": [{"category": "rising", "participant": p["Eve"]["id"]}]},
                "winners[0].participant"),
               ({"winners": [{"category": "best", "participant": p["Bea"]["id"]}]},
                "winners[0].category"),
               ({"winners": [{"category": "most_qualified", "participant": p["Bea"]["id"]},
                             {"category": "rising", "participant": p["Bea"]["id"]}]},
                "winners[1].participant"),
               ({"winners": [{"category": "rising", "participant": p["Dot"]["id"],
                              "medal": "gold"}]}, "winners[0].medal"),
               ({"winners": [{"category": "rising", "participant": p["Dot"]["id"]}], "x": 1},
                "x")]
        for body, param in bad:
            self.assertError(self.s.post(url, body), 400, "invalid_param", param=param)
        self.assertEqual(self.s.get("/v1/spotlights/" + spot["id"]).body["status"], "draft")
        note = "Three friends joined the Saturday walk because of Bea."
        r = self.s.post(url, {"winners": [
            {"category": "most_qualified", "participant": p["Bea"]["id"], "note": note},
            {"category": "rising", "participant": p["Dot"]["id"]}]})
        self.assertStatus(r, 200)
        pub = r.body
        self.assertEqual(pub["status"], "published")
        self.assertEqual(pub["published_at"], ts(2050, 2, 4))
        winners = [(w["category"], w["participant"], w["first_name"], w["note"])
                   for w in pub["winners"]]
        self.assertEqual(winners, [("most_qualified", p["Bea"]["id"], "Bea", note),
                                   ("rising", p["Dot"]["id"], "Dot", None)])
        # Each winner: a spotlight note and the reward, issued, earned by the spotlight.
        for name in ("Bea", "Dot"):
            notes = self.notes(p[name], "spotlight")
            self.assertEqual(len(notes), 1, notes)
            self.assertIn("January 2050", notes[0]["body"])
            self.assertIn("A handwritten thank-you card", notes[0]["body"])
            rewards = [x for x in self.s.rewards(participant=p[name]["id"])
                       if x["to"] == "participant"]
            self.assertEqual(len(rewards), 1, rewards)
            rw = rewards[0]
            self.assertIsNone(rw["referral"])
            self.assertEqual(rw["source"], {"spotlight": spot["id"]})
            self.assertEqual(rw["status"], "issued")
            self.assertEqual(rw["kind"], "recognition")
            self.assertEqual(rw["description"], REWARD_RULE["description"])
            self.assertEqual(rw["issued_at"], ts(2050, 2, 4))
            self.assertEqual(notes[0]["reward"], rw["id"])
            self.assertEqual(self.s.get("/v1/rewards/" + rw["id"]).body["source"],
                             {"spotlight": spot["id"]})
        self.assertIn(note, self.notes(p["Bea"], "spotlight")[0]["body"])
        self.assertEqual(self.notes(p["Al"], "spotlight"), [])
        # Referral rewards carry no source.
        ref_rewards = [x for x in self.s.rewards(participant=p["Al"]["id"])]
        self.assertTrue(ref_rewards and all(x["source"] is None for x in ref_rewards))
        got = self.rcv.wait(self.path, 1, type="spotlight.published")
        self.assertEqual(got[0].json["data"]["id"], spot["id"])
        self.assertEqual(len(got[0].json["data"]["winners"]), 2)
        self.assertTrue(self.rcv.wait(self.path, 2, type="reward.issued"))
        # Published is final.
        self.assertError(self.s.post(url, {"winners": [
            {"category": "rising", "participant": p["Gus"]["id"]}]}), 409, "invalid_state")
        r = self.s.post("/v1/spotlights", {"program": self.pid, "period": "2050-01"})
        self.assertError(r, 409, "invalid_state")

    def test_4_rotation_and_consent(self):
        p = self.world()
        self.at(ts(2050, 2, 5))
        feb = self.draft(self.pid, "2050-02", status=200)
        # Bea and Dot (January's winners) are rotated out for February, March and April.
        for name in ("Bea", "Dot"):
            self.qualify(self.pid, p[name], ts(2050, 2, 10))
        self.qualify(self.pid, p["Gus"], ts(2050, 2, 11))
        self.at(ts(2050, 2, 12))
        feb = self.draft(self.pid, "2050-02", status=200)
        self.assertEqual(self.names(feb, "most_qualified"), [("Fay", 1), ("Gus", 1)])
        # Someone who opts out disappears from the draft and cannot be published.
        r = self.s.patch("/v1/participants/" + p["Gus"]["id"],
                         {"preferences": {"spotlight_opt_in": False}})
        self.assertStatus(r, 200)
        feb = self.s.get("/v1/spotlights/" + feb["id"]).body
        self.assertEqual(self.names(feb, "most_qualified"), [("Fay", 1)])
        url = "/v1/spotlights/%s/publish" % feb["id"]
        r = self.s.post(url, {"winners": [{"category": "most_qualified",
                                           "participant": p["Gus"]["id"]}]})
        self.assertError(r, 400, "invalid_param", param="winners[0].participant")
        self.s.patch("/v1/participants/" + p["Gus"]["id"],
                     {"preferences": {"spotlight_opt_in": True}})
        self.assertStatus(self.s.post(url, {"winners": [
            {"category": "most_qualified", "participant": p["Fay"]["id"]}]}), 200)
        # April: Bea still rotated out (January is within the last three periods).
        for month in (3, 4, 5):
            self.qualify(self.pid, p["Bea"], ts(2050, month, 10))
            self.qualify(self.pid, p["Fay"], ts(2050, month, 11))
        self.at(ts(2050, 5, 20))
        apr = self.draft(self.pid, "2050-04")
        self.assertEqual(self.names(apr, "most_qualified"), [])  # Fay won February
        # May: January is out of the window, February (Fay) is not.
        may = self.draft(self.pid, "2050-05")
        self.assertEqual(self.names(may, "most_qualified"), [("Bea", 1)])
        # Drafts that were never published rotate nobody out: Gus was a February candidate.
        self.qualify(self.pid, p["Gus"], ts(2050, 5, 21))
        may = self.draft(self.pid, "2050-05", status=200)
        self.assertEqual(self.names(may, "most_qualified"), [("Bea", 1), ("Gus", 1)])

    def test_5_cap_of_five(self):
        self.at(ts(2050, 6, 1))
        pid = self.s.make_program(id=uid("cap"))["id"]
        people = [self.person(pid, "P%d" % i) for i in range(7)]
        for i, person in enumerate(people):
            for k in range(i % 3 + 1):
                self.qualify(pid, person, ts(2050, 6, 2 + i, 10 + k))
        self.at(ts(2050, 7, 1))
        spot = self.draft(pid)  # last month by default
        self.assertEqual(spot["period"], "2050-06")
        self.assertEqual(self.names(spot, "most_qualified"),
                         [("P2", 3), ("P5", 3), ("P1", 2), ("P4", 2), ("P0", 1)])

    def test_6_storyteller(self):
        self.at(ts(2050, 8, 1))
        pid = self.s.make_program(id=uid("story"))["id"]
        ann, ben, cid = (self.person(pid, "Ann"), self.person(pid, "Ben"),
                         self.person(pid, "Cid", spotlight=False))
        r = self.s.post("/v1/activities", {"program": pid, "external_id": ann["external_id"],
                                           "type": "testimonial", "id": "a1",
                                           "occurred_at": ts(2050, 8, 2)})
        if r.status != 201:
            self.skipTest("POST /v1/activities answered %d: activities (section 16) are not "
                          "in this build" % r.status)

        def act(person, n, day):
            r = self.s.post("/v1/activities", {"program": pid,
                                               "external_id": person["external_id"],
                                               "type": "review", "id": uid("act"),
                                               "occurred_at": ts(2050, 8, day)})
            self.assertStatus(r, 201)
            return r.body["activity"]["id"]
        act(ann, 1, 3)
        voided = [act(ben, 1, 4) for _ in range(3)]
        for v in voided[:2]:
            self.assertStatus(self.s.post("/v1/activities/%s/void" % v, {"reason": "dup"}), 200)
        for _ in range(4):
            act(cid, 1, 5)
        r = self.s.post("/v1/activities", {"program": pid, "external_id": ben["external_id"],
                                           "type": "review", "id": uid("act"),
                                           "occurred_at": ts(2050, 9, 1, 0, 0, 0)})
        self.assertStatus(r, 201)
        self.at(ts(2050, 9, 2))
        spot = self.draft(pid, "2050-08")
        self.assertEqual(self.names(spot, "storyteller"), [("Ann", 2), ("Ben", 1)])


class AutoDraftTest(RitualCase):
    def test_first_day_once(self):
        rcv = Receiver()
        try:
            path = rcv.new_path()
            r = self.s.post("/v1/webhook_endpoints", {"url": rcv.url(path),
                                                      "events": ["spotlight.drafted"]})
            rcv.secrets[path] = r.body["secret"]
            self.at(ts(2051, 1, 2))
            auto = self.s.make_program(id=uid("auto"), rituals={"auto_draft": True})["id"]
            manual = self.s.make_program(id=uid("man"), rituals={"auto_draft": True})["id"]
            off = self.s.make_program(id=uid("off"))["id"]
            ann = self.person(auto, "Ann")
            self.qualify(auto, ann, ts(2051, 1, 15))
            self.at(ts(2051, 1, 20))
            mine = self.draft(manual, "2051-01")
            self.at(ts(2051, 1, 31, 23, 59, 59))
            self.assertEqual(self.s.list_all("/v1/spotlights?program=" + auto), [])
            self.at(ts(2051, 2, 1, 0, 0, 0))
            spots = self.s.list_all("/v1/spotlights?program=" + auto)
            self.assertEqual(len(spots), 1)
            self.assertEqual(spots[0]["period"], "2051-01")
            self.assertEqual(spots[0]["status"], "draft")
            self.assertEqual(self.names(spots[0], "most_qualified"), [("Ann", 1)])
            got = rcv.wait(path, 2, type="spotlight.drafted")  # the manual one, then this
            self.assertEqual([d.json["data"]["id"] for d in got
                              if d.json["data"]["program"] == auto], [spots[0]["id"]])
            # A draft someone made stays as it was; programs without auto_draft get none.
            self.assertEqual([x["id"] for x in self.s.list_all("/v1/spotlights?program=" + manual)],
                             [mine["id"]])
            self.assertEqual(self.s.list_all("/v1/spotlights?program=" + off), [])
            # Once per month, however often the first day is visited.
            for when in (ts(2051, 2, 1, 18), ts(2051, 2, 2), ts(2051, 2, 27)):
                self.at(when)
                self.assertEqual(len(self.s.list_all("/v1/spotlights?program=" + auto)), 1)
            self.at(ts(2051, 3, 1, 0, 0, 0))
            spots = self.s.list_all("/v1/spotlights?program=" + auto)
            self.assertEqual([x["period"] for x in spots], ["2051-01", "2051-02"])
            self.assertEqual(spots[1]["candidates"],
                             {"most_qualified": [], "rising": [], "storyteller": []})
        finally:
            rcv.close()


class DigestTest(RitualCase):
    def test_selection_and_once_a_month(self):
        self.at(ts(2051, 12, 1))
        pid = self.s.make_program(id=uid("dig"), rituals={"digest": True})["id"]
        quiet = self.s.make_program(id=uid("quiet"))["id"]
        p = {n: self.person(pid, n, spotlight=False)
             for n in ("Click", "Refers", "Edge", "NoDigest", "Never", "Blocked", "December",
                       "Feb")}
        q = self.person(quiet, "Quiet", spotlight=False)
        self.s.patch("/v1/participants/" + p["NoDigest"]["id"],
                     {"preferences": {"digest": False}})
        self.s.patch("/v1/participants/" + p["Never"]["id"], {"preferences": {"asks": "never"}})
        self.at(ts(2051, 12, 20))
        self.s.click_id(p["December"]["code"])
        self.at(ts(2052, 1, 10))
        for n in ("Click", "NoDigest", "Never", "Blocked"):
            self.s.click_id(p[n]["code"])
        self.s.click_id(q["code"])
        self.s.patch("/v1/participants/" + p["Blocked"]["id"], {"status": "blocked"})
        self.at(ts(2052, 1, 12))
        friend = self.s.signup(pid, ref=p["Refers"]["code"], first_name="Kim").body["participant"]
        self.at(ts(2052, 1, 31, 23, 59, 59))
        self.s.click_id(p["Edge"]["code"])
        self.at(ts(2052, 2, 1, 0, 0, 0))
        self.s.click_id(p["Feb"]["code"])  # the first second of February: February's

        got = {n: self.notes(p[n], "digest") for n in p}
        self.assertEqual(sorted(n for n in got if got[n]), ["Click", "Edge", "Refers"])
        self.assertEqual(self.notes(q, "digest"), [])
        self.assertEqual(self.notes(friend, "digest"), [])
        for n in ("Click", "Edge", "Refers"):
            d = got[n]
            self.assertEqual(len(d), 1)
            self.assertEqual(d[0]["created_at"], ts(2052, 2, 1, 0, 0, 0))
            self.assertIn("January 2052", d[0]["body"])
            self.assertIn(p[n]["share_url"], d[0]["body"])
            self.assertEqual(d[0]["subject"], "Your month with Test Program")
        self.assertIn("Your link was opened 1 time.", got["Click"][0]["body"])
        self.assertIn("1 friend joined through you.", got["Refers"][0]["body"])
        self.assertIn("So far 1 friend has come through you.", got["Refers"][0]["body"])
        self.assertNotIn("opened", got["Refers"][0]["body"])

        # Once per person and month, whenever the first day is visited again.
        self.at(ts(2052, 2, 1, 20))
        self.assertEqual(len(self.notes(p["Click"], "digest")), 1)
        # A digest is not an ask: no ask recorded, no cooldown after it.
        self.assertEqual(self.s.list_all("/v1/asks?participant=" + p["Click"]["id"]), [])
        self.at(ts(2052, 2, 2))
        r = self.s.post("/v1/moments", {"program": pid, "external_id": p["Click"]["external_id"],
                                        "type": "purchase"})
        self.assertEqual(r.body["ask"]["decision"], "ask", repr(r))
        # March: only February's activity counts (Feb's first-second click).
        self.at(ts(2052, 3, 1, 0, 0, 0))
        self.assertEqual(len(self.notes(p["Feb"], "digest")), 1)
        self.assertEqual(len(self.notes(p["Click"], "digest")), 1)
        self.assertEqual(len(self.notes(p["Edge"], "digest")), 1)
        ex = self.s.get("/v1/participants/%s/export" % p["Click"]["id"]).body
        self.assertEqual([(d["period"], d["created_at"]) for d in ex["digests"]],
                         [("2052-01", ts(2052, 2, 1, 0, 0, 0))])
        self.assertTrue(ex["digests"][0]["notification"].startswith("ntf_"))

    def test_editable_template(self):
        self.at(ts(2053, 1, 5))
        pid = self.s.make_program(id=uid("dig"), rituals={"digest": True}, templates={
            "digest": {"subject": "{{first_name}}, your month", "body": "[{{summary}}] {{share_url}}"}})["id"]
        ann = self.person(pid, "Ann", spotlight=False)
        self.s.click_id(ann["code"])
        self.s.click_id(ann["code"])
        self.at(ts(2053, 2, 1, 9))
        d = self.notes(ann, "digest")
        self.assertEqual(len(d), 1)
        self.assertEqual(d[0]["subject"], "Ann, your month")
        self.assertEqual(d[0]["body"], "[January 2053: Your link was opened 2 times.] %s"
                         % ann["share_url"])

    def test_level_change_alone(self):
        """A level reached last month is enough for a digest, and the digest says where the
        person stands (when this build has tracks and activities, sections 15 and 16)."""
        self.at(ts(2053, 3, 3))
        pid = self.s.make_program(id=uid("lvl"), rituals={"digest": True})["id"]
        r = self.s.patch("/v1/programs/" + pid, {"tracks": [
            {"id": "storyteller", "name": "Storyteller", "counts": "activity:testimonial",
             "levels": [{"id": "voice", "name": "Voice of the Circle", "at": 1,
                         "grants": [{"kind": "recognition", "description": "A badge"}]},
                        {"id": "bard", "name": "Circle Bard", "at": 3,
                         "grants": [{"kind": "recognition", "description": "A pin"}]}]}]})
        if r.status != 200:
            self.skipTest("tracks (section 15) are not in this build: %d" % r.status)
        ann = self.person(pid, "Ann", spotlight=False)
        bob = self.person(pid, "Bob", spotlight=False)
        r = self.s.post("/v1/activities", {"program": pid, "external_id": ann["external_id"],
                                           "type": "testimonial", "id": uid("act")})
        if r.status != 201:
            self.skipTest("activities (section 16) are not in this build: %d" % r.status)
        self.at(ts(2053, 4, 1, 0, 0, 0))
        d = self.notes(ann, "digest")
        self.assertEqual(len(d), 1, self.notes(ann, "level_reached"))
        self.assertIn("March 2053: You reached 1 new level. On Storyteller you are Voice of the "
                      "Circle, 2 away from Circle Bard.", d[0]["body"])
        self.assertEqual(self.notes(bob, "digest"), [])


class PublicPageTest(RitualCase):
    def test_page(self):
        self.at(ts(2054, 1, 2))
        pid = self.s.make_program(id=uid("pub"))["id"]
        path = "/v1/public/programs/" + pid
        self.assertError(self.s.get(path, key=None), 404, "not_found")
        self.assertError(self.s.get(path), 404, "not_found")
        self.assertError(self.s.get("/v1/public/programs/no-such", key=None), 404, "not_found")
        r = self.s.patch("/v1/programs/" + pid, {"public_page": True})
        self.assertIs(r.body["public_page"], True)
        program = r.body

        people = []
        for i in range(12):
            opted = i < 11
            person = self.s.make_participant(pid, first_name="Pat%d" % i,
                                             email="secret%d@example.com" % i,
                                             external_id="ext-secret-%d" % i,
                                             leaderboard_opt_in=opted)
            people.append(person)
        for i, person in enumerate(people):
            for _ in range(2 if i in (3, 11) else 1):
                self.qualify(pid, person, ts(2054, 1, 10 + i % 5))
        self.s.patch("/v1/participants/" + people[3]["id"],
                     {"preferences": {"spotlight_opt_in": True}})
        self.s.patch("/v1/participants/" + people[4]["id"],
                     {"preferences": {"spotlight_opt_in": True}})

        r = self.s.get(path, key=None)
        self.assertStatus(r, 200)
        body = r.body
        self.assertEqual(set(body.keys()),
                         {"program", "rules", "totals", "spotlight", "leaderboard"})
        self.assertEqual(body["program"], {"id": pid, "name": "Test Program"})
        self.assertEqual(body["rules"]["rewards"], program["rewards"])
        self.assertEqual(body["rules"]["qualification"], program["qualification"])
        self.assertEqual(body["rules"]["tracks"], program.get("tracks", []))
        # 12 referrers and 14 friends; 14 qualified referrals; a credit and a free month each.
        self.assertEqual(body["totals"], {"participants": 26, "qualified_referrals": 14,
                                          "rewards_by_kind": {"credit": 14, "free_month": 14}})
        self.assertIsNone(body["spotlight"])
        board = body["leaderboard"]["data"]
        self.assertEqual(len(board), 10)
        self.assertEqual(board[0]["display_name"], "Pat3")
        self.assertEqual(board[0]["rank"], 1)
        self.assertNotIn("Pat11", [x["display_name"] for x in board])
        self.assertEqual(set(board[0].keys()), {"rank", "participant", "display_name",
                                                "qualified"})
        for i in range(12):
            self.assertNotIn("secret%d@" % i, r.raw.decode())
            self.assertNotIn("ext-secret-%d" % i, r.raw.decode())

        # The latest published spotlight, first names only.
        self.at(ts(2054, 2, 2))
        spot = self.draft(pid, "2054-01")
        note = "Pat3 brought two neighbours to the spring clean-up."
        r = self.s.post("/v1/spotlights/%s/publish" % spot["id"], {"winners": [
            {"category": "most_qualified", "participant": people[3]["id"], "note": note},
            {"category": "rising", "participant": people[4]["id"]}]})
        self.assertStatus(r, 200)
        page = self.s.get(path, key=None).body
        self.assertEqual(page["spotlight"], {
            "period": "2054-01", "published_at": ts(2054, 2, 2),
            "winners": [{"category": "most_qualified", "first_name": "Pat3", "note": note},
                        {"category": "rising", "first_name": "Pat4", "note": None}]})
        # A later draft is not shown; a winner who withdraws consent or is erased disappears.
        self.draft(pid, "2054-02")
        self.s.patch("/v1/participants/" + people[4]["id"],
                     {"preferences": {"spotlight_opt_in": False}})
        page = self.s.get(path, key=None).body
        self.assertEqual([w["first_name"] for w in page["spotlight"]["winners"]], ["Pat3"])
        ex = self.s.get("/v1/participants/%s/export" % people[3]["id"]).body
        self.assertEqual(ex["spotlights"]["won"][0]["note"], note)
        self.assertEqual(ex["spotlights"]["won"][0]["category"], "most_qualified")
        self.assertEqual([c["period"] for c in ex["spotlights"]["candidate"]],
                         ["2054-01", "2054-01"])
        self.assertStatus(self.s.post("/v1/participants/%s/erase" % people[3]["id"]), 200)
        page = self.s.get(path, key=None).body
        self.assertEqual(page["spotlight"]["winners"], [])
        self.assertNotIn(note, json.dumps(page))
        shown = self.s.get("/v1/spotlights/" + spot["id"]).body
        self.assertEqual(shown["winners"][0]["first_name"], None)
        self.assertEqual(shown["winners"][0]["note"], None)
        self.assertNotIn("Pat3", json.dumps(shown))
        # Turned off again: gone.
        self.s.patch("/v1/programs/" + pid, {"public_page": False})
        self.assertError(self.s.get(path, key=None), 404, "not_found")


if __name__ == "__main__":
    kithtest.main()
