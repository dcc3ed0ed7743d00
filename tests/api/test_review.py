"""The review queue (contract section 6): approve and reject, the rewards they create or void,
invalid states, and the audit trail of decisions in the participant export."""

import kithtest
from kithtest import KithTestCase, uid

HOUR = 3600
DAY = 86400


class ReviewTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = cls.server.make_program()["id"]
        cls.held = cls.server.make_program(qualification={"hold_days": 7})["id"]

    # ---- helpers ------------------------------------------------------------------------------
    def in_review(self, pid=None):
        """A referral in review: a brand-new referrer (new_referrer) + same IP + same device."""
        pid = pid or self.pid
        ip = "198.51.100.10"
        dev = uid("dev")
        rita = self.s.make_participant(pid, "Rita", ip=ip, device_id=dev)
        r = self.s.signup(pid, ref=rita["code"], ip=ip, device_id=dev, first_name="Sam")
        self.assertStatus(r, 201)
        ref = r.body["referral"]
        self.assertEqual(ref["status"], "review", repr(r))
        self.assertEqual(ref["fraud"]["flags"], ["same_ip", "same_device", "new_referrer"])
        return rita, r.body["participant"], ref

    def clean(self, pid=None):
        """A pending referral with no flags (an old referrer)."""
        pid = pid or self.pid
        rita = self.s.make_participant(pid, "Rita")
        self.s.clock_advance(25 * HOUR)
        r = self.s.signup(pid, ref=rita["code"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "pending", repr(r))
        return rita, r.body["participant"], r.body["referral"]

    def approve(self, rid, body=None, **kw):
        return self.s.post("/v1/referrals/%s/approve" % rid, body if body is not None else {}, **kw)

    def reject(self, rid, reason="looks like a self-referral", **kw):
        body = {} if reason is None else {"reason": reason}
        return self.s.post("/v1/referrals/%s/reject" % rid, body, **kw)

    def rewards_of(self, ref_id, pid=None):
        return sorted((w for w in self.s.rewards(program=pid or self.pid) if w["referral"] == ref_id),
                      key=lambda w: w["to"])

    def export(self, par_id):
        r = self.s.get("/v1/participants/%s/export" % par_id)
        self.assertStatus(r, 200)
        return r.body

    def decisions_of(self, par_id, ref_id):
        return [d for d in self.export(par_id)["review_decisions"] if d.get("referral") == ref_id]

    # ---- the queue ------------------------------------------------------------------------------
    def test_review_queue_lists_only_review(self):
        pid = self.s.make_program()["id"]
        _, _, rev = self.in_review(pid)
        _, _, pen = self.clean(pid)
        data = self.assertList(self.s.get("/v1/referrals?status=review&program=%s" % pid))
        self.assertEqual([x["id"] for x in data], [rev["id"]])
        self.assertEqual(data[0]["status"], "review")
        self.assertStatus(self.approve(rev["id"]), 200)
        data = self.assertList(self.s.get("/v1/referrals?status=review&program=%s" % pid))
        self.assertEqual(data, [])

    # ---- approve ------------------------------------------------------------------------------------
    def test_approve_without_waiting_event(self):
        rita, sam, ref = self.in_review()
        r = self.approve(ref["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["id"], ref["id"])
        self.assertEqual(r.body["status"], "pending", repr(r))
        self.assertIsNone(r.body["qualified_at"])
        # flags are kept as they were
        self.assertEqual(r.body["fraud"], ref["fraud"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.rewards_of(ref["id"]), [])
        # now the qualifying event qualifies it normally
        e = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "rewarded", repr(e))
        self.assertEqual(len(e.body["rewards"]), 2, repr(e))
        self.assertEqual([w["to"] for w in self.rewards_of(ref["id"])], ["referred", "referrer"])

    def test_event_during_review_waits_then_applies_on_approval(self):
        rita, sam, ref = self.in_review()
        ev_time = self.s.clock_now()
        e = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["rewards"], [], repr(e))
        self.assertEqual(e.body["referral"]["status"], "review", repr(e))
        self.assertEqual(self.rewards_of(ref["id"]), [])
        self.assertIsNone(self.s.referral(ref["id"])["qualified_at"])
        self.s.clock_advance(2 * HOUR)
        approved_at = self.s.clock_now()
        r = self.approve(ref["id"], {"reason": "known customer"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rewarded", repr(r))
        self.assertEqual(self.assertTime(r.body["qualified_at"]), ev_time)
        self.assertEqual(self.assertTime(r.body["rewarded_at"]), approved_at)
        rw = self.rewards_of(ref["id"])
        self.assertEqual([(w["to"], w["status"]) for w in rw],
                         [("referred", "issued"), ("referrer", "issued")], repr(rw))
        self.assertEqual(rw[1]["participant"], rita["id"])
        self.assertEqual(rw[0]["participant"], sam["id"])
        self.assertEqual(rw[1]["amount"], 2500)
        for w in rw:
            self.assertEqual(self.assertTime(w["created_at"]), approved_at)
        st = self.s.participant(rita["id"])["stats"]
        self.assertEqual((st["qualified"], st["rewarded"]), (1, 1), repr(st))
        # a second event gives nothing more (one reward per referral and side)
        e = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["rewards"], [])
        self.assertEqual(len(self.rewards_of(ref["id"])), 2)

    def test_event_during_review_with_hold(self):
        rita, sam, ref = self.in_review(self.held)
        self.assertStatus(self.s.event(self.held, sam["external_id"]), 201)
        r = self.approve(ref["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "qualified", repr(r))
        rw = self.rewards_of(ref["id"], self.held)
        self.assertEqual([w["status"] for w in rw], ["pending", "pending"], repr(rw))

    def test_event_too_small_during_review_does_not_qualify(self):
        pid = self.s.make_program(qualification={"min_amount": 5000})["id"]
        rita, sam, ref = self.in_review(pid)
        self.assertStatus(self.s.event(pid, sam["external_id"], amount=100), 201)
        self.assertStatus(self.s.event(pid, sam["external_id"], type="signup_done"), 201)
        r = self.approve(ref["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "pending", repr(r))
        self.assertEqual(self.rewards_of(ref["id"], pid), [])

    # ---- reject ------------------------------------------------------------------------------------------
    def test_reject_from_review(self):
        rita, sam, ref = self.in_review()
        r = self.reject(ref["id"], "same household")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected", repr(r))
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")
        # a later qualifying event does nothing
        e = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["rewards"], [], repr(e))
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")
        self.assertEqual(self.rewards_of(ref["id"]), [])

    def test_reject_from_review_with_waiting_event(self):
        rita, sam, ref = self.in_review()
        self.assertStatus(self.s.event(self.pid, sam["external_id"]), 201)
        self.assertStatus(self.reject(ref["id"]), 200)
        self.assertEqual(self.rewards_of(ref["id"]), [])
        self.assertError(self.approve(ref["id"]), 409, "invalid_state")
        self.assertEqual(self.rewards_of(ref["id"]), [])

    def test_reject_from_pending(self):
        rita, sam, ref = self.clean()
        r = self.reject(ref["id"], "chargeback pattern")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected")
        e = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")

    def test_reject_from_qualified_voids_pending_rewards(self):
        rita, sam, ref = self.clean(self.held)
        e = self.s.event(self.held, sam["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "qualified", repr(e))
        ids = sorted(w["id"] for w in e.body["rewards"])
        self.assertEqual(len(ids), 2)
        self.assertEqual({w["status"] for w in self.rewards_of(ref["id"], self.held)}, {"pending"})
        r = self.reject(ref["id"], "refund abuse")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected", repr(r))
        rw = self.rewards_of(ref["id"], self.held)
        self.assertEqual(sorted(w["id"] for w in rw), ids)
        self.assertEqual([w["status"] for w in rw], ["voided", "voided"], repr(rw))
        # the hold ending changes nothing
        self.s.clock_advance(8 * DAY)
        self.assertEqual([w["status"] for w in self.rewards_of(ref["id"], self.held)],
                         ["voided", "voided"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")

    def test_reject_without_reason(self):
        rita, sam, ref = self.in_review()
        r = self.reject(ref["id"], None)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected")

    # ---- invalid states -------------------------------------------------------------------------------------
    def test_invalid_states(self):
        # approve on pending
        _, _, pen = self.clean()
        self.assertError(self.approve(pen["id"]), 409, "invalid_state")
        self.assertEqual(self.s.referral(pen["id"])["status"], "pending")
        # approve twice
        _, _, rev = self.in_review()
        self.assertStatus(self.approve(rev["id"]), 200)
        self.assertError(self.approve(rev["id"]), 409, "invalid_state")
        # approve / reject on rejected (automatic or by decision)
        self.assertStatus(self.reject(rev["id"]), 200)
        self.assertError(self.reject(rev["id"]), 409, "invalid_state")
        self.assertError(self.approve(rev["id"]), 409, "invalid_state")
        # reject / approve on rewarded
        _, sam, ok = self.clean()
        self.assertEqual(self.s.event(self.pid, sam["external_id"]).body["referral"]["status"], "rewarded")
        self.assertError(self.reject(ok["id"]), 409, "invalid_state")
        self.assertError(self.approve(ok["id"]), 409, "invalid_state")
        self.assertEqual(self.s.referral(ok["id"])["status"], "rewarded")
        self.assertEqual({w["status"] for w in self.rewards_of(ok["id"])}, {"issued"})
        # approve on qualified
        _, sam, q = self.clean(self.held)
        self.assertStatus(self.s.event(self.held, sam["external_id"]), 201)
        self.assertError(self.approve(q["id"]), 409, "invalid_state")
        self.assertEqual(self.s.referral(q["id"])["status"], "qualified")

    def test_invalid_state_automatic_rejection(self):
        ip = "198.51.100.250"
        dev = uid("dev")
        rita = self.s.make_participant(self.pid, "Rita", ip=ip, device_id=dev)
        r = self.s.signup(self.pid, ref=rita["code"], ip=ip, device_id=dev,
                          email="zz.%s@mailinator.com" % uid("a").replace("-", "."))
        self.assertStatus(r, 201)
        ref = r.body["referral"]
        self.assertEqual(ref["status"], "rejected", repr(r))
        self.assertError(self.approve(ref["id"]), 409, "invalid_state")
        self.assertError(self.reject(ref["id"]), 409, "invalid_state")
        # automatic verdicts are not decisions
        self.assertEqual(self.decisions_of(rita["id"], ref["id"]), [])

    def test_invalid_state_expired(self):
        pid = self.s.make_program(qualification={"within_days": 2})["id"]
        _, _, ref = self.clean(pid)
        self.s.clock_advance(3 * DAY)
        self.assertEqual(self.s.referral(ref["id"])["status"], "expired")
        self.assertError(self.reject(ref["id"]), 409, "invalid_state")
        self.assertError(self.approve(ref["id"]), 409, "invalid_state")

    def test_failed_decisions_are_not_recorded(self):
        rita, sam, pen = self.clean()
        self.assertError(self.approve(pen["id"], {"reason": "nope"}), 409, "invalid_state")
        self.assertEqual(self.decisions_of(sam["id"], pen["id"]), [])

    def test_unknown_referral(self):
        self.assertError(self.approve("ref_doesnotexist000000000"), 404, "not_found")
        self.assertError(self.reject("ref_doesnotexist000000000"), 404, "not_found")

    def test_bad_bodies(self):
        _, _, rev = self.in_review()
        self.assertError(self.s.post("/v1/referrals/%s/reject" % rev["id"], {"reason": 5}),
                         400, "invalid_param", param="reason")
        self.assertError(self.s.post("/v1/referrals/%s/reject" % rev["id"], {"why": "x"}),
                         400, "invalid_param", param="why")
        self.assertError(self.s.post("/v1/referrals/%s/approve" % rev["id"], {"reason": ["x"]}),
                         400, "invalid_param", param="reason")
        self.assertEqual(self.s.referral(rev["id"])["status"], "review")

    def test_publishable_key_cannot_decide(self):
        pk = self.s.keys_create(publishable=True)
        _, _, rev = self.in_review()
        self.assertError(self.approve(rev["id"], key=pk), 403, "forbidden")
        self.assertError(self.reject(rev["id"], key=pk), 403, "forbidden")
        self.assertError(self.approve(rev["id"], key=None), 401, "unauthorized")
        self.assertEqual(self.s.referral(rev["id"])["status"], "review")

    # ---- audit trail --------------------------------------------------------------------------------
    def test_audit_trail_in_export(self):
        rita, sam, ref = self.in_review()
        t1 = self.s.clock_advance(90)
        self.assertStatus(self.approve(ref["id"], {"reason": "verified by phone"}), 200)
        t2 = self.s.clock_advance(HOUR)
        self.assertStatus(self.reject(ref["id"], "chargeback filed"), 200)
        for who in (rita["id"], sam["id"]):
            ex = self.export(who)
            self.assertIn("review_decisions", ex)
            ds = [d for d in ex["review_decisions"] if d.get("referral") == ref["id"]]
            self.assertEqual(len(ds), 2, "export of %s: %r" % (who, ex["review_decisions"]))
            a, b = ds
            self.assertEqual((a["decision"], a["reason"], a["api_key"]),
                             ("approve", "verified by phone", "key_env"), repr(a))
            self.assertEqual(self.assertTime(a["created_at"]), t1)
            self.assertEqual((b["decision"], b["reason"], b["api_key"]),
                             ("reject", "chargeback filed", "key_env"), repr(b))
            self.assertEqual(self.assertTime(b["created_at"]), t2)
        # the secret itself is never what is recorded
        raw = self.s.get("/v1/participants/%s/export" % sam["id"]).raw.decode()
        self.assertNotIn(self.s.secret, raw)

    def test_decision_without_reason_recorded(self):
        rita, sam, ref = self.in_review()
        self.assertStatus(self.approve(ref["id"]), 200)
        ds = self.decisions_of(sam["id"], ref["id"])
        self.assertEqual(len(ds), 1, repr(ds))
        self.assertEqual(ds[0]["decision"], "approve")
        self.assertIsNone(ds[0]["reason"])
        self.assertEqual(ds[0]["api_key"], "key_env")
        self.assertEqual(self.assertTime(ds[0]["created_at"]), self.s.clock_now())

    def test_decisions_by_two_keys(self):
        sk2 = self.s.keys_create()
        rita, sam, ref = self.in_review()
        t1 = self.s.clock_now()
        self.assertStatus(self.approve(ref["id"], {"reason": "first look ok"}), 200)  # key_env
        t2 = self.s.clock_advance(600)
        r = self.reject(ref["id"], "second look: fraud", key=sk2)
        self.assertStatus(r, 200)
        ds = self.decisions_of(sam["id"], ref["id"])
        self.assertEqual([(d["decision"], d["reason"]) for d in ds],
                         [("approve", "first look ok"), ("reject", "second look: fraud")], repr(ds))
        self.assertEqual(ds[0]["api_key"], "key_env")
        other = ds[1]["api_key"]
        self.assertIsInstance(other, str)
        self.assertTrue(other.startswith("key_"), repr(ds))
        self.assertNotEqual(other, "key_env")
        self.assertNotIn(sk2, repr(ds))
        self.assertNotIn(sk2[8:], repr(ds))
        self.assertEqual(self.assertTime(ds[0]["created_at"]), t1)
        self.assertEqual(self.assertTime(ds[1]["created_at"]), t2)
        # the same second key gets the same id on another decision; a third key its own
        _, sam2, ref2 = self.in_review()
        self.assertStatus(self.approve(ref2["id"], key=sk2), 200)
        self.assertEqual([d["api_key"] for d in self.decisions_of(sam2["id"], ref2["id"])], [other])
        sk3 = self.s.keys_create()
        _, sam3, ref3 = self.in_review()
        self.assertStatus(self.reject(ref3["id"], "third", key=sk3), 200)
        third = [d["api_key"] for d in self.decisions_of(sam3["id"], ref3["id"])]
        self.assertEqual(len(third), 1)
        self.assertTrue(third[0].startswith("key_"))
        self.assertNotIn(third[0], ("key_env", other))

    def test_decisions_only_in_concerned_exports(self):
        rita, sam, ref = self.in_review()
        self.assertStatus(self.reject(ref["id"], "x"), 200)
        bystander = self.s.make_participant(self.pid, "Bea")
        self.assertEqual(self.export(bystander["id"])["review_decisions"], [])

    def test_idempotent_decision(self):
        rita, sam, ref = self.in_review()
        h = {"Idempotency-Key": uid("idem")}
        a = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "dup"}, headers=h)
        self.assertStatus(a, 200)
        b = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "dup"}, headers=h)
        self.assertStatus(b, 200)
        self.assertEqual(b.headers.get("idempotent-replayed"), "true")
        self.assertEqual(a.body, b.body)
        self.assertEqual(len(self.decisions_of(sam["id"], ref["id"])), 1)


if __name__ == "__main__":
    kithtest.main()
