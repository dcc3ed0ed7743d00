"""Events, qualification, holds, tiers and the reward lifecycle (contract sections 7, 8, 5 states)."""

import datetime as dt

import kithtest
from kithtest import KithTestCase, REWARD_KEYS, uid

DAY = 86400
REFERRER_CREDIT = {"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD",
                   "expires_days": 30}
REFERRED_MONTH = {"to": "referred", "kind": "free_month", "description": "Your first month on us"}


def tier(f, t=None, amount=1000):
    d = {"to": "referrer", "kind": "credit", "amount": amount, "currency": "USD", "from_count": f}
    if t is not None:
        d["to_count"] = t
    return d


class EventsTest(KithTestCase):
    def program(self, rewards=None, **kw):
        return self.s.make_program(rewards=rewards or [REFERRER_CREDIT, REFERRED_MONTH], **kw)

    def pair(self, prog, referrer=None):
        """(referrer participant, referred participant, referral) in prog."""
        if referrer is None:
            referrer = self.s.make_participant(prog["id"], "Jane")
        r = self.s.signup(prog["id"], ref=referrer["code"])
        self.assertStatus(r, 201)
        return referrer, r.body["participant"], r.body["referral"]

    def purchase(self, prog, person, amount=12000, **kw):
        return self.s.event(prog["id"], person["external_id"], "purchase", amount=amount, **kw)

    def by_side(self, rewards):
        return {rw["to"]: rw for rw in rewards}

    def reward(self, rid):
        r = self.s.get("/v1/rewards/" + rid)
        self.assertStatus(r, 200)
        return r.body

    # ---- qualification ---------------------------------------------------------------------------
    def test_qualify_and_issue_at_once(self):
        prog = self.program(qualification={"min_amount": 1000})
        jane, sam, ref = self.pair(prog)
        now = self.s.clock_now()
        r = self.purchase(prog, sam, amount=999)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [])
        self.assertTrue(r.body["event"]["id"].startswith("evt_"), r.body["event"])
        if r.body["referral"] is not None:
            self.assertEqual(r.body["referral"]["status"], "pending")
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")

        r = self.purchase(prog, sam, amount=1000)
        self.assertStatus(r, 201)
        rf = r.body["referral"]
        self.assertEqual(rf["id"], ref["id"])
        self.assertEqual(rf["status"], "rewarded")
        self.assertEqual(self.assertTime(rf["qualified_at"]), now)
        self.assertEqual(self.assertTime(rf["rewarded_at"]), now)
        self.assertEqual(len(r.body["rewards"]), 2, r.body["rewards"])
        sides = self.by_side(r.body["rewards"])
        a, b = sides["referrer"], sides["referred"]
        for rw in (a, b):
            self.assertKeys(rw, REWARD_KEYS, "reward")
            self.assertTrue(rw["id"].startswith("rwd_"), rw["id"])
            self.assertEqual(rw["program"], prog["id"])
            self.assertEqual(rw["referral"], ref["id"])
            self.assertEqual(rw["status"], "issued")
            self.assertEqual(self.assertTime(rw["created_at"]), now)
            self.assertEqual(self.assertTime(rw["issued_at"]), now)
            self.assertIsNone(rw["redeemed_at"])
        self.assertEqual(a["participant"], jane["id"])
        self.assertEqual((a["kind"], a["amount"], a["currency"]), ("credit", 2500, "USD"))
        self.assertEqual(self.assertTime(a["expires_at"]), now + dt.timedelta(days=30))
        self.assertEqual(b["participant"], sam["id"])
        self.assertEqual((b["kind"], b["amount"], b["currency"], b["description"]),
                         ("free_month", None, None, "Your first month on us"))
        self.assertIsNone(b["expires_at"])
        self.assertEqual(self.reward(a["id"]), a)
        self.assertEqual(self.s.participant(jane["id"])["stats"],
                         {"clicks": 0, "signups": 1, "qualified": 1, "rewarded": 1})
        # a second purchase creates nothing new
        r = self.purchase(prog, sam)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [])
        self.assertEqual(len(self.s.rewards(program=prog["id"])), 2)

    def test_min_amount_exact_boundary_and_other_types(self):
        prog = self.program(qualification={"min_amount": 5000})
        _, sam, ref = self.pair(prog)
        for t in ("signup_completed", "trial.started", "refund", "cancel"):
            r = self.s.event(prog["id"], sam["external_id"], t)
            self.assertStatus(r, 201, t)
            self.assertEqual(r.body["rewards"], [], t)
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        r = self.purchase(prog, sam, amount=5000)
        self.assertEqual(r.body["referral"]["status"], "rewarded")

    def test_custom_qualification_event(self):
        prog = self.program(qualification={"event": "subscription.started"})
        _, sam, ref = self.pair(prog)
        r = self.purchase(prog, sam)
        self.assertEqual(r.body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        r = self.s.event(prog["id"], sam["external_id"], "subscription.started")
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded")
        self.assertEqual(len(r.body["rewards"]), 2)

    def test_event_for_organic_participant(self):
        prog = self.program()
        p = self.s.make_participant(prog["id"], "Olive")
        r = self.purchase(prog, p)
        self.assertStatus(r, 201)
        self.assertIsNone(r.body["referral"])
        self.assertEqual(r.body["rewards"], [])

    def test_event_validation(self):
        prog = self.program()
        _, sam, _ = self.pair(prog)
        r = self.s.event(prog["id"], "nobody-" + uid("x"))
        self.assertError(r, 404, "not_found", param="external_id")
        for t in ("Purchase", "bad type", "x" * 41, "", "purchase!"):
            r = self.s.event(prog["id"], sam["external_id"], t)
            self.assertError(r, 400, "invalid_param", param="type")
        r = self.purchase(prog, sam, occurred_at="not-a-time")
        self.assertError(r, 400, "invalid_param", param="occurred_at")
        r = self.purchase(prog, sam, currency="dollars")
        self.assertError(r, 400, "invalid_param", param="currency")
        r = self.purchase(prog, sam, id=12)
        self.assertError(r, 400, "invalid_param", param="id")
        r = self.purchase(prog, sam, surprise=1)
        self.assertError(r, 400, "invalid_param", param="surprise")
        r = self.s.event("no-such-program", sam["external_id"])
        # the contract does not fix this one (kith: 404 not_found); either way it names `program`
        self.assertIn(r.status, (400, 404), repr(r))
        self.assertError(r, r.status, "not_found" if r.status == 404 else "invalid_param",
                         param="program")
        self.assertEqual(self.s.rewards(program=prog["id"]), [])

    def test_provider_id_dedupe(self):
        prog = self.program()
        _, sam, ref = self.pair(prog)
        pid = "in_" + uid("e")
        first = self.purchase(prog, sam, id=pid)
        self.assertStatus(first, 201)
        self.assertEqual(len(first.body["rewards"]), 2)
        again = self.purchase(prog, sam, id=pid)
        self.assertStatus(again, 200)
        self.assertEqual(again.body, first.body)
        self.assertEqual(len(self.s.rewards(program=prog["id"])), 2)
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")

    def test_provider_id_dedupe_ignores_new_content(self):
        prog = self.program()
        _, sam, _ = self.pair(prog)
        pid = "in_" + uid("e")
        refund = self.s.event(prog["id"], sam["external_id"], "refund", id=pid)
        self.assertStatus(refund, 201)
        r = self.purchase(prog, sam, id=pid)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, refund.body)
        self.assertEqual(self.s.rewards(program=prog["id"]), [])

    # ---- holds -------------------------------------------------------------------------------------
    def test_hold_then_issue_on_clock_advance(self):
        prog = self.program(qualification={"hold_days": 14})
        jane, sam, ref = self.pair(prog)
        t0 = self.s.clock_now()
        r = self.purchase(prog, sam)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "qualified")
        self.assertEqual(self.assertTime(r.body["referral"]["qualified_at"]), t0)
        self.assertIsNone(r.body["referral"]["rewarded_at"])
        self.assertEqual(len(r.body["rewards"]), 2)
        for rw in r.body["rewards"]:
            self.assertEqual(rw["status"], "pending")
            self.assertIsNone(rw["issued_at"])
            self.assertIsNone(rw["expires_at"])
        self.assertEqual(self.s.participant(jane["id"])["stats"]["qualified"], 1)
        self.assertEqual(self.s.participant(jane["id"])["stats"]["rewarded"], 0)
        self.s.clock_advance(14 * DAY - 60)
        for rw in r.body["rewards"]:
            self.assertEqual(self.reward(rw["id"])["status"], "pending")
        self.assertEqual(self.s.referral(ref["id"])["status"], "qualified")
        now = self.s.clock_advance(120)
        due = t0 + dt.timedelta(days=14)
        rf = self.s.referral(ref["id"])
        self.assertEqual(rf["status"], "rewarded")
        self.assertTrue(due <= self.assertTime(rf["rewarded_at"]) <= now, rf)
        for rw0 in r.body["rewards"]:
            rw = self.reward(rw0["id"])
            self.assertEqual(rw["status"], "issued")
            issued = self.assertTime(rw["issued_at"])
            self.assertTrue(due <= issued <= now, rw)
            if rw["to"] == "referrer":
                self.assertEqual(self.assertTime(rw["expires_at"]), issued + dt.timedelta(days=30))
            else:
                self.assertIsNone(rw["expires_at"])
        self.assertEqual(self.s.participant(jane["id"])["stats"]["rewarded"], 1)

    def _refund_during_hold(self, kind):
        prog = self.program(qualification={"hold_days": 10})
        jane, sam, ref = self.pair(prog)
        first = self.purchase(prog, sam).body["rewards"]
        self.assertEqual(len(first), 2, "the loops below check these: %r" % first)
        self.s.clock_advance(3 * DAY)
        r = self.s.event(prog["id"], sam["external_id"], kind)
        self.assertStatus(r, 201)
        rf = self.s.referral(ref["id"])
        self.assertEqual(rf["status"], "pending")
        self.assertIsNone(rf["rewarded_at"])
        for rw in first:
            self.assertEqual(self.reward(rw["id"])["status"], "voided")
        # the hold passing changes nothing for voided rewards
        self.s.clock_advance(8 * DAY)
        for rw in first:
            self.assertEqual(self.reward(rw["id"])["status"], "voided")
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        # a later qualifying purchase qualifies again with new rewards
        r = self.purchase(prog, sam)
        self.assertEqual(r.body["referral"]["status"], "qualified")
        second = r.body["rewards"]
        self.assertEqual(len(second), 2)
        self.assertFalse({x["id"] for x in first} & {x["id"] for x in second})
        self.assertEqual(self.by_side(second)["referrer"]["amount"], 2500)
        self.s.clock_advance(10 * DAY + 60)
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        statuses = sorted(rw["status"] for rw in self.s.rewards(program=prog["id"]))
        self.assertEqual(statuses, ["issued", "issued", "voided", "voided"])
        self.assertEqual(len(self.s.rewards(program=prog["id"], participant=jane["id"],
                                            status="voided")), 1)

    def test_refund_during_hold_voids(self):
        self._refund_during_hold("refund")

    def test_cancel_during_hold_voids(self):
        self._refund_during_hold("cancel")

    def test_refund_after_hold_changes_nothing(self):
        prog = self.program(qualification={"hold_days": 2})
        _, sam, ref = self.pair(prog)
        rewards = self.purchase(prog, sam).body["rewards"]
        self.assertEqual(len(rewards), 2, "the loop below checks these: %r" % rewards)
        self.s.clock_advance(2 * DAY + 1)
        r = self.s.event(prog["id"], sam["external_id"], "refund")
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        for rw in rewards:
            self.assertEqual(self.reward(rw["id"])["status"], "issued")

    def test_refund_with_hold_zero_changes_nothing(self):
        prog = self.program()
        _, sam, ref = self.pair(prog)
        self.assertStatus(self.purchase(prog, sam), 201)
        self.assertStatus(self.s.event(prog["id"], sam["external_id"], "refund"), 201)
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        self.assertEqual(sorted(x["status"] for x in self.s.rewards(program=prog["id"])),
                         ["issued", "issued"])

    def test_out_of_order_same_outcome(self):
        t = self.s.clock_now()
        purchase_at = kithtest.fmt_time(t - dt.timedelta(hours=2))
        refund_at = kithtest.fmt_time(t - dt.timedelta(hours=1))
        outcomes = []
        for order in (("purchase", "refund"), ("refund", "purchase")):
            prog = self.program(qualification={"hold_days": 10})
            _, sam, ref = self.pair(prog)
            for kind in order:
                if kind == "purchase":
                    r = self.purchase(prog, sam, occurred_at=purchase_at, id="in_" + uid("p"))
                else:
                    r = self.s.event(prog["id"], sam["external_id"], "refund", occurred_at=refund_at,
                                     id="re_" + uid("r"))
                self.assertStatus(r, 201)
            live = sorted((rw["to"], rw["status"]) for rw in self.s.rewards(program=prog["id"])
                          if rw["status"] != "voided")
            outcomes.append((self.s.referral(ref["id"])["status"], live))
        self.assertEqual(outcomes[0], ("pending", []))
        self.assertEqual(outcomes[1], outcomes[0])

    def test_duplicates_and_order_of_two_purchases(self):
        prog = self.program()
        _, sam, ref = self.pair(prog)
        for i in range(3):
            self.purchase(prog, sam, id="in_dup_" + ref["id"])
        self.purchase(prog, sam, id="in_other_" + ref["id"])
        rewards = self.s.rewards(program=prog["id"])
        self.assertEqual(sorted(rw["to"] for rw in rewards), ["referred", "referrer"])

    # ---- tiers and caps ----------------------------------------------------------------------------
    def test_tiers_by_count(self):
        prog = self.program(rewards=[tier(1, 2, 1000), tier(3, None, 3000), REFERRED_MONTH])
        jane = self.s.make_participant(prog["id"], "Jane")
        amounts = []
        for _ in range(4):
            _, sam, _ = self.pair(prog, jane)
            r = self.purchase(prog, sam)
            amounts.append(self.by_side(r.body["rewards"])["referrer"]["amount"])
        self.assertEqual(amounts, [1000, 1000, 3000, 3000])

    def test_voided_rewards_do_not_count_for_tiers(self):
        prog = self.program(rewards=[tier(1, 1, 1000), tier(2, None, 9000), REFERRED_MONTH],
                            qualification={"hold_days": 5})
        jane = self.s.make_participant(prog["id"], "Jane")
        _, a, _ = self.pair(prog, jane)
        r = self.purchase(prog, a)
        self.assertEqual(self.by_side(r.body["rewards"])["referrer"]["amount"], 1000)
        self.s.event(prog["id"], a["external_id"], "refund")
        _, b, _ = self.pair(prog, jane)
        r = self.purchase(prog, b)
        self.assertEqual(self.by_side(r.body["rewards"])["referrer"]["amount"], 1000)
        _, c, _ = self.pair(prog, jane)
        r = self.purchase(prog, c)
        self.assertEqual(self.by_side(r.body["rewards"])["referrer"]["amount"], 9000)

    def test_max_rewards_per_referrer(self):
        prog = self.program(max_rewards_per_referrer=2)
        jane = self.s.make_participant(prog["id"], "Jane")
        results = []
        for _ in range(3):
            _, sam, ref = self.pair(prog, jane)
            r = self.purchase(prog, sam)
            self.assertStatus(r, 201)
            results.append(sorted(rw["to"] for rw in r.body["rewards"]))
        self.assertEqual(results, [["referred", "referrer"], ["referred", "referrer"], ["referred"]])
        self.assertEqual(len(self.s.rewards(program=prog["id"], participant=jane["id"])), 2)

    # ---- reward lifecycle --------------------------------------------------------------------------
    def test_redeem_and_void_transitions(self):
        prog = self.program()
        _, sam, _ = self.pair(prog)
        sides = self.by_side(self.purchase(prog, sam).body["rewards"])
        a, b = sides["referrer"], sides["referred"]
        now = self.s.clock_now()
        r = self.s.post("/v1/rewards/%s/redeem" % a["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "redeemed")
        self.assertEqual(self.assertTime(r.body["redeemed_at"]), now)
        self.assertError(self.s.post("/v1/rewards/%s/redeem" % a["id"]), 409, "invalid_state")
        self.assertError(self.s.post("/v1/rewards/%s/void" % a["id"]), 409, "invalid_state")
        r = self.s.post("/v1/rewards/%s/void" % b["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "voided")
        self.assertError(self.s.post("/v1/rewards/%s/void" % b["id"]), 409, "invalid_state")
        self.assertError(self.s.post("/v1/rewards/%s/redeem" % b["id"]), 409, "invalid_state")
        self.assertEqual(self.reward(a["id"])["status"], "redeemed")
        self.assertEqual(self.reward(b["id"])["status"], "voided")

    def test_pending_reward_void_and_no_redeem(self):
        prog = self.program(qualification={"hold_days": 3})
        _, sam, _ = self.pair(prog)
        sides = self.by_side(self.purchase(prog, sam).body["rewards"])
        a = sides["referrer"]
        self.assertError(self.s.post("/v1/rewards/%s/redeem" % a["id"]), 409, "invalid_state")
        r = self.s.post("/v1/rewards/%s/void" % a["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "voided")
        self.s.clock_advance(3 * DAY + 60)
        self.assertEqual(self.reward(a["id"])["status"], "voided")
        self.assertEqual(self.reward(sides["referred"]["id"])["status"], "issued")

    def test_reward_expiry(self):
        prog = self.program(rewards=[dict(REFERRER_CREDIT, expires_days=10), REFERRED_MONTH])
        _, sam, _ = self.pair(prog)
        sides = self.by_side(self.purchase(prog, sam).body["rewards"])
        a, b = sides["referrer"], sides["referred"]
        self.s.clock_advance(10 * DAY - 3600)
        self.assertEqual(self.reward(a["id"])["status"], "issued")
        self.s.clock_advance(7200)
        self.assertEqual(self.reward(a["id"])["status"], "expired")
        self.assertEqual(self.reward(b["id"])["status"], "issued")  # no expires_days
        self.assertError(self.s.post("/v1/rewards/%s/redeem" % a["id"]), 409, "invalid_state")
        self.assertError(self.s.post("/v1/rewards/%s/void" % a["id"]), 409, "invalid_state")
        self.assertEqual(len(self.s.rewards(program=prog["id"], status="expired")), 1)

    def test_reward_list_filters(self):
        prog = self.program()
        jane = self.s.make_participant(prog["id"], "Jane")
        _, a, _ = self.pair(prog, jane)
        _, b, _ = self.pair(prog, jane)
        self.purchase(prog, a)
        self.purchase(prog, b)
        self.assertEqual(len(self.s.rewards(program=prog["id"])), 4)
        mine = self.s.rewards(program=prog["id"], participant=jane["id"])
        self.assertEqual(len(mine), 2)
        self.assertTrue(all(rw["participant"] == jane["id"] and rw["to"] == "referrer" for rw in mine))
        self.s.post("/v1/rewards/%s/redeem" % mine[0]["id"])
        self.assertEqual([rw["id"] for rw in self.s.rewards(program=prog["id"], status="redeemed")],
                         [mine[0]["id"]])
        self.assertEqual(len(self.s.rewards(program=prog["id"], status="issued")), 3)
        r = self.s.get("/v1/rewards?program=%s&status=lost" % prog["id"])
        self.assertError(r, 400, "invalid_param", param="status")
        self.assertError(self.s.get("/v1/rewards/rwd_nonexistent0000"), 404, "not_found")

    # ---- referral states ----------------------------------------------------------------------------
    def test_referral_expiry(self):
        prog = self.program(qualification={"within_days": 5})
        _, sam, ref = self.pair(prog)
        created = self.assertTime(ref["created_at"])
        self.assertEqual(self.assertTime(ref["expires_at"]), created + dt.timedelta(days=5))
        _, early, early_ref = self.pair(prog)
        self.s.clock_advance(4 * DAY)
        self.assertEqual(self.purchase(prog, early).body["referral"]["status"], "rewarded")
        self.s.clock_advance(DAY + 3600)
        self.assertEqual(self.s.referral(ref["id"])["status"], "expired")
        r = self.purchase(prog, sam)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "expired")
        self.assertEqual(self.s.referral(early_ref["id"])["status"], "rewarded")
        self.assertError(self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "x"}),
                         409, "invalid_state")

    def test_reject_qualified_voids_pending_rewards(self):
        prog = self.program(qualification={"hold_days": 7})
        _, sam, ref = self.pair(prog)
        rewards = self.purchase(prog, sam).body["rewards"]
        self.assertEqual(len(rewards), 2, "the loops below check these: %r" % rewards)
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "fraud ring"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected")
        for rw in rewards:
            self.assertEqual(self.reward(rw["id"])["status"], "voided")
        self.s.clock_advance(8 * DAY)
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")
        for rw in rewards:
            self.assertEqual(self.reward(rw["id"])["status"], "voided")
        r = self.purchase(prog, sam)
        self.assertEqual(r.body["rewards"], [])

    def test_reject_rewarded_is_invalid_state(self):
        prog = self.program()
        _, sam, ref = self.pair(prog)
        self.purchase(prog, sam)
        r = self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "late"})
        self.assertError(r, 409, "invalid_state")
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        r = self.s.post("/v1/referrals/%s/approve" % ref["id"])
        self.assertError(r, 409, "invalid_state")

    def test_rejected_pending_referral_never_qualifies(self):
        prog = self.program()
        jane, sam, ref = self.pair(prog)
        self.assertStatus(self.s.post("/v1/referrals/%s/reject" % ref["id"], {"reason": "x"}), 200)
        r = self.purchase(prog, sam)
        self.assertEqual(r.body["rewards"], [])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rejected")
        self.assertEqual(self.s.participant(jane["id"])["stats"]["qualified"], 0)


if __name__ == "__main__":
    kithtest.main()
