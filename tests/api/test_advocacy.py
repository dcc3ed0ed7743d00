"""Tracks, levels and roles (contract section 15) and activities (section 16), black-box.

Each rule is walked on the test clock: the `tracks` setting and its validation; counts of each
kind (qualified referrals, signups, activities) kept as things happen; levels reached, with
their grants given once per participant and level, ever (rewards "to": "participant" with a
source, issued at once; roles); owner approval (pending, approve, decline); windows and the
downgrade grace period, with roles taken back when a level drops; roles by hand; progress and
roles on the participant; the level_reached notification; the webhooks; activities (idempotent
by the business's id, 404 for an unknown person, lists, void); export and erasure; and counts
that stay exact under parallel signups and purchases for one referrer.
"""

import json
import threading
import unittest

import kithtest
from kithtest import KithTestCase, uid
from test_webhooks import ALLOW_ENV, WebhookCase, wait_until

DAY = 86400
PRESSURE = ["hurry", "limited time", "don't miss", "act now", "last chance", "only", "before it"]
PROGRESS_KEYS = {"count", "level", "pending_level", "next"}
ACTIVITY_KEYS = ["id", "program", "participant", "type", "note", "url", "status", "occurred_at",
                 "created_at"]
FRAUD_OFF = {"review_at": 8, "reject_at": 9, "velocity_per_day": 1000000, "new_account_hours": 0}

CONNECTOR = {
    "id": "connector", "name": "Connector", "counts": "qualified_referrals",
    "levels": [
        {"id": "friend", "name": "Friend of the Circle", "at": 1,
         "grants": [{"kind": "recognition", "description": "A founding-friend badge"}]},
        {"id": "advocate", "name": "Advocate", "at": 3,
         "grants": [{"kind": "access", "description": "Early access to new sessions"},
                    {"kind": "credit", "amount": 1500, "currency": "USD"}]},
        {"id": "guide", "name": "Community Guide", "at": 5, "approval": "owner",
         "grants": [{"kind": "role", "role": "community_guide",
                     "description": "Host the monthly welcome call"}]}]}


def storyteller(window_days=None, grace=30):
    return {"id": "storyteller", "name": "Storyteller", "counts": "activity:testimonial",
            "window_days": window_days, "downgrade_grace_days": grace,
            "levels": [
                {"id": "voice", "name": "A Voice of the Circle", "at": 1,
                 "grants": [{"kind": "role", "role": "storyteller"}]},
                {"id": "chronicler", "name": "Chronicler", "at": 3,
                 "grants": [{"kind": "experience", "description": "Tea with the coach"}]}]}


class AdvocacyCase(KithTestCase):
    def program(self, tracks, **kw):
        return self.s.make_program(tracks=tracks, fraud=FRAUD_OFF, **kw)

    def referrer(self, prog, name="Maya"):
        return self.s.make_participant(prog["id"], first_name=name)

    def signup(self, prog, who, purchase=True):
        r = self.s.signup(prog["id"], code=who["code"], first_name="Friend")
        self.assertStatus(r, 201)
        self.assertIsNotNone(r.body["referral"], repr(r))
        if purchase:
            e = self.s.event(prog["id"], r.body["participant"]["external_id"])
            self.assertStatus(e, 201)
        return r.body

    def progress(self, who, track=None):
        p = self.s.participant(who["id"])
        for t, v in p["progress"].items():
            self.assertEqual(set(v.keys()), PROGRESS_KEYS, "progress of %s: %r" % (t, v))
        return p["progress"][track] if track else p

    def level_rewards(self, who):
        return [r for r in self.s.rewards(participant=who["id"]) if r["to"] == "participant"]

    def activity(self, prog, who, type="testimonial", **kw):
        body = {"program": prog["id"], "external_id": who["external_id"], "type": type,
                "id": uid("act")}
        body.update(kw)
        return self.s.post("/v1/activities", body)


