"""Signups and the attribution waterfall (contract section 5, referral reads of section 6)."""

import datetime as dt

import kithtest
from kithtest import KithTestCase, PARTICIPANT_KEYS, REFERRAL_KEYS, uid

DAY = 86400


def rejected_set(body):
    return sorted((x["source"], x["reason"]) for x in body["attribution"]["rejected"])


class SignupsTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.server.make_program(cookie_days=30)
        cls.pid = cls.program["id"]
        cls.other = cls.server.make_program()

    def referrer(self, name="Jane", **kw):
        return self.s.make_participant(self.pid, name, **kw)

    def assertReferral(self, resp, referrer, source, code=None):
        self.assertStatus(resp, 201)
        self.assertEqual(resp.body["attribution"]["source"], source, repr(resp))
        ref = resp.body["referral"]
        self.assertIsNotNone(ref, repr(resp))
        self.assertEqual(ref["referrer"]["id"], referrer["id"], repr(resp))
        self.assertEqual(ref["source"], source)
        if code is not None:
            self.assertEqual(ref["code"], code)
        return ref

    def assertOrganic(self, resp, rejected=()):
        self.assertStatus(resp, 201)
        self.assertIsNone(resp.body["referral"], repr(resp))
        self.assertIsNone(resp.body["participant"]["referred_by"])
        self.assertEqual(resp.body["attribution"]["source"], "organic")
        self.assertEqual(rejected_set(resp.body), sorted(rejected))

    # ---- shapes ------------------------------------------------------------------------------
    def test_url_signup_shape(self):
        now = self.s.clock_now()
        jane = self.referrer("Jane")
        ext = uid("s")
        r = self.s.post("/v1/signups", {"program": self.pid, "external_id": ext,
                                        "email": "sam@example.com", "first_name": "Sam",
                                        "ref": jane["code"], "ip": "203.0.113.7",
                                        "user_agent": "Mozilla/5.0", "device_id": "dev-sam",
                                        "payment_fingerprint": "fp-sam"})
        self.assertStatus(r, 201)
        self.assertEqual(set(r.body.keys()) >= {"participant", "referral", "attribution"}, True)
        self.assertEqual(r.body["attribution"], {"source": "url", "rejected": []})
        p = r.body["participant"]
        self.assertKeys(p, PARTICIPANT_KEYS, "participant")
        self.assertEqual(p["external_id"], ext)
        self.assertEqual(p["first_name"], "Sam")
        self.assertRegex(p["code"], r"^SAM-[0-9]{4}$")
        self.assertEqual(p["status"], "active")
        ref = r.body["referral"]
        self.assertKeys(ref, REFERRAL_KEYS, "referral")
        self.assertTrue(ref["id"].startswith("ref_"), ref["id"])
        self.assertEqual(p["referred_by"], ref["id"])
        self.assertEqual(ref["program"], self.pid)
        self.assertEqual({k: ref["referrer"].get(k) for k in ("id", "first_name", "code")},
                         {"id": jane["id"], "first_name": "Jane", "code": jane["code"]})
        self.assertEqual({k: ref["referred"].get(k) for k in ("id", "first_name")},
                         {"id": p["id"], "first_name": "Sam"})
        self.assertEqual(ref["code"], jane["code"])
        self.assertEqual(ref["source"], "url")
        self.assertIsNone(ref["channel"])
        self.assertEqual(ref["status"], "pending")
        self.assertIsInstance(ref["fraud"]["flags"], list)
        self.assertEqual(ref["fraud"]["score"], len(ref["fraud"]["flags"]))
        self.assertLess(ref["fraud"]["score"], 3)  # default review_at
        created = self.assertTime(ref["created_at"])
        self.assertEqual(created, now)
        self.assertIsNone(ref["qualified_at"])
        self.assertIsNone(ref["rewarded_at"])
        self.assertEqual(self.assertTime(ref["expires_at"]), created + dt.timedelta(days=90))
        g = self.s.get("/v1/referrals/" + ref["id"])
        self.assertStatus(g, 200)
        self.assertEqual(g.body, ref)
        # the referred person is a participant with their own code
        self.assertEqual(self.s.participant(p["id"])["referred_by"], ref["id"])
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 1)

    def test_only_external_id_required(self):
        r = self.s.post("/v1/signups", {"program": self.pid, "external_id": uid("s")})
        self.assertOrganic(r)
        self.assertRegex(r.body["participant"]["code"], r"^[A-Z]{4}-[0-9]{4}$")

    # ---- each source ---------------------------------------------------------------------------
    def test_url_source(self):
        jane = self.referrer()
        self.assertReferral(self.s.signup(self.pid, ref=jane["code"]), jane, "url", jane["code"])
        self.assertReferral(self.s.signup(self.pid, ref=jane["code"].lower()), jane, "url")

    def test_code_source(self):
        jane = self.referrer()
        typed = jane["code"].replace("-", " ").lower()
        ref = self.assertReferral(self.s.signup(self.pid, code=typed), jane, "code")
        self.assertEqual(ref["code"], jane["code"])

    def test_cookie_source(self):
        jane = self.referrer()
        cid = self.s.click_id(jane["code"], query="?ch=sms")
        ref = self.assertReferral(self.s.signup(self.pid, click_id=cid), jane, "cookie", jane["code"])
        self.assertEqual(ref["channel"], "sms")
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 1)

    def test_organic(self):
        self.assertOrganic(self.s.signup(self.pid))

    # ---- rejections ------------------------------------------------------------------------------
    def test_unknown_code(self):
        self.assertOrganic(self.s.signup(self.pid, ref="QQXQ-0000"), [("url", "unknown_code")])
        self.assertOrganic(self.s.signup(self.pid, code="qqxq 0000"), [("code", "unknown_code")])

    def test_unknown_click(self):
        self.assertOrganic(self.s.signup(self.pid, click_id="clk_doesnotexist000"),
                           [("cookie", "unknown_click")])
        self.assertOrganic(self.s.signup(self.pid, click_id="garbage"), [("cookie", "unknown_click")])

    def test_other_program(self):
        alien = self.s.make_participant(self.other["id"], "Olga")
        cid = self.s.click_id(alien["code"])
        r = self.s.signup(self.pid, ref=alien["code"], code=alien["code"], click_id=cid)
        self.assertOrganic(r, [("code", "other_program"), ("cookie", "other_program"),
                               ("url", "other_program")])

    def test_referrer_blocked(self):
        jane = self.referrer()
        cid = self.s.click_id(jane["code"])
        self.assertStatus(self.s.patch("/v1/participants/" + jane["id"], {"status": "blocked"}), 200)
        r = self.s.signup(self.pid, click_id=cid)
        self.assertOrganic(r, [("cookie", "referrer_blocked")])
        r = self.s.signup(self.pid, ref=jane["code"])
        self.assertOrganic(r, [("url", "referrer_blocked")])
        r = self.s.signup(self.pid, code=jane["code"])
        self.assertOrganic(r, [("code", "referrer_blocked")])
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 0)

    def test_self_referral_by_email(self):
        cases = [("Jane.Doe+ref@Gmail.com", "janedoe@gmail.com"),
                 ("jane.doe@googlemail.com", "JaneDoe+x@googlemail.com"),
                 ("j.doe+a@example.com", "J.Doe@EXAMPLE.com"),
                 ("j.doe@example.com", "j.doe+promo@example.com")]
        for referrer_email, signup_email in cases:
            tag = uid("e").replace("-", "")
            a = referrer_email.replace("@", tag + "@", 1) if "+" not in referrer_email.split("@")[0] \
                else referrer_email.replace("+", tag + "+", 1)
            b = signup_email.replace("@", tag + "@", 1) if "+" not in signup_email.split("@")[0] \
                else signup_email.replace("+", tag + "+", 1)
            jane = self.referrer(email=a)
            r = self.s.signup(self.pid, ref=jane["code"], email=b)
            self.assertOrganic(r, [("url", "self_referral")])

    def test_not_self_referral(self):
        # dots only matter for gmail.com / googlemail.com; different domains never match
        for referrer_email, signup_email in (("j.doe@example.com", "jdoe@example.com"),
                                             ("jdoe@gmail.com", "jdoe@gmail.co")):
            tag = uid("e").replace("-", "")
            jane = self.referrer(email=referrer_email.replace("@", tag + "@"))
            r = self.s.signup(self.pid, ref=jane["code"], email=signup_email.replace("@", tag + "@"))
            self.assertReferral(r, jane, "url")

    def test_self_referral_by_external_id(self):
        # The referrer signing up with their own code: they are already a participant, so 200
        # with no referral and no new effect.
        jane = self.referrer()
        cid = self.s.click_id(jane["code"])
        r = self.s.post("/v1/signups", {"program": self.pid, "external_id": jane["external_id"],
                                        "ref": jane["code"], "click_id": cid})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["participant"]["id"], jane["id"])
        self.assertIsNone(r.body["referral"])
        self.assertEqual(r.body["attribution"], {"source": "organic", "rejected": []})
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 0)
        self.assertEqual(self.assertList(self.s.get("/v1/referrals?program=%s&referrer=%s"
                                                    % (self.pid, jane["id"]))), [])

    def test_stale_click(self):
        prog = self.s.make_program(cookie_days=10, attribution_window_days=2)
        jane = self.s.make_participant(prog["id"], "Jane")
        fresh = self.s.click_id(jane["code"])
        self.s.clock_advance(2 * DAY - 3600)
        r = self.s.signup(prog["id"], click_id=fresh)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["attribution"], {"source": "cookie", "rejected": []})
        stale = self.s.click_id(jane["code"])
        self.s.clock_advance(2 * DAY + 3600)
        r = self.s.signup(prog["id"], click_id=stale)
        self.assertOrganic(r, [("cookie", "stale_click")])
        # a stale cookie loses to nothing: a valid url still wins, the cookie is listed as rejected
        bob = self.s.make_participant(prog["id"], "Bob")
        r = self.s.signup(prog["id"], click_id=stale, ref=bob["code"])
        self.assertReferral(r, bob, "url")
        self.assertEqual(rejected_set(r.body), [("cookie", "stale_click")])

    def test_rejected_falls_through_to_next_source(self):
        jane = self.referrer()
        cid = self.s.click_id(jane["code"])
        r = self.s.signup(self.pid, ref="QQXQ-0000", code="nonsense", click_id=cid)
        self.assertReferral(r, jane, "cookie")
        self.assertEqual(rejected_set(r.body), [("code", "unknown_code"), ("url", "unknown_code")])

    # ---- precedence ------------------------------------------------------------------------------
    def test_tie_order_url_code_cookie(self):
        # frozen clock: the click and the signup happen at the same instant
        a, b, c = self.referrer("Ann"), self.referrer("Bea"), self.referrer("Cy")
        cid = self.s.click_id(c["code"])
        r = self.s.signup(self.pid, ref=a["code"], code=b["code"], click_id=cid)
        self.assertReferral(r, a, "url", a["code"])
        self.assertEqual(r.body["attribution"]["rejected"], [])
        cid = self.s.click_id(c["code"])
        r = self.s.signup(self.pid, code=b["code"], click_id=cid)
        self.assertReferral(r, b, "code", b["code"])
        cid = self.s.click_id(c["code"])
        r = self.s.signup(self.pid, click_id=cid, ref=a["code"])
        self.assertReferral(r, a, "url")

    def test_most_recent_wins_over_older_click(self):
        a, c = self.referrer("Ann"), self.referrer("Cy")
        cid = self.s.click_id(c["code"])
        self.s.clock_advance(3600)
        r = self.s.signup(self.pid, code=a["code"], click_id=cid)
        self.assertReferral(r, a, "code")
        self.assertEqual(r.body["attribution"]["rejected"], [])

    def test_most_recent_wins_occurred_at(self):
        # An explicit occurred_at earlier than the click makes the click the most recent.
        a, c = self.referrer("Ann"), self.referrer("Cy")
        now = self.s.clock_now()
        cid = self.s.click_id(c["code"])
        r = self.s.signup(self.pid, ref=a["code"], click_id=cid,
                          occurred_at=kithtest.fmt_time(now - dt.timedelta(hours=1)))
        # url counts at signup time (occurred_at, an hour ago), the click at its own time (now)
        self.assertReferral(r, c, "cookie", c["code"])
        self.assertEqual(r.body["attribution"]["rejected"], [])

    # ---- existing participants ----------------------------------------------------------------
    def test_same_external_id_again_200_no_new_effect(self):
        jane, bob = self.referrer("Jane"), self.referrer("Bob")
        ext = uid("s")
        first = self.s.signup(self.pid, external_id=ext, ref=jane["code"])
        ref = self.assertReferral(first, jane, "url")
        again = self.s.signup(self.pid, external_id=ext, ref=bob["code"], first_name="Other")
        self.assertStatus(again, 200)
        self.assertEqual(again.body["participant"]["id"], first.body["participant"]["id"])
        self.assertEqual(again.body["participant"]["first_name"], "Sam")
        self.assertEqual(again.body["referral"]["id"], ref["id"])
        self.assertEqual(again.body["referral"]["referrer"]["id"], jane["id"])
        self.assertEqual(again.body["attribution"], {"source": "url", "rejected": []})
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 1)
        self.assertEqual(self.s.participant(bob["id"])["stats"]["signups"], 0)

    def test_same_external_id_organic_again(self):
        ext = uid("s")
        self.assertOrganic(self.s.signup(self.pid, external_id=ext))
        jane = self.referrer()
        r = self.s.signup(self.pid, external_id=ext, ref=jane["code"])
        self.assertStatus(r, 200)
        self.assertIsNone(r.body["referral"])
        self.assertEqual(r.body["attribution"], {"source": "organic", "rejected": []})
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 0)

    def test_existing_participant_cannot_be_referred(self):
        sam = self.s.make_participant(self.pid, "Sam")
        jane = self.referrer()
        r = self.s.signup(self.pid, external_id=sam["external_id"], ref=jane["code"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["participant"]["id"], sam["id"])
        self.assertIsNone(r.body["referral"])
        self.assertIsNone(self.s.participant(sam["id"])["referred_by"])
        self.assertEqual(self.s.participant(jane["id"])["stats"]["signups"], 0)

    def test_same_person_in_another_program_can_be_referred_there(self):
        ext = uid("s")
        jane = self.referrer()
        self.assertReferral(self.s.signup(self.pid, external_id=ext, ref=jane["code"]), jane, "url")
        olga = self.s.make_participant(self.other["id"], "Olga")
        r = self.s.signup(self.other["id"], external_id=ext, ref=olga["code"])
        self.assertReferral(r, olga, "url")

    def test_referred_person_can_refer(self):
        jane = self.referrer()
        sam = self.s.signup(self.pid, ref=jane["code"]).body["participant"]
        r = self.s.signup(self.pid, ref=sam["code"])
        self.assertReferral(r, sam, "url")

    def test_validation(self):
        for body, param in ((dict(ref=5), "ref"), (dict(click_id=[]), "click_id"),
                            (dict(occurred_at="yesterday"), "occurred_at"),
                            (dict(occurred_at="2026-13-01T00:00:00Z"), "occurred_at"),
                            (dict(email=False), "email"), (dict(referred_by="x"), "referred_by")):
            r = self.s.signup(self.pid, **body)
            self.assertError(r, 400, "invalid_param", param=param)

    # ---- referral reads ----------------------------------------------------------------------------
    def test_referrals_list_filters(self):
        jane, bob = self.referrer("Jane"), self.referrer("Bob")
        r1 = self.s.signup(self.pid, ref=jane["code"]).body["referral"]
        r2 = self.s.signup(self.pid, ref=jane["code"]).body["referral"]
        r3 = self.s.signup(self.pid, ref=bob["code"]).body["referral"]
        r = self.s.get("/v1/referrals?program=%s&referrer=%s" % (self.pid, jane["id"]))
        self.assertEqual(sorted(x["id"] for x in self.assertList(r)), sorted([r1["id"], r2["id"]]))
        r = self.s.get("/v1/referrals?program=%s&referrer=%s&status=pending" % (self.pid, bob["id"]))
        self.assertEqual([x["id"] for x in self.assertList(r)], [r3["id"]])
        r = self.s.get("/v1/referrals?program=%s&referrer=%s&status=rewarded" % (self.pid, bob["id"]))
        self.assertEqual(self.assertList(r), [])
        r = self.s.get("/v1/referrals?program=%s&status=bogus" % self.pid)
        self.assertError(r, 400, "invalid_param", param="status")
        r = self.s.get("/v1/referrals?program=%s&referrer=%s&limit=1" % (self.pid, jane["id"]))
        self.assertEqual(len(self.assertList(r)), 1)
        self.assertIs(r.body["has_more"], True)

    def test_reject_and_approve(self):
        jane = self.referrer()
        ref = self.s.signup(self.pid, ref=jane["code"]).body["referral"]
        r = self.s.post("/v1/referrals/%s/approve" % ref["id"])
        self.assertError(r, 409, "invalid_state")
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "duplicate account"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["id"], ref["id"])
        self.assertEqual(r.body["status"], "rejected")
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "again"})
        self.assertError(r, 409, "invalid_state")
        r = self.s.post("/v1/referrals/%s/approve" % ref["id"])
        self.assertError(r, 409, "invalid_state")
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": 5})
        self.assertError(r, 400, "invalid_param", param="reason")


