"""Fraud scoring (contract section 6): each signal on its own with its clean negative, the
thresholds (defaults and PATCHed), domain matching, and re-scoring at event time."""

import random
import string

import kithtest
from kithtest import KithTestCase, uid

HOUR = 3600
DAY = 86400
ALL_FLAGS = ["same_ip", "same_device", "same_payment", "velocity", "disposable_email",
             "sequential_email", "new_referrer", "coupon_site"]


def letters(n=8):
    """Random lowercase letters (no digits: e-mail stems must not end in digits by accident)."""
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


class FraudBase(KithTestCase):
    """Helpers shared by the fraud test classes (no tests of its own)."""

    def program(self, **kw):
        return self.s.make_program(**kw)["id"]

    def referrer(self, pid, old=True, **kw):
        """A participant who can refer; old=True ages them past new_account_hours (24 h) by
        moving the (frozen) test clock 25 hours, so new_referrer does not fire."""
        p = self.s.make_participant(pid, "Rita", **kw)
        if old:
            self.s.clock_advance(25 * HOUR)
        return p

    def referred(self, pid, referrer, **kw):
        """Signs up someone referred by `referrer` through the url source; returns the referral."""
        kw.setdefault("ref", referrer["code"])
        r = self.s.signup(pid, **kw)
        self.assertStatus(r, 201)
        ref = r.body["referral"]
        self.assertIsNotNone(ref, "expected a referral: %r" % r)
        self.assertEqual(ref["referrer"]["id"], referrer["id"], repr(r))
        return ref, r.body["participant"]

    def assertFraud(self, ref, flags, status=None):
        self.assertEqual(ref["fraud"]["flags"], flags, "flags of %r" % ref)
        self.assertEqual(ref["fraud"]["score"], len(flags), "score of %r" % ref)
        if status is None:
            status = "rejected" if len(flags) >= 4 else "review" if len(flags) >= 3 else "pending"
        self.assertEqual(ref["status"], status, "status of %r" % ref)
        # the stored referral says the same
        got = self.s.referral(ref["id"])
        self.assertEqual(got["fraud"], {"score": len(flags), "flags": flags}, repr(got))
        self.assertEqual(got["status"], status, repr(got))