class TrackSettingsTest(AdvocacyCase):
    def test_defaults_are_filled_in_and_read_back(self):
        p = self.program([CONNECTOR, {"id": "host", "counts": "activity:event_hosted",
                                      "levels": [{"id": "host", "at": 1}]}])
        t = p["tracks"]
        self.assertEqual(len(t), 2)
        self.assertEqual(t[0]["window_days"], None)
        self.assertEqual(t[0]["downgrade_grace_days"], 30)
        self.assertEqual([l["approval"] for l in t[0]["levels"]], ["auto", "auto", "owner"])
        self.assertEqual(t[0]["levels"][2]["grants"],
                         [{"kind": "role", "role": "community_guide",
                           "description": "Host the monthly welcome call"}])
        self.assertEqual(t[0]["levels"][1]["grants"][1],
                         {"kind": "credit", "amount": 1500, "currency": "USD", "description": None,
                          "expires_days": None})
        self.assertEqual(t[1]["name"], "host")
        self.assertEqual(t[1]["levels"], [{"id": "host", "name": "host", "at": 1,
                                           "approval": "auto", "grants": []}])
        self.assertEqual(self.s.get("/v1/programs/" + p["id"]).body["tracks"], t)
        # default []
        self.assertEqual(self.s.make_program()["tracks"], [])
        # PATCH replaces the list
        r = self.s.patch("/v1/programs/" + p["id"], {"tracks": [CONNECTOR]})
        self.assertStatus(r, 200)
        self.assertEqual([x["id"] for x in r.body["tracks"]], ["connector"])

    def bad(self, tracks, param):
        r = self.s.post("/v1/programs", self.s.program_body(tracks=tracks))
        self.assertError(r, 400, "invalid_param", param=param)

    def level(self, **kw):
        d = {"id": "l", "at": 1}
        d.update(kw)
        return d

    def track(self, **kw):
        d = {"id": "t", "counts": "signups", "levels": [self.level()]}
        d.update(kw)
        return d

    def test_validation(self):
        self.bad({"id": "t"}, "tracks")
        self.bad([self.track(id="Bad Id")], "tracks[0].id")
        self.bad([self.track(id="a" * 41)], "tracks[0].id")
        self.bad([self.track(), self.track()], "tracks[1].id")
        self.bad([self.track(counts="clicks")], "tracks[0].counts")
        self.bad([self.track(counts="activity:Event")], "tracks[0].counts")
        self.bad([self.track(counts=None)], "tracks[0].counts")
        self.bad([self.track(window_days=0)], "tracks[0].window_days")
        self.bad([self.track(downgrade_grace_days=-1)], "tracks[0].downgrade_grace_days")
        self.bad([self.track(levels=[])], "tracks[0].levels")
        self.bad([self.track(levels=[self.level(id="l%d" % i, at=i + 1) for i in range(11)])],
                 "tracks[0].levels")
        self.bad([self.track(id="t%d" % i) for i in range(9)], "tracks")
        self.bad([self.track(levels=[self.level(id="a", at=2), self.level(id="b", at=2)])],
                 "tracks[0].levels[1].at")
        self.bad([self.track(levels=[self.level(id="a", at=3), self.level(id="b", at=2)])],
                 "tracks[0].levels[1].at")
        self.bad([self.track(levels=[self.level(at=0)])], "tracks[0].levels[0].at")
        self.bad([self.track(levels=[{"id": "l"}])], "tracks[0].levels[0].at")
        self.bad([self.track(levels=[self.level(id="a"), self.level(id="a", at=2)])],
                 "tracks[0].levels[1].id")
        self.bad([self.track(levels=[self.level(approval="admin")])],
                 "tracks[0].levels[0].approval")
        self.bad([self.track(levels=[self.level(colour="red")])], "tracks[0].levels[0].colour")
        self.bad([self.track(extra=1)], "tracks[0].extra")
        g = "tracks[0].levels[0].grants[0]."
        self.bad([self.track(levels=[self.level(grants=[{"kind": "points"}])])], g + "kind")
        self.bad([self.track(levels=[self.level(grants=[{"kind": "credit", "currency": "USD"}])])],
                 g + "amount")
        self.bad([self.track(levels=[self.level(grants=[{"kind": "credit", "amount": 5}])])],
                 g + "currency")
        self.bad([self.track(levels=[self.level(grants=[{"kind": "access"}])])], g + "description")
        self.bad([self.track(levels=[self.level(grants=[{"kind": "role"}])])], g + "role")
        self.bad([self.track(levels=[self.level(grants=[{"kind": "role", "role": "Guide-1"}])])],
                 g + "role")
        self.bad([self.track(levels=[self.level(grants=[{"kind": "gift", "description": "x",
                                                          "role": "r"}])])], g + "role")
        # the limits themselves pass: 8 tracks of 10 levels
        ok = [self.track(id="t%d" % i, levels=[self.level(id="l%d" % k, at=k + 1)
                                                for k in range(10)]) for i in range(8)]
        self.assertStatus(self.s.post("/v1/programs", self.s.program_body(tracks=ok)), 201)


