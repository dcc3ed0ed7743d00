"""Inbound provider events in today's shapes (contract section 12, the (v2) lines, and section 7's
partial refunds).

The Stripe events are built from Stripe's own published example objects (tests/api/fixtures/
stripe, copied from stripe/openapi's fixtures3.json under its MIT licence): a test loads the
`invoice`, `charge` or `checkout.session` example, sets only the fields it needs and wraps it in
the example `event` envelope, so every field name and its nesting is what Stripe sends. Shopify
publishes no such file; its payloads follow the order and refund objects of Shopify's webhook
reference (the fields kith reads, and the ones around them a real order carries).
"""

import copy
import datetime as dt
import json
import os
import secrets

import kithtest
from kithtest import uid
from test_providers import HOLD_DAYS, ProviderCase, shopify_hmac

DAY = 86400
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "stripe")
_loaded = {}


def stripe_example(name):
    """A fresh copy of Stripe's example object `name` (invoice, charge, checkout.session, event)."""
    if name not in _loaded:
        with open(os.path.join(FIXTURES, name + ".json")) as f:
            _loaded[name] = json.load(f)
    return copy.deepcopy(_loaded[name])


def hexid(prefix):
    return prefix + secrets.token_hex(12)


class V2Case(ProviderCase):
    # ---- Stripe objects, from the examples ----------------------------------------------------------
    def envelope(self, type, obj, created=None, previous=None):
        ev = stripe_example("event")
        ev.update({"id": hexid("evt_"), "type": type,
                   "created": created if created is not None else self.now() - 30,
                   "data": {"object": obj}})
        if previous is not None:
            ev["data"]["previous_attributes"] = previous
        return ev

    def session(self, amount=12000, **fields):
        """A paid checkout.session in payment mode, with its own payment intent."""
        o = stripe_example("checkout.session")
        o.update({"id": hexid("cs_test_"), "status": "complete", "payment_status": "paid",
                  "amount_subtotal": amount, "amount_total": amount, "currency": "usd",
                  "payment_intent": hexid("pi_"), "url": None})
        o.update(fields)
        return o

    def invoice(self, amount=4900, ext=None, **fields):
        """A paid invoice of a subscription, in the current shape (its metadata under parent)."""
        o = stripe_example("invoice")
        inv = hexid("in_")
        o.update({"id": inv, "status": "paid", "amount_due": amount, "amount_paid": amount,
                  "amount_remaining": 0, "amount_overpaid": 0, "subtotal": amount,
                  "total": amount, "currency": "usd", "billing_reason": "subscription_create",
                  "customer": hexid("cus_")})
        o["status_transitions"]["paid_at"] = self.now() - 30
        o["lines"]["data"][0]["invoice"] = inv
        o["parent"] = {"quote_details": None, "type": "subscription_details",
                       "subscription_details": {
                           "metadata": {"kith_external_id": ext} if ext else {},
                           "subscription": hexid("sub_")}}
        o.update(fields)
        return o

    def charge(self, amount=12000, refunded=12000, **fields):
        """A charge (partly) refunded: amount_refunded is the charge's running total."""
        o = stripe_example("charge")
        o.update({"id": hexid("ch_"), "amount": amount, "amount_captured": amount,
                  "captured": True, "amount_refunded": refunded,
                  "refunded": refunded >= amount, "currency": "usd",
                  "payment_intent": hexid("pi_")})
        o.update(fields)
        return o

    def refund_event(self, charge, previous=0, created=None):
        return self.envelope("charge.refunded", charge, created,
                             previous={"amount_refunded": previous, "refunded": False})

    # ---- Shopify payloads ---------------------------------------------------------------------------
    def shop_order(self, email, total="120.00", customer=None, ext=None, order_id=None):
        oid = order_id or 820982911946154508 + secrets.randbelow(10 ** 9)
        o = {"id": oid, "admin_graphql_api_id": "gid://shopify/Order/%d" % oid,
             "name": "#%d" % (1000 + secrets.randbelow(9000)), "email": email,
             "contact_email": email, "created_at": "2026-11-22T10:00:00-05:00",
             "currency": "USD", "presentment_currency": "USD", "financial_status": "paid",
             "total_price": total, "subtotal_price": total, "current_total_price": total,
             "cancelled_at": None, "cancel_reason": None, "discount_codes": [],
             "note_attributes": [], "customer": customer}
        if ext:
            o["note_attributes"] = [{"name": "kith_external_id", "value": ext}]
        return o

    def shop_refund(self, order_id, amount):
        return {"id": 509562969 + secrets.randbelow(10 ** 6), "order_id": order_id,
                "created_at": "2026-11-23T10:00:00-05:00", "note": None, "restock": False,
                "refund_line_items": [],
                "transactions": [{"id": 389404469 + secrets.randbelow(10 ** 6),
                                  "order_id": order_id, "kind": "refund", "gateway": "bogus",
                                  "status": "success", "amount": amount, "currency": "USD"}]}

    def shop_post(self, prog_id, topic, payload, headers):
        """Posts payload with exactly the headers given (the HMAC header named by the caller)."""
        raw = json.dumps(payload).encode()
        h = {}
        for name, value in headers.items():
            h[name] = shopify_hmac(self.shopify_secret, raw) if value is None else value
        return self.s.post("/v1/integrations/shopify/" + prog_id, raw_body=raw, headers=h,
                           key=None)

    # ---- checks -----------------------------------------------------------------------------------
    def statuses(self, ref_id):
        return sorted((rw["to"], rw["status"]) for rw in self.s.rewards(program=self.s.referral(ref_id)["program"])
                      if rw["referral"] == ref_id)