class SignalsTest(FraudBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = cls.server.make_program()["id"]

    # ---- same_ip ------------------------------------------------------------------------------
    def test_same_ip_office_only_flag_stays_pending(self):
        # Two colleagues behind one office NAT: a signal, never a verdict.
        rita = self.referrer(self.pid, ip="198.51.100.20")
        ref, sam = self.referred(self.pid, rita, ip="198.51.100.20")
        self.assertFraud(ref, ["same_ip"], "pending")
        ref2, _ = self.referred(self.pid, rita, ip="198.51.100.20")
        self.assertFraud(ref2, ["same_ip"], "pending")
        self.assertEqual(self.s.participant(rita["id"])["status"], "active")
        self.assertEqual(self.s.participant(sam["id"])["status"], "active")
        # and it still qualifies normally
        r = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded", repr(r))

    def test_same_ip_negative(self):
        rita = self.referrer(self.pid, ip="198.51.100.21")
        ref, _ = self.referred(self.pid, rita, ip="198.51.100.22")
        self.assertFraud(ref, [], "pending")
        ref, _ = self.referred(self.pid, rita)  # no IP at all
        self.assertFraud(ref, [], "pending")

    def test_same_ip_referrer_known_from_own_signup(self):
        r = self.s.signup(self.pid, ip="203.0.113.44", first_name="Olga")  # organic signup
        self.assertStatus(r, 201)
        olga = r.body["participant"]
        self.s.clock_advance(25 * HOUR)
        ref, _ = self.referred(self.pid, olga, ip="203.0.113.44")
        self.assertFraud(ref, ["same_ip"])
        ref, _ = self.referred(self.pid, olga, ip="203.0.113.45")
        self.assertFraud(ref, [])

    def test_referrer_without_ip_never_matches(self):
        rita = self.referrer(self.pid)
        ref, _ = self.referred(self.pid, rita, ip="198.51.100.23")
        self.assertFraud(ref, [])

    # ---- same_device ------------------------------------------------------------------------------
    def test_same_device(self):
        dev = uid("dev")
        rita = self.referrer(self.pid, device_id=dev)
        ref, _ = self.referred(self.pid, rita, device_id=dev)
        self.assertFraud(ref, ["same_device"])

    def test_same_device_negative(self):
        dev = uid("dev")
        rita = self.referrer(self.pid, device_id=dev)
        ref, _ = self.referred(self.pid, rita, device_id=dev + "-other")
        self.assertFraud(ref, [])

    # ---- same_payment ----------------------------------------------------------------------------
    def test_same_payment_from_creation(self):
        fp = uid("fp")
        rita = self.referrer(self.pid, payment_fingerprint=fp)
        ref, _ = self.referred(self.pid, rita, payment_fingerprint=fp)
        self.assertFraud(ref, ["same_payment"])

    def test_same_payment_from_referrer_signup(self):
        fp = uid("fp")
        r = self.s.signup(self.pid, first_name="Pia", payment_fingerprint=fp)
        self.assertStatus(r, 201)
        pia = r.body["participant"]
        self.s.clock_advance(25 * HOUR)
        ref, _ = self.referred(self.pid, pia, payment_fingerprint=fp)
        self.assertFraud(ref, ["same_payment"])

    def test_same_payment_from_referrer_event(self):
        fp = uid("fp")
        rita = self.referrer(self.pid, payment_fingerprint=uid("fp-own"))
        r = self.s.event(self.pid, rita["external_id"], payment_fingerprint=fp)
        self.assertStatus(r, 201)
        ref, _ = self.referred(self.pid, rita, payment_fingerprint=fp)
        self.assertFraud(ref, ["same_payment"])

    def test_same_payment_negative(self):
        fp = uid("fp")
        rita = self.referrer(self.pid, payment_fingerprint=fp)
        self.assertStatus(self.s.event(self.pid, rita["external_id"], payment_fingerprint=fp + "e"), 201)
        ref, _ = self.referred(self.pid, rita, payment_fingerprint=fp + "-x")
        self.assertFraud(ref, [])

    # ---- velocity --------------------------------------------------------------------------------
    def test_velocity_default_ten(self):
        rita = self.referrer(self.pid)
        for i in range(10):
            ref, _ = self.referred(self.pid, rita)
            self.assertFraud(ref, [])  # 0..9 earlier referrals: not yet
        ref, _ = self.referred(self.pid, rita)
        self.assertFraud(ref, ["velocity"])
        # 24 hours later the window is empty again
        self.s.clock_advance(DAY + 60)
        ref, _ = self.referred(self.pid, rita)
        self.assertFraud(ref, [])

    def test_velocity_window_slides(self):
        pid = self.program(fraud={"velocity_per_day": 2})
        rita = self.referrer(pid)
        self.referred(pid, rita)
        self.s.clock_advance(12 * HOUR)
        ref, _ = self.referred(pid, rita)
        self.assertFraud(ref, [])
        ref, _ = self.referred(pid, rita)
        self.assertFraud(ref, ["velocity"])
        self.s.clock_advance(12 * HOUR + 60)  # the first one has left the 24 h window... but 2 remain
        ref, _ = self.referred(pid, rita)
        self.assertFraud(ref, ["velocity"])
        self.s.clock_advance(12 * HOUR)  # now all but the last one (12 h ago) have left
        ref, _ = self.referred(pid, rita)
        self.assertFraud(ref, [])

    # ---- disposable_email ---------------------------------------------------------------------------
    def test_disposable_shipped_domains(self):
        rita = self.referrer(self.pid)
        for dom in ("mailinator.com", "guerrillamail.com", "10minutemail.com", "MAILINATOR.COM",
                    "x.mailinator.com", "a.b.guerrillamail.com"):
            ref, _ = self.referred(self.pid, rita, email="%s@%s" % (uid("dz").replace("-", "."), dom))
            self.assertFraud(ref, ["disposable_email"])

    def test_disposable_lookalikes_do_not_match(self):
        rita = self.referrer(self.pid)
        # (notmailinator.com itself is a real disposable provider on the shipped list, so the
        # look-alikes here are names that only end in "mailinator.com" as a string)
        for dom in ("kithmailinator.com", "mymailinator.com", "mailinator.com.example.org",
                    "mailinator.co", "example.com", "x-mailinator.com"):
            ref, _ = self.referred(self.pid, rita, email="%s@%s" % (uid("dz").replace("-", "."), dom))
            self.assertFraud(ref, [])

    def test_blocked_email_domains_setting(self):
        pid = self.program()
        rita = self.referrer(pid)
        ref, _ = self.referred(pid, rita, email="a.person@spamcorp.example")
        self.assertFraud(ref, [])
        r = self.s.patch("/v1/programs/" + pid, {"fraud": {"blocked_email_domains": ["spamcorp.example"]}})
        self.assertStatus(r, 200)
        f = r.body["fraud"]
        self.assertEqual(f["blocked_email_domains"], ["spamcorp.example"])
        # PATCH merges the fraud object field by field: the other settings keep their defaults
        self.assertEqual((f["review_at"], f["reject_at"], f["velocity_per_day"], f["new_account_hours"],
                          f["blocked_referrer_domains"]), (3, 4, 10, 24, []), repr(r))
        ref, _ = self.referred(pid, rita, email="b.person@spamcorp.example")
        self.assertFraud(ref, ["disposable_email"])
        ref, _ = self.referred(pid, rita, email="c.person@mx.spamcorp.example")
        self.assertFraud(ref, ["disposable_email"])
        ref, _ = self.referred(pid, rita, email="d.person@notspamcorp.example")
        self.assertFraud(ref, [])
        # the shipped list still applies alongside
        ref, _ = self.referred(pid, rita, email="e.person@mailinator.com")
        self.assertFraud(ref, ["disposable_email"])
        # the other program is unaffected
        other = self.referrer(self.pid)
        ref, _ = self.referred(self.pid, other, email="f.person@spamcorp.example")
        self.assertFraud(ref, [])

    # ---- sequential_email -----------------------------------------------------------------------------
    def test_sequential_email(self):
        rita = self.referrer(self.pid)
        stem = "anna" + letters()
        ref1, _ = self.referred(self.pid, rita, email=stem + "1@example.org")
        self.assertFraud(ref1, [])
        ref2, _ = self.referred(self.pid, rita, email=stem + "2@example.org")
        self.assertFraud(ref2, [])
        ref3, _ = self.referred(self.pid, rita, email=stem + "3@example.org")
        self.assertFraud(ref3, ["sequential_email"])
        ref4, _ = self.referred(self.pid, rita, email=stem + "17@example.org")
        self.assertFraud(ref4, ["sequential_email"])
        # the first two were not re-scored
        self.assertFraud(self.s.referral(ref1["id"]), [])
        self.assertFraud(self.s.referral(ref2["id"]), [])

    def test_sequential_email_negatives(self):
        rita = self.referrer(self.pid)
        stem = "ben" + letters()
        self.referred(self.pid, rita, email=stem + "1@example.org")
        self.referred(self.pid, rita, email=stem + "2@example.org")
        # other domain
        ref, _ = self.referred(self.pid, rita, email=stem + "3@example.net")
        self.assertFraud(ref, [])
        # no trailing digits
        ref, _ = self.referred(self.pid, rita, email=stem + "@example.org")
        self.assertFraud(ref, [])
        # other stem
        ref, _ = self.referred(self.pid, rita, email=stem + "x3@example.org")
        self.assertFraud(ref, [])
        # the same pattern through another referrer
        other = self.referrer(self.pid)
        ref, _ = self.referred(self.pid, other, email=stem + "4@example.org")
        self.assertFraud(ref, [])

    def test_sequential_email_needs_two_earlier(self):
        rita = self.referrer(self.pid)
        stem = "cleo" + letters()
        self.referred(self.pid, rita, email=stem + "1@example.org")
        ref, _ = self.referred(self.pid, rita, email=stem + "9@example.org")
        self.assertFraud(ref, [])

    # ---- new_referrer ------------------------------------------------------------------------------------
    def test_new_referrer(self):
        rita = self.referrer(self.pid, old=False)
        ref, _ = self.referred(self.pid, rita)
        self.assertFraud(ref, ["new_referrer"])
        self.s.clock_advance(23 * HOUR)
        ref, _ = self.referred(self.pid, rita)
        self.assertFraud(ref, ["new_referrer"])
        self.s.clock_advance(2 * HOUR)
        ref, _ = self.referred(self.pid, rita)
        self.assertFraud(ref, [])

    def test_new_account_hours_setting(self):
        pid = self.program(fraud={"new_account_hours": 1})
        rita = self.referrer(pid, old=False)
        self.s.clock_advance(HOUR - 1)
        ref, _ = self.referred(pid, rita)
        self.assertFraud(ref, ["new_referrer"])
        self.s.clock_advance(1)  # exactly new_account_hours: no longer "less than" that
        ref, _ = self.referred(pid, rita)
        self.assertFraud(ref, [])

    def test_new_referrer_from_signup(self):
        # a referrer who joined through a signup is new for 24 hours too
        r = self.s.signup(self.pid, first_name="Nell")
        self.assertStatus(r, 201)
        nell = r.body["participant"]
        ref, _ = self.referred(self.pid, nell)
        self.assertFraud(ref, ["new_referrer"])

    # ---- coupon_site ---------------------------------------------------------------------------------------
    def test_coupon_site_cookie(self):
        rita = self.referrer(self.pid)
        cid = self.s.click_id(rita["code"], headers={"Referer": "https://www.retailmenot.com/view/x"})
        ref, _ = self.referred(self.pid, rita, ref=None, click_id=cid)
        self.assertEqual(ref["source"], "cookie")
        self.assertFraud(ref, ["coupon_site"])

    def test_coupon_site_cookie_and_url(self):
        rita = self.referrer(self.pid)
        cid = self.s.click_id(rita["code"], headers={"Referer": "https://retailmenot.com/coupons/kith"})
        ref, _ = self.referred(self.pid, rita, click_id=cid)  # ref + click_id of the same referrer
        self.assertFraud(ref, ["coupon_site"])

    def test_coupon_site_negatives(self):
        rita = self.referrer(self.pid)
        for hdrs in ({"Referer": "https://blog.example.net/post/1"},
                     {"Referer": "https://notretailmenot.com/x"},
                     {}):
            cid = self.s.click_id(rita["code"], headers=hdrs)
            ref, _ = self.referred(self.pid, rita, ref=None, click_id=cid)
            self.assertFraud(ref, [])
        ref, _ = self.referred(self.pid, rita)  # url only, no click
        self.assertFraud(ref, [])

    def test_blocked_referrer_domains_setting(self):
        pid = self.program(fraud={"blocked_referrer_domains": ["dealz.example"]})
        rita = self.referrer(pid)
        cid = self.s.click_id(rita["code"], headers={"Referer": "https://forum.dealz.example/t/9"})
        ref, _ = self.referred(pid, rita, ref=None, click_id=cid)
        self.assertFraud(ref, ["coupon_site"])
        cid = self.s.click_id(rita["code"], headers={"Referer": "https://dealz.example.org/t/9"})
        ref, _ = self.referred(pid, rita, ref=None, click_id=cid)
        self.assertFraud(ref, [])


class ThresholdsTest(FraudBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = cls.server.make_program()["id"]

    def n_flags(self, pid, n, rita=None):
        """A signup with exactly n of (same_ip, same_device, same_payment, disposable_email)."""
        if rita is None:
            rita = self.referrer(pid, ip="198.51.100.60", device_id="dev-thr", payment_fingerprint="fp-thr")
        kw = {}
        if n >= 1:
            kw["ip"] = "198.51.100.60"
        if n >= 2:
            kw["device_id"] = "dev-thr"
        if n >= 3:
            kw["payment_fingerprint"] = "fp-thr"
        if n >= 4:
            kw["email"] = "%s@mailinator.com" % uid("t").replace("-", ".")
        return self.referred(pid, rita, **kw)

    def test_default_thresholds(self):
        rita = self.referrer(self.pid, ip="198.51.100.60", device_id="dev-thr",
                             payment_fingerprint="fp-thr")
        expect = {0: "pending", 1: "pending", 2: "pending", 3: "review", 4: "rejected"}
        for n, status in expect.items():
            ref, _ = self.n_flags(self.pid, n, rita)
            self.assertFraud(ref, ALL_FLAGS[:min(n, 3)] + (["disposable_email"] if n >= 4 else []),
                             status)

    def test_review_listed_and_rejected_not(self):
        rita = self.referrer(self.pid, ip="198.51.100.60", device_id="dev-thr",
                             payment_fingerprint="fp-thr")
        rev, _ = self.n_flags(self.pid, 3, rita)
        rej, _ = self.n_flags(self.pid, 4, rita)
        pen, _ = self.n_flags(self.pid, 2, rita)
        q = "/v1/referrals?program=%s&status=review" % self.pid
        ids = [x["id"] for x in self.s.list_all(q)]
        self.assertIn(rev["id"], ids)
        self.assertNotIn(rej["id"], ids)
        self.assertNotIn(pen["id"], ids)
        ids = [x["id"] for x in self.s.list_all("/v1/referrals?program=%s&status=rejected" % self.pid)]
        self.assertIn(rej["id"], ids)

    def test_all_eight_flags_in_order(self):
        pid = self.program(fraud={"velocity_per_day": 2})
        rita = self.s.make_participant(pid, "Rita", ip="198.51.100.61", device_id="dev-8",
                                       payment_fingerprint="fp-8")  # new: new_referrer fires
        stem = "eve" + letters()
        self.referred(pid, rita, email=stem + "1@mailinator.com")
        self.referred(pid, rita, email=stem + "2@mailinator.com")
        cid = self.s.click_id(rita["code"], headers={"Referer": "https://www.retailmenot.com/v"})
        ref, _ = self.referred(pid, rita, ref=None, click_id=cid, email=stem + "3@mailinator.com",
                               ip="198.51.100.61", device_id="dev-8", payment_fingerprint="fp-8")
        self.assertFraud(ref, ALL_FLAGS, "rejected")

    def test_flag_order_subset(self):
        # device before disposable before new_referrer, whatever the input order
        rita = self.s.make_participant(self.pid, "Rita", device_id="dev-ord")
        ref, _ = self.referred(self.pid, rita, email="ord.x@guerrillamail.com", device_id="dev-ord")
        self.assertFraud(ref, ["same_device", "disposable_email", "new_referrer"], "review")

    def test_custom_thresholds(self):
        pid = self.program(fraud={"review_at": 2, "reject_at": 3})
        got = self.s.get("/v1/programs/" + pid).body["fraud"]
        self.assertEqual((got["review_at"], got["reject_at"], got["velocity_per_day"]), (2, 3, 10))
        rita = self.referrer(pid, ip="198.51.100.60", device_id="dev-thr", payment_fingerprint="fp-thr")
        for n, status in {1: "pending", 2: "review", 3: "rejected"}.items():
            ref, _ = self.n_flags(pid, n, rita)
            self.assertFraud(ref, ALL_FLAGS[:n], status)

    def test_thresholds_patched(self):
        pid = self.program()
        rita = self.referrer(pid, ip="198.51.100.60", device_id="dev-thr", payment_fingerprint="fp-thr")
        before2, _ = self.n_flags(pid, 2, rita)
        before3, _ = self.n_flags(pid, 3, rita)
        self.assertFraud(before2, ALL_FLAGS[:2], "pending")
        self.assertFraud(before3, ALL_FLAGS[:3], "review")
        r = self.s.patch("/v1/programs/" + pid, {"fraud": {"review_at": 1, "reject_at": 2}})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["fraud"]["review_at"], r.body["fraud"]["reject_at"],
                          r.body["fraud"]["velocity_per_day"], r.body["fraud"]["new_account_hours"]),
                         (1, 2, 10, 24), repr(r))
        ref, _ = self.n_flags(pid, 0, rita)
        self.assertFraud(ref, [], "pending")
        ref, _ = self.n_flags(pid, 1, rita)
        self.assertFraud(ref, ["same_ip"], "review")
        ref, _ = self.n_flags(pid, 2, rita)
        self.assertFraud(ref, ["same_ip", "same_device"], "rejected")
        # changes apply to what happens after them
        self.assertFraud(self.s.referral(before2["id"]), ALL_FLAGS[:2], "pending")
        self.assertFraud(self.s.referral(before3["id"]), ALL_FLAGS[:3], "review")
        # a second PATCH of one field keeps the other
        r = self.s.patch("/v1/programs/" + pid, {"fraud": {"reject_at": 5}})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["fraud"]["review_at"], r.body["fraud"]["reject_at"]), (1, 5), repr(r))
        ref, _ = self.n_flags(pid, 4, rita)
        self.assertFraud(ref, ["same_ip", "same_device", "same_payment", "disposable_email"], "review")