class QualifiedReferralsTest(AdvocacyCase):
    def test_levels_grants_once_and_progress(self):
        p = self.program([CONNECTOR])
        maya = self.referrer(p)
        pr = self.progress(maya, "connector")
        self.assertEqual(pr, {"count": 0, "level": None, "pending_level": None,
                              "next": {"level": "friend", "at": 1, "remaining": 1}})
        self.assertEqual(self.s.participant(maya["id"])["roles"], [])
        # a signup alone is not a qualified referral
        self.signup(p, maya, purchase=False)
        self.assertEqual(self.progress(maya, "connector")["count"], 0)
        self.signup(p, maya)
        self.assertEqual(self.progress(maya, "connector"),
                         {"count": 1, "level": "friend", "pending_level": None,
                          "next": {"level": "advocate", "at": 3, "remaining": 2}})
        rw = self.level_rewards(maya)
        self.assertEqual(len(rw), 1)
        self.assertKeys(rw[0], kithtest.REWARD_KEYS + ["source"])
        self.assertEqual((rw[0]["kind"], rw[0]["description"], rw[0]["status"], rw[0]["referral"],
                          rw[0]["source"]),
                         ("recognition", "A founding-friend badge", "issued", None,
                          {"track": "connector", "level": "friend"}))
        self.assertIsNotNone(rw[0]["issued_at"])
        self.signup(p, maya)
        self.signup(p, maya)
        self.assertEqual(self.progress(maya, "connector"),
                         {"count": 3, "level": "advocate", "pending_level": None,
                          "next": {"level": "guide", "at": 5, "remaining": 2}})
        rw = self.level_rewards(maya)
        self.assertEqual(sorted((r["source"]["level"], r["kind"]) for r in rw),
                         [("advocate", "access"), ("advocate", "credit"), ("friend", "recognition")])
        credit = [r for r in rw if r["kind"] == "credit"][0]
        self.assertEqual((credit["amount"], credit["currency"]), (1500, "USD"))
        # the referrer's referral rewards are untouched by level grants
        mine = [r for r in self.s.rewards(participant=maya["id"]) if r["to"] == "referrer"]
        self.assertEqual(len(mine), 3)
        self.assertTrue(all(r["source"] is None for r in mine))

    def test_held_referral_counts_when_rewarded(self):
        p = self.program([CONNECTOR], qualification={"event": "purchase", "hold_days": 7})
        maya = self.referrer(p)
        self.signup(p, maya)
        self.assertEqual(self.progress(maya, "connector")["count"], 0)
        self.s.clock_advance(7 * DAY)
        self.assertEqual(self.progress(maya, "connector")["level"], "friend")
        # a refund during another hold never counts it
        b = self.signup(p, maya)
        self.s.event(p["id"], b["participant"]["external_id"], type="refund")
        self.s.clock_advance(8 * DAY)
        self.assertEqual(self.progress(maya, "connector")["count"], 1)

    def test_level_reached_notification(self):
        p = self.program([CONNECTOR], name="Wellness Circle")
        maya = self.referrer(p)
        self.signup(p, maya)
        notes = self.s.list_all("/v1/participants/%s/notifications" % maya["id"])
        lv = [n for n in notes if n["stage"] == "level_reached"]
        self.assertEqual(len(lv), 1, notes)
        n = lv[0]
        self.assertIn("Friend of the Circle", n["subject"])
        self.assertIn("Maya", n["body"])
        self.assertIn("Connector", n["body"])
        self.assertIn("Wellness Circle", n["body"])
        self.assertIn("A founding-friend badge", n["body"])
        low = (n["subject"] + n["body"]).lower()
        for w in PRESSURE:
            self.assertNotIn(w, low)
        self.assertNotIn("{{", n["body"])
        # after the referral's own thank-you
        stages = [x["stage"] for x in notes]
        self.assertLess(stages.index("referral_rewarded"), stages.index("level_reached"))

    def test_template_is_editable(self):
        p = self.program([CONNECTOR])
        r = self.s.patch("/v1/programs/" + p["id"], {"templates": {"level_reached": {
            "subject": "{{level_name}}, {{first_name}}",
            "body": "{{track_name}} / {{level_name}} / {{reward}}"}}})
        self.assertStatus(r, 200)
        maya = self.referrer(p)
        self.signup(p, maya)
        n = [x for x in self.s.list_all("/v1/participants/%s/notifications" % maya["id"])
             if x["stage"] == "level_reached"][0]
        self.assertEqual(n["subject"], "Friend of the Circle, Maya")
        self.assertEqual(n["body"], "Connector / Friend of the Circle / A founding-friend badge")
        r = self.s.patch("/v1/programs/" + p["id"], {"templates": {"level_reached": {
            "body": "{{level}}"}}})
        self.assertError(r, 400, "invalid_param", param="templates.level_reached")