class ReviewTest(KithTestCase):
    """Manual review: approve/reject of referrals in `review` (sections 6 and 7). A referral is
    put in review with review_at = 1; the brand-new referrer carries the `new_referrer` flag."""

    def reviewed_pair(self, **kw):
        prog = self.s.make_program(fraud={"review_at": 1, "reject_at": 9}, **kw)
        jane = self.s.make_participant(prog["id"], "Jane")
        r = self.s.signup(prog["id"], ref=jane["code"])
        self.assertStatus(r, 201)
        ref = r.body["referral"]
        # a precondition, not a reason to skip: scoring that fails to flag this is a failure
        self.assertEqual(ref["status"], "review", "a brand-new referrer with review_at 1: %r" % r)
        self.assertEqual(ref["fraud"], {"score": 1, "flags": ["new_referrer"]}, repr(r))
        return prog, jane, r.body["participant"], ref

    def test_review_event_kept_and_applied_on_approval(self):
        prog, jane, sam, ref = self.reviewed_pair()
        r = self.s.event(prog["id"], sam["external_id"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "review")
        r = self.s.post("/v1/referrals/%s/approve" % ref["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rewarded")
        rewards = self.s.rewards(program=prog["id"])
        self.assertEqual(sorted((x["to"], x["status"]) for x in rewards),
                         [("referred", "issued"), ("referrer", "issued")], repr(rewards))
        self.assertError(self.s.post("/v1/referrals/%s/approve" % ref["id"]), 409, "invalid_state")

    def test_approve_without_event_goes_pending(self):
        prog, jane, sam, ref = self.reviewed_pair()
        r = self.s.post("/v1/referrals/%s/approve" % ref["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "pending")
        r = self.s.event(prog["id"], sam["external_id"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded")

    def test_reject_from_review(self):
        prog, jane, sam, ref = self.reviewed_pair()
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "looks like a duplicate"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected")
        r = self.s.event(prog["id"], sam["external_id"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [])
        self.assertError(self.s.post("/v1/referrals/%s/approve" % ref["id"]), 409, "invalid_state")

    def test_review_list_filter(self):
        prog, jane, sam, ref = self.reviewed_pair()
        r = self.s.get("/v1/referrals?program=%s&status=review" % prog["id"])
        self.assertEqual([x["id"] for x in self.assertList(r)], [ref["id"]])


if __name__ == "__main__":
    kithtest.main()
