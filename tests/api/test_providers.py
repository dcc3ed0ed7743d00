"""Inbound provider events (contract section 12): Stripe and Shopify webhooks turned into
purchases and refunds, their signatures, deduplication (also concurrent), and arrival order.

Signatures are computed here with the standard library, exactly as Stripe and Shopify do:
  Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret string, "<t>.<raw body>")>
  X-Shopify-Hmac-Sha256: base64 HMAC-SHA256(secret, raw body)
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time

import kithtest
from kithtest import KithTestCase, parse_time, fmt_time, uid

HOLD_DAYS = 10


def stripe_header(secret, raw, t):
    sig = hmac.new(secret.encode(), str(t).encode() + b"." + raw, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, sig)


def shopify_hmac(secret, raw):
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


class ProviderCase(KithTestCase):
    def setUp(self):
        self.stripe_secret = "whsec_" + secrets.token_hex(16)
        self.shopify_secret = "shpss_" + secrets.token_hex(16)

    def program(self, **kw):
        body = {"stripe_webhook_secret": self.stripe_secret,
                "shopify_webhook_secret": self.shopify_secret}
        body.update(kw)
        return self.s.make_program(**body)

    def referred(self, prog_id, email=None):
        """A referrer and a pending referred person -> (referrer, referred participant, referral)."""
        s = self.s
        a = s.make_participant(prog_id, first_name="Ann")
        r = s.signup(prog_id, code=a["code"], first_name="Bob",
                     email=email or (uid("bob") + "@example.com"))
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "pending", repr(r))
        return a, r.body["participant"], r.body["referral"]

    def now(self):
        return int(self.s.clock_now().timestamp())

    # ---- Stripe ----------------------------------------------------------------------------------
    def stripe_event(self, type, obj, created=None, evt_id=None):
        return {"id": evt_id or ("evt_" + secrets.token_hex(12)), "object": "event", "type": type,
                "created": created if created is not None else self.now() - 30,
                "livemode": False, "data": {"object": obj}}

    def checkout(self, amount=12000, created=None, evt_id=None, **obj):
        o = {"id": "cs_test_" + secrets.token_hex(8), "object": "checkout.session",
             "payment_status": "paid", "amount_total": amount, "currency": "usd"}
        o.update(obj)
        return self.stripe_event("checkout.session.completed", o, created, evt_id)

    def stripe(self, prog_id, event, t=None, secret=None, header=None, raw=None, key=None):
        raw = raw if raw is not None else json.dumps(event).encode()
        if header is None:
            header = stripe_header(secret or self.stripe_secret, raw,
                                   t if t is not None else self.now())
        h = {"Stripe-Signature": header} if header is not False else {}
        return self.s.post("/v1/integrations/stripe/" + prog_id, raw_body=raw, headers=h, key=key)

    # ---- Shopify ---------------------------------------------------------------------------------
    def order(self, email=None, customer_id=None, first_name="Nia", ext=None, total="120.00",
              codes=None, order_id=None):
        o = {"id": order_id or int(time.time() * 1000) % 10 ** 9 + secrets.randbelow(10 ** 6),
             "total_price": total, "currency": "USD", "financial_status": "paid"}
        if email:
            o["email"] = email
        if customer_id is not None:
            o["customer"] = {"id": customer_id, "first_name": first_name}
        if ext:
            o["note_attributes"] = [{"name": "kith_external_id", "value": ext}]
        if codes:
            o["discount_codes"] = [{"code": c, "amount": "10.00", "type": "fixed_amount"} for c in codes]
        return o

    def shopify(self, prog_id, topic, payload, event_id=None, secret=None, hmac_header=None,
                raw=None):
        raw = raw if raw is not None else json.dumps(payload).encode()
        h = {"X-Shopify-Topic": topic,
             "X-Shopify-Event-Id": event_id or secrets.token_hex(10),
             "X-Shopify-Shop-Domain": "kith-test.myshopify.com"}
        if hmac_header is None:
            hmac_header = shopify_hmac(secret or self.shopify_secret, raw)
        if hmac_header is not False:
            h["X-Shopify-Hmac-Sha256"] = hmac_header
        return self.s.post("/v1/integrations/shopify/" + prog_id, raw_body=raw, headers=h, key=None)

    # ---- checks ----------------------------------------------------------------------------------
    def assertApplied(self, r, event_type, participant_id=None):
        self.assertStatus(r, 200)
        self.assertKeys(r.body, ["received", "event", "referral", "rewards"], "provider answer")
        self.assertIs(r.body["received"], True)
        self.assertNotIn("ignored", r.body)
        ev = r.body["event"]
        self.assertEqual(ev["type"], event_type, repr(r))
        if participant_id:
            self.assertEqual(ev["participant"], participant_id, repr(r))
        return r.body

    def assertIgnored(self, r):
        self.assertStatus(r, 200)
        self.assertIs(r.body.get("received"), True, repr(r))
        self.assertIsInstance(r.body.get("ignored"), str, repr(r))
        self.assertTrue(r.body["ignored"], repr(r))
        self.assertNotIn("rewards", r.body, repr(r))
        return r.body["ignored"]

    def live_rewards(self, ref_id):
        return sorted((rw["to"], rw["status"]) for rw in self.s.rewards(program=self.s.referral(ref_id)["program"])
                      if rw["referral"] == ref_id and rw["status"] != "voided")


class ProviderSecretsTest(ProviderCase):
    def test_secrets_are_write_only(self):
        s = self.s
        prog = self.program()
        self.assertEqual(prog["stripe_webhook_secret"], "..." + self.stripe_secret[-4:])
        self.assertEqual(prog["shopify_webhook_secret"], "..." + self.shopify_secret[-4:])
        for r in (s.get("/v1/programs/" + prog["id"]), s.get("/v1/programs")):
            self.assertStatus(r, 200)
            self.assertNotIn(self.stripe_secret, r.raw.decode())
            self.assertNotIn(self.shopify_secret, r.raw.decode())
        self.assertEqual(s.get("/v1/programs/" + prog["id"]).body["stripe_webhook_secret"],
                         "..." + self.stripe_secret[-4:])
        # PATCH replaces it: the old secret stops verifying, the new one works
        _, b, _ = self.referred(prog["id"])
        old = self.stripe_secret
        new = "whsec_" + secrets.token_hex(16)
        r = s.patch("/v1/programs/" + prog["id"], {"stripe_webhook_secret": new})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["stripe_webhook_secret"], "..." + new[-4:])
        self.assertNotIn(new, r.raw.decode())
        ev = self.checkout(client_reference_id=b["external_id"])
        self.assertError(self.stripe(prog["id"], ev, secret=old), 400, "invalid_param",
                         param="Stripe-Signature")
        self.assertApplied(self.stripe(prog["id"], ev, secret=new), "purchase", b["id"])
        self.assertNotIn(new, s.log_text())
        self.assertNotIn(self.shopify_secret, s.log_text())

    def test_program_without_secret_refuses(self):
        prog = self.s.make_program()
        _, b, ref = self.referred(prog["id"])
        ev = self.checkout(client_reference_id=b["external_id"])
        # nothing to verify against is a bad signature (section 12: Stripe 400, Shopify 401)
        r = self.stripe(prog["id"], ev)
        self.assertError(r, 400, "invalid_param", param="Stripe-Signature")
        r = self.shopify(prog["id"], "orders/paid", self.order(ext=b["external_id"]))
        self.assertError(r, 401, "unauthorized")
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")


class StripeSignatureTest(ProviderCase):
    def bad(self, r, prog_id, ref_id):
        self.assertError(r, 400, "invalid_param", param="Stripe-Signature")
        self.assertEqual(self.s.referral(ref_id)["status"], "pending", "a refused event had an effect")

    def test_valid(self):
        prog = self.program()
        a, b, ref = self.referred(prog["id"])
        created = self.now() - 120
        ev = self.checkout(client_reference_id=b["external_id"], created=created)
        r = self.stripe(prog["id"], ev)  # no API key: the route is public
        body = self.assertApplied(r, "purchase", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(body["event"]["currency"], "USD")
        self.assertEqual(body["event"]["provider_id"], ev["id"])
        self.assertEqual(parse_time(body["event"]["occurred_at"]).timestamp(), created)
        self.assertEqual(body["referral"]["id"], ref["id"])
        self.assertEqual(body["referral"]["status"], "rewarded")
        self.assertEqual(sorted(rw["to"] for rw in body["rewards"]), ["referred", "referrer"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")

    def test_body_changed(self):
        prog = self.program()
        _, b, ref = self.referred(prog["id"])
        ev = self.checkout(client_reference_id=b["external_id"])
        raw = json.dumps(ev).encode()
        t = self.now()
        header = stripe_header(self.stripe_secret, raw, t)
        tampered = raw.replace(b"12000", b"99000")
        self.bad(self.stripe(prog["id"], None, header=header, raw=tampered), prog["id"], ref["id"])
        self.bad(self.stripe(prog["id"], None, header=header, raw=raw + b"\n"), prog["id"], ref["id"])
        # the original bytes still verify, and the refused attempts did not burn the event id
        self.assertApplied(self.stripe(prog["id"], None, header=header, raw=raw), "purchase", b["id"])

    def test_timestamps_against_the_test_clock(self):
        s = self.s
        prog = self.program()
        _, b, ref = self.referred(prog["id"])
        ev = self.checkout(client_reference_id=b["external_id"])
        now = self.now()
        self.bad(self.stripe(prog["id"], ev, t=now - 301), prog["id"], ref["id"])
        self.bad(self.stripe(prog["id"], ev, t=now + 301), prog["id"], ref["id"])
        # the server's now is the test clock: move it a day on; a real-time stamp is then stale
        s.clock_advance(86400)
        self.bad(self.stripe(prog["id"], ev, t=now), prog["id"], ref["id"])
        self.bad(self.stripe(prog["id"], ev, t=int(time.time())), prog["id"], ref["id"])
        # inside the tolerance
        self.assertApplied(self.stripe(prog["id"], ev, t=self.now() - 290), "purchase", b["id"])

    def test_wrong_secret_missing_and_malformed(self):
        prog = self.program()
        _, b, ref = self.referred(prog["id"])
        ev = self.checkout(client_reference_id=b["external_id"])
        raw = json.dumps(ev).encode()
        t = self.now()
        self.bad(self.stripe(prog["id"], ev, secret="whsec_" + secrets.token_hex(16)), prog["id"], ref["id"])
        self.bad(self.stripe(prog["id"], ev, secret=self.stripe_secret[len("whsec_"):]), prog["id"], ref["id"])
        self.bad(self.stripe(prog["id"], ev, header=False), prog["id"], ref["id"])
        for h in ("", "garbage", "t=%d" % t, "v1=" + "0" * 64, "t=abc,v1=" + "0" * 64,
                  "t=%d,v1=" % t, "t=%d,v1=%s" % (t, "zz" * 32)):
            self.bad(self.stripe(prog["id"], ev, header=h), prog["id"], ref["id"])
        # v0 only (Stripe's test scheme), with an otherwise correct HMAC
        good = stripe_header(self.stripe_secret, raw, t)
        self.bad(self.stripe(prog["id"], None, raw=raw, header=good.replace("v1=", "v0=")),
                 prog["id"], ref["id"])
        # an API key does not replace the signature
        self.bad(self.stripe(prog["id"], ev, header=False, key=self.s.secret), prog["id"], ref["id"])
        # two v1 signatures, the second valid (as during a secret roll): accepted
        h2 = "t=%d,v1=%s,%s" % (t, "ab" * 32, good.split(",", 1)[1])
        self.assertApplied(self.stripe(prog["id"], None, raw=raw, header=h2), "purchase", b["id"])

    def test_unknown_program(self):
        ev = self.checkout(client_reference_id="nobody")
        r = self.stripe("no-such-program-" + secrets.token_hex(3), ev)
        # the contract does not fix this one (kith: 404 not_found naming `program`)
        self.assertIn(r.status, (400, 404), repr(r))
        self.assertError(r, r.status, "not_found" if r.status == 404 else "invalid_param")


class StripeMappingTest(ProviderCase):
    def test_checkout_person_lookup(self):
        prog = self.program()
        pid = prog["id"]
        cases = []
        _, b1, r1 = self.referred(pid)
        cases.append((b1, r1, self.checkout(client_reference_id=b1["external_id"])))
        _, b2, r2 = self.referred(pid)
        cases.append((b2, r2, self.checkout(metadata={"kith_external_id": b2["external_id"]})))
        _, b3, r3 = self.referred(pid, email="Dana.Smith+shop@Example.com")
        cases.append((b3, r3, self.checkout(customer_details={"email": "dana.smith@example.com",
                                                              "name": "Dana"})))
        _, b4, r4 = self.referred(pid)
        cases.append((b4, r4, self.checkout(customer_email=b4["email"].upper())))
        for b, ref, ev in cases:
            body = self.assertApplied(self.stripe(pid, ev), "purchase", b["id"])
            self.assertEqual(body["referral"]["id"], ref["id"])
            self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")

    def test_unpaid_unknown_type_unknown_person(self):
        prog = self.program()
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        self.assertIgnored(self.stripe(pid, self.checkout(client_reference_id=b["external_id"],
                                                          payment_status="unpaid")))
        self.assertIgnored(self.stripe(pid, self.stripe_event("customer.created",
                                                              {"id": "cus_1", "email": b["email"]})))
        self.assertIgnored(self.stripe(pid, self.stripe_event("payment_intent.succeeded",
                                                              {"amount": 12000, "currency": "usd",
                                                               "metadata": {"kith_external_id": b["external_id"]}})))
        self.assertIgnored(self.stripe(pid, self.checkout(client_reference_id="nobody-" + uid())))
        self.assertIgnored(self.stripe(pid, self.checkout(customer_email="nobody@example.org")))
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.live_rewards(ref["id"]), [])
        # malformed JSON with a valid signature: a 400, not a 500
        raw = b'{"id": "evt_x", "type": '
        r = self.stripe(pid, None, raw=raw)
        self.assertError(r, 400, "invalid_json")

    def test_invoice_paid(self):
        prog = self.program()
        pid = prog["id"]
        _, b1, r1 = self.referred(pid)
        _, b2, r2 = self.referred(pid)
        inv = {"id": "in_" + secrets.token_hex(8), "object": "invoice", "amount_paid": 4900,
               "currency": "usd", "paid": True}
        e1 = self.stripe_event("invoice.paid", dict(inv, customer_email=b1["email"]))
        e2 = self.stripe_event("invoice.paid", dict(inv, metadata={"kith_external_id": b2["external_id"]}))
        for b, ref, ev in ((b1, r1, e1), (b2, r2, e2)):
            body = self.assertApplied(self.stripe(pid, ev), "purchase", b["id"])
            self.assertEqual(body["event"]["amount"], 4900)
            self.assertEqual(body["event"]["currency"], "USD")
            self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")

    def test_refund_during_hold(self):
        s = self.s
        prog = self.program(qualification={"hold_days": HOLD_DAYS})
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        buy = self.checkout(client_reference_id=b["external_id"], created=self.now() - 600)
        body = self.assertApplied(self.stripe(pid, buy), "purchase", b["id"])
        self.assertEqual(body["referral"]["status"], "qualified")
        self.assertEqual({rw["status"] for rw in body["rewards"]}, {"pending"})
        refund = self.stripe_event("charge.refunded", {
            "id": "ch_" + secrets.token_hex(8), "object": "charge", "amount": 12000,
            "amount_refunded": 12000, "currency": "usd", "refunded": True,
            "billing_details": {"email": b["email"]}})
        body = self.assertApplied(self.stripe(pid, refund), "refund", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.live_rewards(ref["id"]), [])
        s.clock_advance((HOLD_DAYS + 1) * 86400)
        self.assertEqual(s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.live_rewards(ref["id"]), [])
        # charge.refunded finds the person by metadata and by receipt_email too
        for key, val in (("metadata", {"kith_external_id": b["external_id"]}), ("receipt_email", b["email"])):
            ev = self.stripe_event("charge.refunded", {"id": "ch_" + secrets.token_hex(8), "object": "charge",
                                                       "amount_refunded": 500, "currency": "usd", key: val})
            self.assertApplied(self.stripe(pid, ev), "refund", b["id"])

    def test_same_event_twice(self):
        prog = self.program()
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        ev = self.checkout(client_reference_id=b["external_id"])
        first = self.stripe(pid, ev)
        self.assertApplied(first, "purchase", b["id"])
        # the same event again, freshly signed (Stripe re-signs each retry): first result, no effect
        s2 = self.stripe(pid, ev, t=self.now() - 5)
        self.assertStatus(s2, 200)
        self.assertEqual(s2.body, first.body)
        self.assertEqual(len([rw for rw in self.s.rewards(program=pid) if rw["referral"] == ref["id"]]), 2)

    def test_same_event_concurrently(self):
        prog = self.program()
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        ev = self.checkout(client_reference_id=b["external_id"])
        raw = json.dumps(ev).encode()
        header = stripe_header(self.stripe_secret, raw, self.now())
        results = []
        lock = threading.Lock()
        go = threading.Event()

        def send():
            go.wait()
            r = self.s.post("/v1/integrations/stripe/" + pid, raw_body=raw,
                            headers={"Stripe-Signature": header}, key=None)
            with lock:
                results.append(r)
        ts = [threading.Thread(target=send) for _ in range(8)]
        for t in ts:
            t.start()
        go.set()
        for t in ts:
            t.join(120)
        self.assertEqual(len(results), 8)
        for r in results:
            self.assertStatus(r, 200)
        self.assertEqual(len({r.body["event"]["id"] for r in results}), 1,
                         "one Stripe event became several kith events: %r" % results)
        rws = [rw for rw in self.s.rewards(program=pid) if rw["referral"] == ref["id"]]
        self.assertEqual(sorted(rw["to"] for rw in rws), ["referred", "referrer"], repr(rws))

    def test_refund_before_purchase_same_outcome(self):
        """Refund (happened 1 h after the purchase) arriving first ends like the right order."""
        s = self.s
        prog = self.program(qualification={"hold_days": HOLD_DAYS})
        pid = prog["id"]
        t0 = self.now() - 7200
        outcomes = []
        for order in ("in_order", "out_of_order"):
            _, b, ref = self.referred(pid)
            buy = self.checkout(client_reference_id=b["external_id"], created=t0)
            refund = self.stripe_event("charge.refunded", {
                "id": "ch_" + secrets.token_hex(8), "object": "charge", "amount_refunded": 12000,
                "currency": "usd", "metadata": {"kith_external_id": b["external_id"]}},
                created=t0 + 3600)
            seq = (buy, refund) if order == "in_order" else (refund, buy)
            for ev in seq:
                self.assertStatus(self.stripe(pid, ev), 200)
            outcomes.append((ref["id"], b))
        s.clock_advance((HOLD_DAYS + 1) * 86400)
        finals = [(s.referral(rid)["status"], self.live_rewards(rid)) for rid, _ in outcomes]
        self.assertEqual(finals[0], finals[1], "arrival order changed the outcome: %r" % finals)
        self.assertEqual(finals[0], ("pending", []), repr(finals))
        # both can still qualify with a later purchase
        for rid, b in outcomes:
            self.assertApplied(self.stripe(pid, self.checkout(client_reference_id=b["external_id"])),
                               "purchase", b["id"])
            self.assertEqual(s.referral(rid)["status"], "qualified")


class ShopifyTest(ProviderCase):
    def test_valid_and_tampered(self):
        prog = self.program()
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        o = self.order(email="someone-else@example.com", customer_id=987654, ext=b["external_id"])
        raw = json.dumps(o).encode()
        good = shopify_hmac(self.shopify_secret, raw)
        for r in (self.shopify(pid, "orders/paid", None, raw=raw.replace(b"120.00", b"999.00"), hmac_header=good),
                  self.shopify(pid, "orders/paid", None, raw=raw + b" ", hmac_header=good),
                  self.shopify(pid, "orders/paid", o, secret="shpss_wrong"),
                  self.shopify(pid, "orders/paid", o, hmac_header=False),
                  self.shopify(pid, "orders/paid", o, hmac_header="not base64!"),
                  self.shopify(pid, "orders/paid", o, hmac_header=hashlib.sha256(raw).hexdigest())):
            self.assertError(r, 401, "unauthorized")
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        r = self.shopify(pid, "orders/paid", None, raw=raw, hmac_header=good)
        body = self.assertApplied(r, "purchase", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(body["event"]["currency"], "USD")
        self.assertEqual(body["referral"]["id"], ref["id"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")

    def test_person_lookup_order(self):
        prog = self.program()
        pid = prog["id"]
        # by customer id (as a string external id)
        a = self.s.make_participant(pid, first_name="Ann")
        cid = 700000 + secrets.randbelow(10 ** 5)
        r = self.s.signup(pid, external_id=str(cid), code=a["code"], first_name="Cy",
                          email=uid("cy") + "@example.com")
        self.assertStatus(r, 201)
        self.assertApplied(self.shopify(pid, "orders/paid", self.order(customer_id=cid)),
                           "purchase", r.body["participant"]["id"])
        # by email when neither matches
        _, b, ref = self.referred(pid, email=uid("em") + "@example.com")
        self.assertApplied(self.shopify(pid, "orders/paid", self.order(
            email=b["email"], customer_id=123 + secrets.randbelow(10 ** 6))), "purchase", b["id"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        # unknown topic
        self.assertIgnored(self.shopify(pid, "customers/create", {"id": 1, "email": "x@example.com"}))
        # unknown person, no discount code at all: ignored, nobody created
        email = uid("ghost") + "@example.com"
        self.assertIgnored(self.shopify(pid, "orders/paid", self.order(email=email, customer_id=42424241)))
        r = self.s.get("/v1/participants?program=%s&external_id=42424241" % pid)
        self.assertEqual(r.body["data"], [])

    def test_unknown_customer_with_shop_discount_code_is_ignored(self):
        """Only a kith code signs a new customer up; the shop's own codes (SUMMER10) do not."""
        prog = self.program()
        pid = prog["id"]
        email = uid("ghost") + "@example.com"
        r = self.shopify(pid, "orders/paid", self.order(email=email, customer_id=42424242,
                                                        codes=["SUMMER10"]))
        after = self.s.get("/v1/participants?program=%s&external_id=42424242" % pid)
        self.assertEqual(after.body["data"], [], "a customer without a kith code became a participant: %r" % r)
        self.assertIgnored(r)

    def test_new_customer_with_kith_code_is_signed_up(self):
        s = self.s
        prog = self.program()
        pid = prog["id"]
        a = s.make_participant(pid, first_name="Ann")
        cid = 800000 + secrets.randbelow(10 ** 5)
        typed = a["code"].lower().replace("-", " ")
        email = uid("new") + "@example.com"
        r = self.shopify(pid, "orders/paid", self.order(email=email, customer_id=cid, first_name="Nia",
                                                        codes=[typed]))
        body = self.assertApplied(r, "purchase")
        lst = s.get("/v1/participants?program=%s&external_id=%d" % (pid, cid))
        self.assertStatus(lst, 200)
        self.assertEqual(len(lst.body["data"]), 1, repr(lst))
        nia = lst.body["data"][0]
        self.assertEqual(nia["first_name"], "Nia")
        self.assertEqual(nia["email"], email)
        self.assertEqual(body["event"]["participant"], nia["id"])
        self.assertIsNotNone(nia["referred_by"])
        ref = s.referral(nia["referred_by"])
        self.assertEqual(ref["referrer"]["id"], a["id"])
        self.assertEqual(ref["source"], "code")
        self.assertEqual(ref["status"], "rewarded", "the order's purchase should qualify it: %r" % ref)
        self.assertEqual(sorted(rw["to"] for rw in body["rewards"]), ["referred", "referrer"])
        # with a note attribute, that is the external id
        ext = uid("shop")
        r = self.shopify(pid, "orders/paid", self.order(email=uid("n2") + "@example.com",
                                                        customer_id=cid + 1, ext=ext, codes=[a["code"]]))
        body = self.assertApplied(r, "purchase")
        self.assertEqual(body["event"]["external_id"], ext)
        self.assertEqual(s.get("/v1/participants?program=%s&external_id=%d" % (pid, cid + 1)).body["data"], [])
        self.assertEqual(s.referral(body["referral"]["id"])["status"], "rewarded")

    def test_kith_code_among_other_discount_codes(self):
        """Shopify orders may combine discounts: the kith code need not be the first one."""
        s = self.s
        prog = self.program()
        pid = prog["id"]
        a = s.make_participant(pid, first_name="Ann")
        cid = 810000 + secrets.randbelow(10 ** 5)
        r = self.shopify(pid, "orders/paid", self.order(email=uid("mix") + "@example.com", customer_id=cid,
                                                        first_name="Mo", codes=["WELCOME5", a["code"]]))
        body = self.assertApplied(r, "purchase")
        self.assertIsNotNone(body["referral"], "the kith code in second place was not used: %r" % r)
        self.assertEqual(body["referral"]["referrer"]["id"], a["id"])
        self.assertEqual(body["referral"]["status"], "rewarded")

    def test_refund_for_the_order(self):
        s = self.s
        prog = self.program(qualification={"hold_days": HOLD_DAYS})
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        oid = 5000000 + secrets.randbelow(10 ** 6)
        o = self.order(ext=b["external_id"], order_id=oid)
        body = self.assertApplied(self.shopify(pid, "orders/paid", o), "purchase", b["id"])
        self.assertEqual(body["referral"]["status"], "qualified")
        refund = {"id": 9000 + secrets.randbelow(10 ** 6), "order_id": oid,
                  "transactions": [{"kind": "refund", "amount": "120.00", "currency": "USD",
                                    "status": "success"}]}
        body = self.assertApplied(self.shopify(pid, "refunds/create", refund), "refund", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.live_rewards(ref["id"]), [])
        # a refund for an order kith never saw: ignored
        self.assertIgnored(self.shopify(pid, "refunds/create", dict(refund, order_id=1, id=77)))

    def test_event_id_dedupes(self):
        prog = self.program(qualification={"hold_days": HOLD_DAYS})
        pid = prog["id"]
        _, b, ref = self.referred(pid)
        o = self.order(ext=b["external_id"])
        eid = "shopify-evt-" + secrets.token_hex(6)
        first = self.shopify(pid, "orders/paid", o, event_id=eid)
        self.assertApplied(first, "purchase", b["id"])
        again = self.shopify(pid, "orders/paid", o, event_id=eid)
        self.assertStatus(again, 200)
        self.assertEqual(again.body, first.body)
        # concurrently: another person, 8 threads, one event id
        _, b2, ref2 = self.referred(pid)
        o2 = self.order(ext=b2["external_id"])
        raw = json.dumps(o2).encode()
        eid2 = "shopify-evt-" + secrets.token_hex(6)
        results, lock, go = [], threading.Lock(), threading.Event()

        def send():
            go.wait()
            r = self.shopify(pid, "orders/paid", None, raw=raw, event_id=eid2)
            with lock:
                results.append(r)
        ts = [threading.Thread(target=send) for _ in range(8)]
        for t in ts:
            t.start()
        go.set()
        for t in ts:
            t.join(120)
        for r in results:
            self.assertStatus(r, 200)
        self.assertEqual(len({r.body["event"]["id"] for r in results}), 1, repr(results))
        for rid in (ref["id"], ref2["id"]):
            rws = [rw for rw in self.s.rewards(program=pid) if rw["referral"] == rid]
            self.assertEqual(sorted(rw["to"] for rw in rws), ["referred", "referrer"], repr(rws))


if __name__ == "__main__":
    kithtest.main()