class ApprovalTest(AdvocacyCase):
    def test_pending_approve_decline(self):
        p = self.program([CONNECTOR])
        maya = self.referrer(p)
        for _ in range(5):
            self.signup(p, maya)
        pr = self.progress(maya, "connector")
        self.assertEqual(pr, {"count": 5, "level": "advocate", "pending_level": "guide",
                              "next": None})
        # pending: no grants yet
        self.assertEqual(self.s.participant(maya["id"])["roles"], [])
        base = "/v1/participants/%s/levels/" % maya["id"]
        self.assertError(self.s.post(base + "nope/approve"), 404, "not_found", param="track")
        self.assertError(self.s.post(base + "connector/approve", {"x": 1}), 400, "invalid_param",
                         param="x")
        r = self.s.post(base + "connector/approve")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["progress"]["connector"],
                         {"count": 5, "level": "guide", "pending_level": None, "next": None})
        self.assertEqual([x["role"] for x in r.body["roles"]], ["community_guide"])
        self.assertEqual(r.body["roles"][0]["source"], "level")
        self.assertTime(r.body["roles"][0]["granted_at"])
        # nothing waits any more
        self.assertError(self.s.post(base + "connector/approve"), 409, "invalid_state")
        self.assertError(self.s.post(base + "connector/decline"), 409, "invalid_state")

    def test_decline_then_approve_later(self):
        p = self.program([CONNECTOR])
        sam = self.referrer(p, "Sam")
        for _ in range(5):
            self.signup(p, sam)
        base = "/v1/participants/%s/levels/connector/" % sam["id"]
        r = self.s.post(base + "decline")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["progress"]["connector"]["pending_level"], None)
        self.assertEqual(r.body["progress"]["connector"]["level"], "advocate")
        # not proposed again as the count grows
        self.signup(p, sam)
        self.assertEqual(self.progress(sam, "connector")["pending_level"], None)
        # the owner may still confer it
        r = self.s.post(base + "approve")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["progress"]["connector"]["level"], "guide")