class StripeShapesTest(V2Case):
    def test_invoice_paid_metadata_under_parent(self):
        """Item 1: parent.subscription_details.metadata carries kith_external_id."""
        pid = self.program()["id"]
        _, b, ref = self.referred(pid)
        inv = self.invoice(ext=b["external_id"])
        self.assertIsNone(inv["customer_email"])  # the example has none: metadata must find Bob
        body = self.assertApplied(self.stripe(pid, self.envelope("invoice.paid", inv)),
                                  "purchase", b["id"])
        self.assertEqual(body["event"]["amount"], 4900)
        self.assertEqual(body["event"]["currency"], "USD")
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        # the older shape, subscription_details at the top, is still read
        _, b2, ref2 = self.referred(pid)
        old = self.invoice(subscription_details={"metadata": {"kith_external_id": b2["external_id"]}})
        self.assertApplied(self.stripe(pid, self.envelope("invoice.paid", old)), "purchase", b2["id"])
        self.assertEqual(self.s.referral(ref2["id"])["status"], "rewarded")

    def test_async_payment_succeeded_is_a_purchase(self):
        """Item 3: a delayed payment method: completed unpaid, then async_payment_succeeded."""
        pid = self.program()["id"]
        _, b, ref = self.referred(pid)
        cs = self.session(client_reference_id=b["external_id"], payment_status="unpaid")
        self.assertEqual(self.assertIgnored(
            self.stripe(pid, self.envelope("checkout.session.completed", cs))), "unpaid_session")
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        paid = dict(cs, payment_status="paid")
        body = self.assertApplied(
            self.stripe(pid, self.envelope("checkout.session.async_payment_succeeded", paid)),
            "purchase", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        # a failed one is not
        _, b2, ref2 = self.referred(pid)
        failed = self.session(client_reference_id=b2["external_id"], payment_status="unpaid")
        self.assertIgnored(self.stripe(pid, self.envelope("checkout.session.async_payment_failed",
                                                          failed)))
        self.assertEqual(self.s.referral(ref2["id"])["status"], "pending")

    def test_refund_found_through_payment_intent(self):
        """Item 2: the buyer typed another e-mail at checkout; the charge carries only that."""
        pid = self.program(qualification={"hold_days": HOLD_DAYS})["id"]
        _, b, ref = self.referred(pid)
        # the typed address is even someone else's: the payment intent must win over it
        _, other, other_ref = self.referred(pid)
        typed = other["email"]
        cs = self.session(client_reference_id=b["external_id"],
                          customer_details=dict(stripe_example("checkout.session")["customer_details"],
                                                email=typed))
        body = self.assertApplied(self.stripe(pid, self.envelope("checkout.session.completed", cs)),
                                  "purchase", b["id"])
        self.assertEqual(body["referral"]["status"], "qualified")
        ch = self.charge(payment_intent=cs["payment_intent"], receipt_email=typed)
        ch["billing_details"]["email"] = typed
        body = self.assertApplied(self.stripe(pid, self.refund_event(ch)), "refund", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.statuses(ref["id"]), [("referred", "voided"), ("referrer", "voided")])
        self.assertEqual(self.s.referral(other_ref["id"])["status"], "pending")
        self.s.clock_advance((HOLD_DAYS + 1) * DAY)
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")

    def test_refund_found_through_invoice(self):
        """Item 2: a subscription's first payment, refunded; found through the invoice ids."""
        pid = self.program(qualification={"hold_days": HOLD_DAYS})["id"]
        # a subscription checkout: no payment intent on the session, its invoice instead
        _, b, ref = self.referred(pid)
        inv = hexid("in_")
        cs = self.session(client_reference_id=b["external_id"], mode="subscription",
                          payment_intent=None, invoice=inv, subscription=hexid("sub_"))
        self.assertApplied(self.stripe(pid, self.envelope("checkout.session.completed", cs)),
                           "purchase", b["id"])
        ch = self.charge(invoice=inv)  # a charge of an API version that still names its invoice
        self.assertApplied(self.stripe(pid, self.refund_event(ch)), "refund", b["id"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "pending")
        # invoice.paid: its payment intent (older shape: a field; current: its payments) is kept
        for shape in ("field", "payments"):
            _, c, cref = self.referred(pid)
            pi = hexid("pi_")
            inv = self.invoice(ext=c["external_id"])
            if shape == "field":
                inv["payment_intent"] = pi
            else:
                inv["payments"] = {"object": "list", "has_more": False, "data": [
                    {"object": "invoice_payment", "id": hexid("inpay_"), "invoice": inv["id"],
                     "is_default": True, "status": "paid", "amount_paid": 4900,
                     "payment": {"type": "payment_intent", "payment_intent": pi}}]}
            body = self.assertApplied(self.stripe(pid, self.envelope("invoice.paid", inv)),
                                      "purchase", c["id"])
            self.assertEqual(body["referral"]["status"], "qualified", shape)
            ch = self.charge(amount=4900, refunded=4900, payment_intent=pi)
            self.assertApplied(self.stripe(pid, self.refund_event(ch)), "refund", c["id"])
            self.assertEqual(self.s.referral(cref["id"])["status"], "pending", shape)
        # a charge no purchase knows, with nothing else to go by: ignored
        self.assertEqual(self.assertIgnored(self.stripe(pid, self.refund_event(self.charge()))),
                         "unknown_person")

    def test_partial_refunds(self):
        """Item 4 (Stripe path): amount_refunded is the charge's running total."""
        s = self.s
        pid = self.program(qualification={"hold_days": HOLD_DAYS, "min_amount": 5000})["id"]
        cases = {}
        for name in ("kept", "voided"):
            _, b, ref = self.referred(pid)
            cs = self.session(client_reference_id=b["external_id"])
            body = self.assertApplied(
                self.stripe(pid, self.envelope("checkout.session.completed", cs)), "purchase", b["id"])
            self.assertEqual(body["referral"]["status"], "qualified")
            cases[name] = (b, ref, cs["payment_intent"], self.charge(payment_intent=cs["payment_intent"]))
        # 3000 of 12000 back: 9000 is still over min_amount
        for name, (b, ref, pi, ch) in cases.items():
            ch.update(amount_refunded=3000, refunded=False)
            body = self.assertApplied(self.stripe(pid, self.refund_event(ch)), "refund", b["id"])
            self.assertEqual(body["event"]["amount"], 3000)
            self.assertEqual(body["referral"]["status"], "qualified", name)
            self.assertEqual(self.statuses(ref["id"]), [("referred", "pending"), ("referrer", "pending")])
        s.clock_advance(DAY)
        # the same charge again: 6000 in all (not 3000 + 6000) leaves 6000, still enough ...
        b, ref, pi, ch = cases["kept"]
        ch.update(amount_refunded=6000)
        body = self.assertApplied(self.stripe(pid, self.refund_event(ch, previous=3000)), "refund", b["id"])
        self.assertEqual(body["event"]["amount"], 6000)
        self.assertEqual(body["referral"]["status"], "qualified")
        # ... 8000 in all leaves 4000, under min_amount: the purchase no longer qualifies
        b, ref, pi, ch = cases["voided"]
        ch.update(amount_refunded=8000)
        body = self.assertApplied(self.stripe(pid, self.refund_event(ch, previous=3000)), "refund", b["id"])
        self.assertEqual(body["referral"]["status"], "pending")
        self.assertEqual(self.statuses(ref["id"]), [("referred", "voided"), ("referrer", "voided")])
        s.clock_advance(HOLD_DAYS * DAY)
        b, ref, _, _ = cases["kept"]
        self.assertEqual(s.referral(ref["id"])["status"], "rewarded")
        self.assertEqual(self.statuses(ref["id"]), [("referred", "issued"), ("referrer", "issued")])
        b, ref, _, _ = cases["voided"]
        self.assertEqual(s.referral(ref["id"])["status"], "pending")
        self.assertEqual(self.statuses(ref["id"]), [("referred", "voided"), ("referrer", "voided")])


class PartialRefundApiTest(V2Case):
    """Item 4 through POST /v1/events: refund amounts add up against the qualifying purchase."""

    def event(self, pid, person, type, **kw):
        r = self.s.event(pid, person["external_id"], type, **kw)
        self.assertStatus(r, 201)
        return r.body

    def test_partial_refunds_with_the_test_clock(self):
        s = self.s
        pid = self.program(qualification={"hold_days": HOLD_DAYS, "min_amount": 5000})["id"]
        _, kept, kref = self.referred(pid)
        _, gone, gref = self.referred(pid)
        for b in (kept, gone):
            self.assertEqual(self.event(pid, b, "purchase", amount=12000)["referral"]["status"],
                             "qualified")
        s.clock_advance(DAY)
        # 7000 back leaves 5000, exactly min_amount: still qualified
        for b in (kept, gone):
            body = self.event(pid, b, "refund", amount=7000, currency="USD")
            self.assertEqual(body["event"]["amount"], 7000)
            self.assertEqual(body["referral"]["status"], "qualified")
            self.assertEqual(body["rewards"], [])
        self.assertEqual(self.statuses(kref["id"]), [("referred", "pending"), ("referrer", "pending")])
        s.clock_advance(DAY)
        # a second partial refund of 1: 4999 left, under min_amount
        body = self.event(pid, gone, "refund", amount=1, currency="USD")
        self.assertEqual(body["referral"]["status"], "pending")
        self.assertEqual(self.statuses(gref["id"]), [("referred", "voided"), ("referrer", "voided")])
        s.clock_advance(HOLD_DAYS * DAY)
        self.assertEqual(s.referral(kref["id"])["status"], "rewarded")
        self.assertEqual(self.statuses(kref["id"]), [("referred", "issued"), ("referrer", "issued")])
        self.assertEqual(s.referral(gref["id"])["status"], "pending")
        self.assertEqual(self.statuses(gref["id"]), [("referred", "voided"), ("referrer", "voided")])
        # a refund after the hold changes nothing, whatever its amount
        self.event(pid, kept, "refund", amount=12000)
        self.assertEqual(s.referral(kref["id"])["status"], "rewarded")

    def test_min_amount_zero_whole_refunds_and_cancels(self):
        s = self.s
        pid = self.program(qualification={"hold_days": HOLD_DAYS})["id"]
        people = {}
        for name in ("partial", "to_zero", "no_amount", "cancel"):
            _, b, ref = self.referred(pid)
            self.event(pid, b, "purchase", amount=12000)
            people[name] = (b, ref)
        # with min_amount 0, a purchase stands until it is refunded to 0
        b, ref = people["partial"]
        self.assertEqual(self.event(pid, b, "refund", amount=11999)["referral"]["status"], "qualified")
        b, ref = people["to_zero"]
        self.assertEqual(self.event(pid, b, "refund", amount=11999)["referral"]["status"], "qualified")
        self.assertEqual(self.event(pid, b, "refund", amount=1)["referral"]["status"], "pending")
        # a refund without an amount, and any cancel, undo the purchase whole
        b, ref = people["no_amount"]
        self.assertEqual(self.event(pid, b, "refund")["referral"]["status"], "pending")
        b, ref = people["cancel"]
        self.assertEqual(self.event(pid, b, "cancel", amount=1)["referral"]["status"], "pending")
        s.clock_advance((HOLD_DAYS + 1) * DAY)
        self.assertEqual(s.referral(people["partial"][1]["id"])["status"], "rewarded")
        for name in ("to_zero", "no_amount", "cancel"):
            self.assertEqual(s.referral(people[name][1]["id"])["status"], "pending", name)

    def test_partial_refund_before_its_purchase(self):
        """Arrival order does not change the outcome of partial refunds either."""
        s = self.s
        pid = self.program(qualification={"hold_days": HOLD_DAYS, "min_amount": 5000})["id"]
        t = s.clock_now()
        bought = kithtest.fmt_time(t - dt.timedelta(hours=3))
        back = kithtest.fmt_time(t - dt.timedelta(hours=2))
        outcomes = []
        for refunded in (3000, 8000):
            for order in ("in_order", "refund_first"):
                _, b, ref = self.referred(pid)
                buy = dict(amount=12000, occurred_at=bought, id=uid("in_"))
                refund = dict(amount=refunded, occurred_at=back, id=uid("re_"))
                seq = [("purchase", buy), ("refund", refund)]
                if order == "refund_first":
                    seq.reverse()
                for type, kw in seq:
                    self.event(pid, b, type, **kw)
                outcomes.append((refunded, order, s.referral(ref["id"])["status"]))
        self.assertEqual(outcomes, [(3000, "in_order", "qualified"), (3000, "refund_first", "qualified"),
                                    (8000, "in_order", "pending"), (8000, "refund_first", "pending")])


class ShopifyShapesTest(V2Case):
    def test_headers_without_prefix_and_in_any_case(self):
        """Item 5: Shopify-Hmac-Sha256, Shopify-Topic, Shopify-Event-Id, Shopify-Shop-Domain."""
        pid = self.program()["id"]
        _, b, ref = self.referred(pid)
        eid = hexid("")
        headers = {"Shopify-Topic": "orders/paid", "Shopify-Hmac-Sha256": None,
                   "Shopify-Event-Id": eid, "Shopify-Shop-Domain": "kith-test.myshopify.com",
                   "Shopify-Api-Version": "2026-10", "Shopify-Webhook-Id": hexid("")}
        order = self.shop_order(uid("o") + "@example.com", ext=b["external_id"])
        first = self.shop_post(pid, "orders/paid", order, headers)
        self.assertApplied(first, "purchase", b["id"])
        self.assertEqual(self.s.referral(ref["id"])["status"], "rewarded")
        # the same event id, lower case and with the prefix: the first answer again
        lower = {"x-shopify-topic": "orders/paid", "x-shopify-hmac-sha256": None,
                 "x-shopify-event-id": eid, "x-shopify-shop-domain": "kith-test.myshopify.com"}
        again = self.shop_post(pid, "orders/paid", order, lower)
        self.assertStatus(again, 200)
        self.assertEqual(again.body, first.body)
        # a wrong HMAC under the short name is refused like under the long one
        bad = dict(headers, **{"Shopify-Hmac-Sha256": shopify_hmac("shpss_wrong", b"{}")})
        self.assertError(self.shop_post(pid, "orders/paid", order, bad), 401, "unauthorized")

    def test_guest_checkout_by_email(self):
        """Item 5: customer null; the order's email finds the person; its refund finds them too."""
        pid = self.program(qualification={"hold_days": HOLD_DAYS})["id"]
        _, b, ref = self.referred(pid, email=uid("guest") + "@example.com")
        order = self.shop_order(b["email"].upper(), customer=None)
        body = self.assertApplied(self.shopify(pid, "orders/paid", order), "purchase", b["id"])
        self.assertEqual(body["event"]["amount"], 12000)
        self.assertEqual(body["referral"]["status"], "qualified")
        body = self.assertApplied(self.shopify(pid, "refunds/create", self.shop_refund(order["id"], "120.00")),
                                  "refund", b["id"])
        self.assertEqual(body["referral"]["status"], "pending")
        # a guest nobody knows, even with a kith code, has no external id to become a participant
        a = self.s.make_participant(pid, first_name="Ann")
        stranger = self.shop_order(uid("stranger") + "@example.com", customer=None)
        stranger["discount_codes"] = [{"code": a["code"], "amount": "10.00", "type": "fixed_amount"}]
        self.assertEqual(self.assertIgnored(self.shopify(pid, "orders/paid", stranger)), "unknown_person")

    def test_partial_refunds(self):
        """Item 4 (Shopify path): each refunds/create is one refund; their amounts add up."""
        pid = self.program(qualification={"hold_days": HOLD_DAYS, "min_amount": 5000})["id"]
        _, b, ref = self.referred(pid)
        order = self.shop_order(uid("o") + "@example.com", ext=b["external_id"])
        self.assertApplied(self.shopify(pid, "orders/paid", order), "purchase", b["id"])
        # 30.00 back leaves 90.00: still qualified; 80.00 more leaves 10.00: not
        body = self.assertApplied(self.shopify(pid, "refunds/create", self.shop_refund(order["id"], "30.00")),
                                  "refund", b["id"])
        self.assertEqual(body["event"]["amount"], 3000)
        self.assertEqual(body["referral"]["status"], "qualified")
        body = self.assertApplied(self.shopify(pid, "refunds/create", self.shop_refund(order["id"], "80.00")),
                                  "refund", b["id"])
        self.assertEqual(body["event"]["amount"], 8000)
        self.assertEqual(body["referral"]["status"], "pending")
        self.assertEqual(self.statuses(ref["id"]), [("referred", "voided"), ("referrer", "voided")])

    def test_orders_cancelled_is_a_cancel(self):
        """Item 5: orders/cancelled undoes the purchase whole during the hold."""
        s = self.s
        pid = self.program(qualification={"hold_days": HOLD_DAYS})["id"]
        _, b, ref = self.referred(pid)
        _, g, gref = self.referred(pid)
        orders = {}
        for who, customer in ((b, {"id": 7000000 + secrets.randbelow(10 ** 6), "first_name": "Bob"}),
                              (g, None)):
            o = self.shop_order(uid("o") + "@example.com" if customer else who["email"],
                                customer=customer, ext=who["external_id"] if customer else None)
            body = self.assertApplied(self.shopify(pid, "orders/paid", o), "purchase", who["id"])
            self.assertEqual(body["referral"]["status"], "qualified")
            orders[who["id"]] = o
        for who, rid in ((b, ref["id"]), (g, gref["id"])):
            o = dict(orders[who["id"]], cancelled_at="2026-11-23T10:00:00-05:00",
                     cancel_reason="customer", financial_status="refunded")
            body = self.assertApplied(self.shopify(pid, "orders/cancelled", o), "cancel", who["id"])
            self.assertIsNone(body["event"]["amount"])
            self.assertEqual(body["referral"]["status"], "pending")
            self.assertEqual(self.statuses(rid), [("referred", "voided"), ("referrer", "voided")])
        s.clock_advance((HOLD_DAYS + 1) * DAY)
        self.assertEqual(s.referral(ref["id"])["status"], "pending")
        # a cancelled order kith never saw, of nobody it knows: ignored
        self.assertIgnored(self.shopify(pid, "orders/cancelled",
                                        self.shop_order(uid("nobody") + "@example.com")))


if __name__ == "__main__":
    kithtest.main()