class EventRescoreTest(FraudBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = cls.server.make_program()["id"]

    def setUp(self):
        self.fp = uid("fp")
        self.dev = uid("dev")
        self.rita = self.referrer(self.pid, ip="198.51.100.70", device_id=self.dev,
                                  payment_fingerprint=self.fp)

    def rewards_of(self, ref_id):
        return [w for w in self.s.rewards(program=self.pid) if w["referral"] == ref_id]

    def test_two_flags_plus_payment_goes_to_review(self):
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70",
                                 device_id=self.rita_device())
        self.assertFraud(ref, ["same_ip", "same_device"], "pending")
        r = self.s.event(self.pid, sam["external_id"], payment_fingerprint=self.fp)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [], repr(r))
        self.assertIsNotNone(r.body["referral"], repr(r))
        self.assertEqual(r.body["referral"]["id"], ref["id"])
        self.assertEqual(r.body["referral"]["status"], "review", repr(r))
        self.assertEqual(r.body["referral"]["fraud"],
                         {"score": 3, "flags": ["same_ip", "same_device", "same_payment"]})
        got = self.s.referral(ref["id"])
        self.assertFraud(got, ["same_ip", "same_device", "same_payment"], "review")
        self.assertIsNone(got["qualified_at"])
        self.assertEqual(self.rewards_of(ref["id"]), [])
        ids = [x["id"] for x in self.s.list_all("/v1/referrals?program=%s&status=review" % self.pid)]
        self.assertIn(ref["id"], ids)

    def test_three_flags_plus_payment_is_rejected(self):
        pid = self.program(fraud={"review_at": 4, "reject_at": 4})
        fp = uid("fp")
        dev = uid("dev")
        rita = self.s.make_participant(pid, "Rita", ip="198.51.100.71", device_id=dev,
                                       payment_fingerprint=fp)  # new referrer
        ref, sam = self.referred(pid, rita, ip="198.51.100.71", device_id=dev)
        self.assertFraud(ref, ["same_ip", "same_device", "new_referrer"], "pending")
        r = self.s.event(pid, sam["external_id"], payment_fingerprint=fp)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [], repr(r))
        self.assertEqual(r.body["referral"]["status"], "rejected", repr(r))
        self.assertFraud(self.s.referral(ref["id"]),
                         ["same_ip", "same_device", "same_payment", "new_referrer"], "rejected")
        self.assertEqual([w for w in self.s.rewards(program=pid) if w["referral"] == ref["id"]], [])

    def test_review_plus_payment_is_rejected_defaults(self):
        # 3 flags at signup (review); the event's payment match makes 4: rejected
        dev = self.rita_device()
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70", device_id=dev,
                                 email="x.%s@mailinator.com" % uid("r").replace("-", "."))
        self.assertFraud(ref, ["same_ip", "same_device", "disposable_email"], "review")
        r = self.s.event(self.pid, sam["external_id"], payment_fingerprint=self.fp)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["rewards"], [], repr(r))
        self.assertFraud(self.s.referral(ref["id"]),
                         ["same_ip", "same_device", "same_payment", "disposable_email"], "rejected")

    def test_one_flag_plus_payment_still_qualifies(self):
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70")
        r = self.s.event(self.pid, sam["external_id"], payment_fingerprint=self.fp)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded", repr(r))
        self.assertEqual(len(r.body["rewards"]), 2, repr(r))
        self.assertFraud(self.s.referral(ref["id"]), ["same_ip", "same_payment"], "rewarded")

    def test_other_payment_does_not_rescore(self):
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70", device_id=self.rita_device())
        r = self.s.event(self.pid, sam["external_id"], payment_fingerprint=self.fp + "-other")
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded", repr(r))
        self.assertFraud(self.s.referral(ref["id"]), ["same_ip", "same_device"], "rewarded")

    def test_event_without_payment_does_not_rescore(self):
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70", device_id=self.rita_device())
        r = self.s.event(self.pid, sam["external_id"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded", repr(r))
        self.assertFraud(self.s.referral(ref["id"]), ["same_ip", "same_device"], "rewarded")

    def test_payment_known_from_referrer_event(self):
        efp = uid("fp-evt")
        self.assertStatus(self.s.event(self.pid, self.rita["external_id"], type="renewal",
                                       payment_fingerprint=efp), 201)
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70", device_id=self.rita_device())
        r = self.s.event(self.pid, sam["external_id"], payment_fingerprint=efp)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "review", repr(r))
        self.assertFraud(self.s.referral(ref["id"]), ["same_ip", "same_device", "same_payment"], "review")

    def test_already_flagged_payment_not_counted_twice(self):
        ref, sam = self.referred(self.pid, self.rita, ip="198.51.100.70", payment_fingerprint=self.fp)
        self.assertFraud(ref, ["same_ip", "same_payment"], "pending")
        r = self.s.event(self.pid, sam["external_id"], payment_fingerprint=self.fp)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded", repr(r))
        self.assertFraud(self.s.referral(ref["id"]), ["same_ip", "same_payment"], "rewarded")

    def rita_device(self):
        return self.dev


if __name__ == "__main__":
    kithtest.main()