class WindowsAndGraceTest(AdvocacyCase):
    def test_window_grace_drop_and_once_ever(self):
        p = self.program([storyteller(window_days=30, grace=10)])
        ana = self.referrer(p, "Ana")
        for _ in range(3):
            self.assertStatus(self.activity(p, ana), 201)
        pr = self.progress(ana, "storyteller")
        self.assertEqual(pr, {"count": 3, "level": "chronicler", "pending_level": None,
                              "next": None})
        roles = self.s.participant(ana["id"])["roles"]
        self.assertEqual([(x["role"], x["source"]) for x in roles], [("storyteller", "level")])
        # the window closes: count 0, level kept through the grace period
        self.s.clock_advance(30 * DAY)
        pr = self.progress(ana, "storyteller")
        self.assertEqual((pr["count"], pr["level"]), (0, "chronicler"))
        self.s.clock_advance(10 * DAY - 1)
        self.assertEqual(self.progress(ana, "storyteller")["level"], "chronicler")
        self.s.clock_advance(1)
        pr = self.progress(ana, "storyteller")
        self.assertEqual(pr, {"count": 0, "level": None, "pending_level": None,
                              "next": {"level": "voice", "at": 1, "remaining": 1}})
        # the level's role goes, its reward stays
        self.assertEqual(self.s.participant(ana["id"])["roles"], [])
        rw = self.level_rewards(ana)
        self.assertEqual([(r["source"]["level"], r["status"]) for r in rw],
                         [("chronicler", "issued")])
        # reached again: the role comes back, the reward is not given twice
        for _ in range(3):
            self.assertStatus(self.activity(p, ana), 201)
        self.assertEqual(self.progress(ana, "storyteller")["level"], "chronicler")
        self.assertEqual([x["role"] for x in self.s.participant(ana["id"])["roles"]],
                         ["storyteller"])
        self.assertEqual(len(self.level_rewards(ana)), 1)
        notes = [n for n in self.s.list_all("/v1/participants/%s/notifications" % ana["id"])
                 if n["stage"] == "level_reached"]
        self.assertEqual(len(notes), 2)  # voice and chronicler, once each

    def test_recovering_within_grace_keeps_the_level(self):
        p = self.program([storyteller(window_days=30, grace=10)])
        ana = self.referrer(p, "Ana")
        self.assertStatus(self.activity(p, ana), 201)
        self.s.clock_advance(35 * DAY)
        self.assertEqual(self.progress(ana, "storyteller")["level"], "voice")
        self.assertStatus(self.activity(p, ana), 201)
        self.s.clock_advance(6 * DAY)
        self.assertEqual(self.progress(ana, "storyteller"),
                         {"count": 1, "level": "voice", "pending_level": None,
                          "next": {"level": "chronicler", "at": 3, "remaining": 2}})

    def test_backdated_activity_outside_window_is_not_counted(self):
        p = self.program([storyteller(window_days=30)])
        ana = self.referrer(p, "Ana")
        old = kithtest.fmt_time(self.s.clock_now() - kithtest._dt.timedelta(days=31))
        r = self.activity(p, ana, occurred_at=old)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["progress"]["storyteller"]["count"], 0)
        edge = kithtest.fmt_time(self.s.clock_now() - kithtest._dt.timedelta(days=29))
        r = self.activity(p, ana, occurred_at=edge)
        self.assertEqual(r.body["progress"]["storyteller"]["count"], 1)
        # it leaves the window 30 days after it happened, not after it was reported
        self.s.clock_advance(DAY - 1)
        self.assertEqual(self.progress(ana, "storyteller")["count"], 1)
        self.s.clock_advance(1)
        self.assertEqual(self.progress(ana, "storyteller")["count"], 0)

    def test_signups_rejected_drop_with_no_grace(self):
        t = {"id": "welcomer", "counts": "signups", "downgrade_grace_days": 0,
             "levels": [{"id": "one", "at": 1}, {"id": "two", "at": 2,
                                                 "grants": [{"kind": "role", "role": "greeter"}]}]}
        p = self.program([t])
        lee = self.referrer(p, "Lee")
        a = self.signup(p, lee, purchase=False)
        self.signup(p, lee, purchase=False)
        self.assertEqual(self.progress(lee, "welcomer")["level"], "two")
        r = self.s.post("/v1/referrals/%s/reject" % a["referral"]["id"], {"reason": "test"})
        self.assertStatus(r, 200)
        pr = self.progress(lee, "welcomer")
        self.assertEqual((pr["count"], pr["level"]), (1, "one"))
        self.assertEqual(self.s.participant(lee["id"])["roles"], [])

    def test_levels_held_stay_when_tracks_change(self):
        p = self.program([storyteller()])
        ana = self.referrer(p, "Ana")
        for _ in range(3):
            self.activity(p, ana)
        t = storyteller()
        t["levels"][1]["at"] = 10
        self.assertStatus(self.s.patch("/v1/programs/" + p["id"], {"tracks": [t]}), 200)
        self.activity(p, ana)
        pr = self.progress(ana, "storyteller")
        self.assertEqual((pr["count"], pr["level"]), (4, "chronicler"))


class RolesTest(AdvocacyCase):
    def test_roles_by_hand(self):
        p = self.program([storyteller(window_days=30, grace=0)])
        kim = self.referrer(p, "Kim")
        url = "/v1/participants/%s/roles" % kim["id"]
        r = self.s.post(url, {"role": "welcome_host"})
        self.assertStatus(r, 201)
        self.assertEqual([(x["role"], x["source"]) for x in r.body["roles"]],
                         [("welcome_host", "owner")])
        self.assertEqual(set(r.body["roles"][0].keys()), {"role", "granted_at", "source"})
        self.assertStatus(self.s.post(url, {"role": "welcome_host"}), 200)
        self.assertError(self.s.post(url, {"role": "Welcome Host"}), 400, "invalid_param",
                         param="role")
        self.assertError(self.s.post(url, {}), 400, "invalid_param", param="role")
        self.assertError(self.s.post("/v1/participants/par_nope/roles", {"role": "x"}), 404,
                         "not_found")
        # an owner's role outlives the level that also grants it
        self.assertStatus(self.s.post(url, {"role": "storyteller"}), 201)
        self.activity(p, kim)
        self.s.clock_advance(31 * DAY)
        self.assertEqual(self.progress(kim, "storyteller")["level"], None)
        self.assertEqual(sorted(x["role"] for x in self.s.participant(kim["id"])["roles"]),
                         ["storyteller", "welcome_host"])
        r = self.s.delete(url + "/welcome_host")
        self.assertStatus(r, 200)
        self.assertEqual([x["role"] for x in r.body["roles"]], ["storyteller"])
        self.assertError(self.s.delete(url + "/welcome_host"), 404, "not_found")

    def test_a_level_role_granted_by_hand_becomes_the_owners(self):
        p = self.program([storyteller(window_days=30, grace=0)])
        kim = self.referrer(p, "Kim")
        self.activity(p, kim)
        self.assertEqual(self.s.participant(kim["id"])["roles"][0]["source"], "level")
        r = self.s.post("/v1/participants/%s/roles" % kim["id"], {"role": "storyteller"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["roles"][0]["source"], "owner")
        self.s.clock_advance(31 * DAY)
        self.assertEqual([x["role"] for x in self.s.participant(kim["id"])["roles"]],
                         ["storyteller"])


    def test_a_role_two_levels_grant_stays_while_one_is_held(self):
        elder = [{"kind": "role", "role": "elder"}]
        t1 = {"id": "reviews", "counts": "activity:review", "window_days": 10,
              "downgrade_grace_days": 0, "levels": [{"id": "r1", "at": 1, "grants": elder}]}
        t2 = {"id": "answers", "counts": "activity:community_answer", "window_days": 20,
              "downgrade_grace_days": 0, "levels": [{"id": "a1", "at": 1, "grants": elder}]}
        p = self.program([t1, t2])
        kim = self.referrer(p, "Kim")
        self.activity(p, kim, type="review")
        self.activity(p, kim, type="community_answer")
        roles = self.s.participant(kim["id"])["roles"]
        self.assertEqual([x["role"] for x in roles], ["elder"])
        self.s.clock_advance(10 * DAY)
        pr = self.progress(kim)
        self.assertEqual((pr["progress"]["reviews"]["level"], pr["progress"]["answers"]["level"]),
                         (None, "a1"))
        self.assertEqual([x["role"] for x in pr["roles"]], ["elder"])
        self.s.clock_advance(10 * DAY)
        self.assertEqual(self.s.participant(kim["id"])["roles"], [])


class ActivitiesTest(AdvocacyCase):
    def test_create_replay_get_list_void(self):
        p = self.program([storyteller()])
        ana = self.referrer(p, "Ana")
        r = self.activity(p, ana, id="t-1", note="Maya's sessions changed my mornings",
                          url="https://example.com/reviews/1")
        self.assertStatus(r, 201)
        a = r.body["activity"]
        self.assertKeys(a, ACTIVITY_KEYS)
        self.assertTrue(a["id"].startswith("act_"))
        self.assertEqual((a["program"], a["participant"], a["type"], a["status"]),
                         (p["id"], ana["id"], "testimonial", "counted"))
        self.assertEqual(a["note"], "Maya's sessions changed my mornings")
        self.assertEqual(a["url"], "https://example.com/reviews/1")
        self.assertTime(a["occurred_at"])
        self.assertEqual(r.body["progress"]["storyteller"]["count"], 1)
        # the same id again: 200, the first result, no new effect
        again = self.activity(p, ana, id="t-1", note="something else")
        self.assertStatus(again, 200)
        self.assertEqual(again.body, r.body)
        self.assertEqual(self.progress(ana, "storyteller")["count"], 1)
        # unknown person
        r2 = self.s.post("/v1/activities", {"program": p["id"], "external_id": "nobody",
                                            "type": "testimonial", "id": "t-2"})
        self.assertError(r2, 404, "not_found")
        # validation
        self.assertError(self.activity(p, ana, type="Bad-Type"), 400, "invalid_param",
                         param="type")
        self.assertError(self.activity(p, ana, url="ftp://x"), 400, "invalid_param", param="url")
        self.assertError(self.activity(p, ana, colour="red"), 400, "invalid_param",
                         param="colour")
        self.assertError(self.s.post("/v1/activities", {"program": p["id"],
                                                        "external_id": ana["external_id"],
                                                        "type": "review"}),
                         400, "invalid_param", param="id")
        # a type no track counts is kept, not counted
        r3 = self.activity(p, ana, type="review")
        self.assertStatus(r3, 201)
        self.assertEqual(r3.body["progress"]["storyteller"]["count"], 1)
        # get and list
        g = self.s.get("/v1/activities/" + a["id"])
        self.assertStatus(g, 200)
        self.assertEqual(g.body, a)
        self.assertError(self.s.get("/v1/activities/act_nope"), 404, "not_found")
        mine = self.s.list_all("/v1/activities?participant=" + ana["id"])
        self.assertEqual([x["type"] for x in mine], ["testimonial", "review"])
        only = self.s.list_all("/v1/activities?program=%s&type=review" % p["id"])
        self.assertEqual([x["id"] for x in only], [r3.body["activity"]["id"]])
        self.assertList(self.s.get("/v1/activities?limit=1"))
        self.assertError(self.s.get("/v1/activities?who=1"), 400, "invalid_param", param="who")
        # void: counted -> voided, progress recounted
        v = self.s.post("/v1/activities/%s/void" % a["id"], {"reason": "posted twice"})
        self.assertStatus(v, 200)
        self.assertEqual(v.body["activity"]["status"], "voided")
        self.assertEqual(v.body["progress"]["storyteller"]["count"], 0)
        self.assertEqual(self.progress(ana, "storyteller")["count"], 0)
        self.assertError(self.s.post("/v1/activities/%s/void" % a["id"]), 409, "invalid_state")
        self.assertError(self.s.post("/v1/activities/act_nope/void"), 404, "not_found")
        # the replay still answers with the first result's activity, as it now is
        self.assertEqual(self.activity(p, ana, id="t-1").status, 200)

    def test_program_may_be_left_out_with_one_program(self):
        s = kithtest.Server()
        try:
            p = s.make_program(tracks=[storyteller()])
            ana = s.make_participant(p["id"])
            r = s.post("/v1/activities", {"external_id": ana["external_id"],
                                          "type": "testimonial", "id": "x"})
            self.assertStatus(r, 201)
            self.assertEqual(r.body["progress"]["storyteller"]["level"], "voice")
        finally:
            s.stop()


class WebhooksTest(WebhookCase, AdvocacyCase):
    def test_level_and_role_events(self):
        ep, path = self.endpoint(events=["participant.level_changed", "participant.level_pending",
                                         "participant.role_granted", "participant.role_revoked"])
        p = self.program([CONNECTOR, storyteller(window_days=30, grace=0)])
        maya = self.referrer(p)
        for _ in range(5):
            self.signup(p, maya)
        self.s.post("/v1/participants/%s/levels/connector/approve" % maya["id"])
        self.activity(p, maya)
        self.s.clock_advance(31 * DAY)
        self.rcv.wait(path, n=9)
        self.s.settle_sender()
        # At least once: a clock jump past an attempt's 30 s lease may send a message again, with
        # its id. Count messages, not arrivals.
        got = list({d.msg_id: d for d in self.rcv.got(path)}.values())
        self.assertEqual(len(got), 9, got)
        self.assertSigned(got)
        # delivery order is not guaranteed: compare what arrived, in any order
        data = [(d.type, d.json["data"]) for d in got]
        changed = [x for t, x in data if t == "participant.level_changed"]
        self.assertEqual(sorted((x["track"], x["from"] or "", x["to"] or "") for x in changed),
                         sorted([("connector", "", "friend"), ("connector", "friend", "advocate"),
                                 ("connector", "advocate", "guide"), ("storyteller", "", "voice"),
                                 ("storyteller", "voice", "")]))
        self.assertTrue(all(x["participant"] == maya["id"] for x in changed))
        pending = [x for t, x in data if t == "participant.level_pending"]
        self.assertEqual([(x["participant"], x["track"], x["level"]) for x in pending],
                         [(maya["id"], "connector", "guide")])
        granted = sorted(x["role"] for t, x in data if t == "participant.role_granted")
        self.assertEqual(granted, ["community_guide", "storyteller"])
        revoked = [(x["role"], x["source"]) for t, x in data if t == "participant.role_revoked"]
        self.assertEqual(revoked, [("storyteller", "level")])


class PrivacyTest(AdvocacyCase):
    def test_export_and_erase(self):
        p = self.program([CONNECTOR, storyteller()])
        ana = self.referrer(p, "Ana")
        self.signup(p, ana)
        note = "Ana-secret-note-" + uid("n")
        link = "https://example.com/" + uid("u")
        self.assertStatus(self.activity(p, ana, note=note, url=link), 201)
        self.s.post("/v1/participants/%s/roles" % ana["id"], {"role": "welcome_host"})
        e = self.s.get("/v1/participants/%s/export" % ana["id"])
        self.assertStatus(e, 200)
        doc = e.body
        self.assertEqual([(a["note"], a["url"]) for a in doc["activities"]], [(note, link)])
        self.assertEqual(sorted((t["track"], t["count"], t["level"]) for t in doc["tracks"]),
                         [("connector", 1, "friend"), ("storyteller", 1, "voice")])
        self.assertEqual(sorted((x["track"], x["level"]) for x in doc["levels_reached"]),
                         [("connector", "friend"), ("storyteller", "voice")])
        self.assertEqual(len(doc["track_entries"]), 2)
        self.assertEqual(sorted(r["role"] for r in doc["roles"]), ["storyteller", "welcome_host"])
        self.assertIn("progress", doc["participant"])
        self.assertTrue(any(r["source"] for r in doc["rewards"]))
        r = self.s.post("/v1/participants/%s/erase" % ana["id"])
        self.assertStatus(r, 200)
        doc = self.s.get("/v1/participants/%s/export" % ana["id"]).body
        self.assertEqual([(a["note"], a["url"], a["status"]) for a in doc["activities"]],
                         [(None, None, "counted")])
        # counts and levels stay (pseudonymous), like referrals and rewards
        self.assertEqual(doc["participant"]["progress"]["storyteller"]["count"], 1)
        acts = self.s.list_all("/v1/activities?participant=" + ana["id"])
        self.assertEqual([a["note"] for a in acts], [None])
        for n in doc["notifications"]:
            self.assertIsNone(n["body"])
        # an erased person reports no new activity
        self.assertError(self.activity(p, ana), 409, "invalid_state")
        blob = b"".join(open(f, "rb").read() for f in self.s.db_files())
        self.assertNotIn(note.encode(), blob)
        self.assertNotIn(link.encode(), blob)


class ConcurrencyTest(AdvocacyCase):
    N = 24

    def parallel(self, fn, items):
        errors, out = [], [None] * len(items)

        def run(i):
            try:
                out[i] = fn(items[i])
            except Exception as e:  # surfaced below
                errors.append(e)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        return out

    def test_parallel_signups_and_purchases_for_one_referrer(self):
        n = self.N
        tracks = [
            {"id": "welcomer", "counts": "signups",
             "levels": [{"id": "w%d" % at, "at": at,
                         "grants": [{"kind": "recognition", "description": "w%d" % at}]}
                        for at in (1, 5, 10, 20)]},
            {"id": "connector", "counts": "qualified_referrals",
             "levels": [{"id": "c%d" % at, "at": at,
                         "grants": [{"kind": "gift", "description": "c%d" % at},
                                    {"kind": "role", "role": "c%d" % at}]}
                        for at in (1, 6, 12, 24)]}]
        p = self.program(tracks)
        maya = self.referrer(p)

        def signup(i):
            r = self.s.signup(p["id"], code=maya["code"], first_name="F%d" % i)
            if r.status not in (200, 201):
                raise AssertionError(repr(r))
            return r.body["participant"]["external_id"]
        people = self.parallel(signup, list(range(n)))
        pr = self.progress(maya)
        self.assertEqual(pr["progress"]["welcomer"]["count"], n)
        self.assertEqual(pr["progress"]["welcomer"]["level"], "w20")

        def buy(ext):
            r = self.s.event(p["id"], ext)
            if r.status != 201:
                raise AssertionError(repr(r))
        self.parallel(buy, people)
        pr = self.progress(maya)
        self.assertEqual(pr["progress"]["connector"],
                         {"count": n, "level": "c24", "pending_level": None, "next": None})
        self.assertEqual(sorted(r["role"] for r in pr["roles"]), ["c1", "c12", "c24", "c6"])
        given = sorted(r["description"] for r in self.level_rewards(maya))
        self.assertEqual(given, sorted(["w1", "w5", "w10", "w20", "c1", "c6", "c12", "c24"]))
        reached = self.s.get("/v1/participants/%s/export" % maya["id"]).body["levels_reached"]
        self.assertEqual(len(reached), 8)
        notes = [x for x in self.s.list_all("/v1/participants/%s/notifications" % maya["id"])
                 if x["stage"] == "level_reached"]
        self.assertEqual(len(notes), 8)


if __name__ == "__main__":
    kithtest.main()
