"""Reward fulfilment (contract section 25): program settings, Stripe balance credits, coupons
with promotion codes and subscription trials, the payout queue in PayPal's CSV layout, claims,
failures that stay visible and are retried, and a kill -9 in the middle of a Stripe call.

kith is pointed (KITH_STRIPE_API_BASE) at stripe_standin.StripeStandIn, a local stand-in for
Stripe's API that answers with Stripe's own example objects (tests/api/fixtures/stripe) and
refuses what Stripe refuses: a missing or unknown key, an unknown parameter, a reused
Idempotency-Key with other parameters. It records every request, so each test checks the exact
path, form fields, Idempotency-Key and Authorization kith sent, and it counts the executions
per Idempotency-Key the way Stripe does (a replay executes nothing), which is what "one effect"
means below. Retries run on the test clock; nothing sleeps to show that a call did not happen: a
fulfilment waiting for a later retry has its next attempt in the frozen clock's future, and one
that is done or failed is claimed by nobody.
"""

import calendar
import datetime as dt
import re
import secrets
import urllib.parse

import kithtest
from kithtest import KithTestCase, Server, uid
from stripe_standin import StripeStandIn
from test_webhooks import ALLOW_ENV, Receiver

KINDS = ["credit", "cash", "discount", "free_month", "subscription_extension", "gift",
         "recognition", "access", "experience", "donation"]
FULFILMENT_KEYS = ["method", "status", "attempts", "external_id", "error"]
BALANCE = "POST /v1/customers/[^/]+/balance_transactions"
CREDIT = {"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD"}
MONTH = {"to": "referred", "kind": "free_month", "description": "Your first month on us"}
WAIT = 30.0  # real seconds a call chain may take (ASan builds are slow)


def add_months(ts, months):
    d = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    day = min(d.day, calendar.monthrange(y, m)[1])
    return calendar.timegm(d.replace(year=y, month=m, day=day).timetuple())


class FulfilmentCase(KithTestCase):
    """A kith pointed at its own Stripe stand-in, with a webhook receiver for the events."""

    @classmethod
    def setUpClass(cls):
        cls.key = "sk_test_" + secrets.token_hex(16)
        cls.stripe = StripeStandIn([cls.key])
        cls.rcv = Receiver()
        env = dict(ALLOW_ENV)
        env["KITH_STRIPE_API_BASE"] = cls.stripe.url + "/"  # a trailing slash is fine
        cls.server_kwargs = {"test_clock": True, "env": env}
        super().setUpClass()
        cls.hook = cls.rcv.new_path()
        r = cls.server.post("/v1/webhook_endpoints", {
            "url": cls.rcv.url(cls.hook),
            "events": ["reward.fulfilled", "reward.fulfilment_failed", "reward.claimed"]})
        assert r.status == 201, r
        cls.rcv.secrets[cls.hook] = r.body["secret"]

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.stripe.close()
        cls.rcv.close()

    def tearDown(self):
        self.stripe.reset()  # a fault a test did not use must not meet the next one

    # ---- set-up helpers -----------------------------------------------------------------------
    def program(self, rewards, fulfilment, **kw):
        body = self.s.program_body(rewards=rewards, fulfilment=fulfilment,
                                   stripe_api_key=kw.pop("stripe_api_key", self.key), **kw)
        r = self.s.post("/v1/programs", body)
        self.assertStatus(r, 201)
        return r.body

    def issue(self, prog, referrer=None, referred_fields=None, email=None):
        """A referral that qualifies at once: {side: reward} as the event answered."""
        if referrer is None:
            referrer = self.s.make_participant(prog["id"], "Jane", email=email)
        r = self.s.signup(prog["id"], ref=referrer["code"],
                          email="friend-%s@example.com" % secrets.token_hex(3))
        self.assertStatus(r, 201)
        friend = r.body["participant"]
        if referred_fields:
            self.assertStatus(self.s.patch("/v1/participants/" + friend["id"], referred_fields),
                              200)
        r = self.s.event(prog["id"], friend["external_id"])
        self.assertStatus(r, 201)
        out = {rw["to"]: rw for rw in r.body["rewards"]}
        out["friend"] = friend
        out["referrer_p"] = referrer
        return out

    def reward(self, rid):
        r = self.s.get("/v1/rewards/" + rid)
        self.assertStatus(r, 200)
        self.assertKeys(r.body["fulfilment"], FULFILMENT_KEYS, "fulfilment")
        return r.body

    def settled(self, rid, statuses=("done", "failed")):
        """Waits until the reward's fulfilment is done or failed; returns the reward."""
        return kithtest.poll(lambda: (lambda rw: rw if rw["fulfilment"]["status"] in statuses
                                      else None)(self.reward(rid)),
                             WAIT, "reward %s's fulfilment to settle" % rid)

    def waiting_retry(self, rid, attempts):
        """Waits until the fulfilment's call number `attempts` failed and a retry is scheduled."""
        def ready():
            rw = self.reward(rid)
            f = rw["fulfilment"]
            return rw if f["attempts"] == attempts and f["next_attempt_at"] else None
        return kithtest.poll(ready, WAIT, "a retry scheduled after call %d" % attempts)

    def calls(self, rid):
        """The stand-in's requests made for reward rid (its metadata or its Idempotency-Key)."""
        return [q for q in self.stripe.got()
                if q.form.get("metadata[kith_reward]") == rid
                or (q.idem_key or "").startswith("kith-%s-" % rid)]

    def assertCall(self, q, route, form=None, key=None):
        self.assertEqual(q.route, route, repr(q))
        self.assertEqual(q.headers.get("authorization"), "Bearer " + self.key, repr(q))
        self.assertEqual(q.headers.get("stripe-version"), "2025-09-30.clover", repr(q))
        if form is not None:
            self.assertEqual(q.form, form, repr(q))
            self.assertTrue(q.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"), repr(q.headers))
        self.assertEqual(q.idem_key, key, repr(q))

    def hooks(self, type, rid):
        return [d for d in self.rcv.got(self.hook, type=type)
                if d.json["data"]["id"] == rid]

    def wait_hook(self, type, rid):
        got = kithtest.poll(lambda: self.hooks(type, rid), WAIT, "%s for %s" % (type, rid))
        self.assertIsNone(got[0].sig_error)
        return got[0].json["data"]


class SettingsTest(FulfilmentCase):
    def test_defaults_and_hidden_key(self):
        p = self.s.make_program()
        self.assertEqual(p["fulfilment"], {k: "none" for k in KINDS})
        self.assertNotIn("stripe_api_key", p)
        self.assertEqual(p["claim_form"], {})
        prog = self.program([CREDIT, MONTH], {"credit": "stripe_balance"})
        self.assertEqual(prog["fulfilment"]["credit"], "stripe_balance")
        self.assertEqual(prog["fulfilment"]["free_month"], "none")
        shown = "..." + self.key[-4:]
        self.assertEqual(prog["stripe_api_key"], shown)
        self.assertEqual(self.s.get("/v1/programs/" + prog["id"]).body["stripe_api_key"], shown)
        listed = [x for x in self.s.list_all("/v1/programs") if x["id"] == prog["id"]]
        self.assertEqual(listed[0]["stripe_api_key"], shown)
        # a PATCH changes one kind and keeps the others
        r = self.s.patch("/v1/programs/" + prog["id"], {"fulfilment": {"gift": "claim"}})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["fulfilment"]["gift"], "claim")
        self.assertEqual(r.body["fulfilment"]["credit"], "stripe_balance")
        self.assertEqual(r.body["stripe_api_key"], shown)
        # the key cannot go while a method needs it
        r = self.s.patch("/v1/programs/" + prog["id"], {"stripe_api_key": None})
        self.assertError(r, 400, "invalid_param", "stripe_api_key")
        self.assertNotIn(self.key, self.s.log_text())

    def test_refused_settings(self):
        def refused(param, **kw):
            body = self.s.program_body(**kw)
            self.assertError(self.s.post("/v1/programs", body), 400, "invalid_param", param)
        refused("stripe_api_key", fulfilment={"credit": "stripe_balance"})
        refused("stripe_api_key", stripe_api_key="pk_live_abcdefgh")
        refused("stripe_api_key", stripe_api_key="sk_live_ abcdefg")
        refused("fulfilment.credit", fulfilment={"credit": "paypal"})
        refused("fulfilment.toaster", fulfilment={"toaster": "claim"})
        refused("fulfilment.gift", fulfilment={"gift": "stripe_balance"}, stripe_api_key=self.key)
        refused("fulfilment.credit", fulfilment={"credit": "stripe_trial"}, stripe_api_key=self.key)
        refused("fulfilment", fulfilment=["credit"])
        refused("rewards[0].months", rewards=[dict(CREDIT, months=2)])
        refused("rewards[1].months", rewards=[CREDIT, dict(MONTH, months=37)])
        refused("rewards[0].percent_off", rewards=[dict(CREDIT, percent_off=10)])
        refused("claim_form.gift[0].choices",
                claim_form={"gift": [{"name": "size", "type": "choice"}]})
        refused("claim_form.gift[0].type", claim_form={"gift": [{"name": "x", "type": "date"}]})
        refused("claim_form.gift[1]", claim_form={"gift": [{"name": "x", "type": "text"},
                                                           {"name": "x", "type": "text"}]})
        refused("claim_form.toaster", claim_form={"toaster": []})

    def test_terms_and_forms_read_back(self):
        p = self.s.make_program(
            rewards=[dict(CREDIT, kind="discount", percent_off=20), dict(MONTH, months=3)],
            claim_form={"gift": [{"name": "size", "type": "choice", "choices": ["S", "M"]}]})
        self.assertEqual(p["rewards"][0]["percent_off"], 20)
        self.assertEqual(p["rewards"][1]["months"], 3)
        self.assertEqual(p["claim_form"], {"gift": [
            {"name": "size", "type": "choice", "label": "size", "required": False,
             "choices": ["S", "M"]}]})

    def test_participant_stripe_ids(self):
        p = self.s.make_program()
        who = self.s.make_participant(p["id"], stripe_customer_id="cus_A1b2",
                                      stripe_subscription_id="sub_9")
        self.assertEqual(who["stripe_customer_id"], "cus_A1b2")
        self.assertEqual(who["stripe_subscription_id"], "sub_9")
        r = self.s.patch("/v1/participants/" + who["id"], {"stripe_customer_id": None})
        self.assertStatus(r, 200)
        self.assertIsNone(r.body["stripe_customer_id"])
        self.assertEqual(r.body["stripe_subscription_id"], "sub_9")
        for bad in ("cus_../x", "sub_1", "cus_", "cus_a b"):
            r = self.s.patch("/v1/participants/" + who["id"], {"stripe_customer_id": bad})
            self.assertError(r, 400, "invalid_param", "stripe_customer_id")
        self.assertIsNone(self.s.participant(who["id"])["stripe_customer_id"])


class BalanceTest(FulfilmentCase):
    def test_credit_on_the_customer_given(self):
        prog = self.program([CREDIT, MONTH], {"credit": "stripe_balance"})
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        got = self.issue(prog, referrer=jane)
        rid = got["referrer"]["id"]
        f = got["referrer"]["fulfilment"]
        self.assertEqual((f["method"], f["status"], f["attempts"], f["external_id"], f["error"]),
                         ("stripe_balance", "pending", 0, None, None))
        rw = self.settled(rid)
        calls = self.calls(rid)
        self.assertEqual(len(calls), 1, calls)
        self.assertCall(calls[0], "POST /v1/customers/%s/balance_transactions" % cus,
                        {"amount": "-2500", "currency": "usd", "description": "Referral reward",
                         "metadata[kith_reward]": rid}, "kith-%s-1" % rid)
        txn = self.stripe.balance[cus][0]
        self.assertEqual(self.stripe.effects["kith-%s-1" % rid], 1)
        self.assertEqual(self.stripe.customers[cus]["balance"], -2500)
        f = rw["fulfilment"]
        self.assertEqual(f, {"method": "stripe_balance", "status": "done", "attempts": 1,
                             "external_id": txn["id"], "error": None, "code": None,
                             "next_attempt_at": None, "completed_at": f["completed_at"]})
        kithtest.parse_time(f["completed_at"])
        self.assertEqual(rw["status"], "issued")  # credited, not used yet
        data = self.wait_hook("reward.fulfilled", rid)
        self.assertEqual(data["fulfilment"]["external_id"], txn["id"])
        # the other side's kind is `none`: kith only records it
        month = self.reward(got["referred"]["id"])["fulfilment"]
        self.assertEqual((month["method"], month["status"], month["attempts"]),
                         ("none", "pending", 0))
        self.assertNotIn(self.key, self.s.log_text())

    def test_customer_found_by_search(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        jane = self.s.make_participant(prog["id"], "Jane", external_id="u'42\\x-" + uid("e"))
        cus = self.stripe.add_customer(external_id=jane["external_id"])
        rid = self.issue(prog, referrer=jane)["referrer"]["id"]
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        esc = jane["external_id"].replace("\\", "\\\\").replace("'", "\\'")
        search = [q for q in self.stripe.got("GET /v1/customers/search")
                  if esc in q.query.get("query", "")]
        self.assertEqual(len(search), 1)
        self.assertCall(search[0], "GET /v1/customers/search")
        self.assertEqual(search[0].query, {"query": "metadata['kith_external_id']:'%s'" % esc})
        self.assertEqual(rw["fulfilment"]["attempts"], 2)
        calls = self.calls(rid)
        self.assertCall(calls[-1], "POST /v1/customers/%s/balance_transactions" % cus,
                        key="kith-%s-1" % rid)

    def test_no_customer_fails_then_retry_after_the_fix(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        got = self.issue(prog)
        rid, jane = got["referrer"]["id"], got["referrer_p"]
        rw = self.settled(rid)
        f = rw["fulfilment"]
        self.assertEqual((f["status"], f["attempts"]), ("failed", 1))
        self.assertIn("stripe_customer_id", f["error"])
        self.assertEqual(self.wait_hook("reward.fulfilment_failed", rid)["fulfilment"]["error"],
                         f["error"])
        cus = self.stripe.add_customer()
        self.assertStatus(self.s.patch("/v1/participants/" + jane["id"],
                                       {"stripe_customer_id": cus}), 200)
        r = self.s.post("/v1/rewards/%s/fulfilment/retry" % rid)
        self.assertStatus(r, 200)
        self.assertEqual((r.body["fulfilment"]["status"], r.body["fulfilment"]["error"]),
                         ("pending", None))
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        # nothing had reached Stripe: no lookup, and the reward's first key
        posts = [q for q in self.calls(rid) if q.method == "POST"]
        self.assertEqual([q.idem_key for q in posts], ["kith-%s-1" % rid])
        self.assertEqual(self.stripe.got("GET /v1/customers/%s/balance_transactions" % cus), [])
        self.assertError(self.s.post("/v1/rewards/%s/fulfilment/retry" % rid), 409,
                         "invalid_state")

    def test_5xx_then_success_one_effect(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        self.stripe.fail(BALANCE, 503)
        got = self.issue(prog, referrer=jane)
        rid = got["referrer"]["id"]
        rw = self.waiting_retry(rid, 1)
        f = rw["fulfilment"]
        self.assertEqual(f["status"], "pending")
        self.assertEqual(f["error"], "Stripe 503: Stripe is having a moment")
        issued = kithtest.parse_time(got["referrer"]["issued_at"])
        self.assertEqual(kithtest.parse_time(f["next_attempt_at"]),
                         issued + dt.timedelta(seconds=5))  # the webhook schedule's first retry
        self.assertEqual(len(self.calls(rid)), 1)
        self.s.clock_advance(5)
        rw = self.settled(rid)
        self.assertEqual((rw["fulfilment"]["status"], rw["fulfilment"]["attempts"],
                          rw["fulfilment"]["error"]), ("done", 2, None))
        a, b = self.calls(rid)
        self.assertEqual((a.status, b.status), (503, 200))
        self.assertEqual((a.idem_key, a.form), (b.idem_key, b.form))
        self.assertEqual(self.stripe.effects["kith-%s-1" % rid], 1)
        self.assertEqual(self.stripe.customers[cus]["balance"], -2500)

    def test_lost_connection_and_429_keep_the_key(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        self.stripe.fail(BALANCE, 0, drop=True)
        self.stripe.fail(BALANCE, 429, message="Too many requests", code="rate_limit",
                         headers={"Retry-After": "60"})
        rid = self.issue(prog, referrer=jane)["referrer"]["id"]
        rw = self.waiting_retry(rid, 1)
        self.assertEqual(rw["fulfilment"]["error"], "no answer from Stripe (connection_lost)")
        self.s.clock_advance(5)
        rw = self.waiting_retry(rid, 2)
        self.assertEqual(rw["fulfilment"]["error"], "Stripe 429 rate_limit: Too many requests")
        due = kithtest.parse_time(rw["fulfilment"]["next_attempt_at"]) - self.s.clock_now()
        self.assertTrue(dt.timedelta(seconds=270) <= due <= dt.timedelta(seconds=330), due)
        self.s.clock_advance(330)
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        keys = {q.idem_key for q in self.calls(rid)}
        self.assertEqual(keys, {"kith-%s-1" % rid})
        self.assertEqual(len(self.calls(rid)), 3)
        self.assertEqual(self.stripe.effects["kith-%s-1" % rid], 1)

    def test_4xx_visible_then_retry_looks_before_a_new_key(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        cus = "cus_" + secrets.token_hex(6)  # not on Stripe (yet)
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        rid = self.issue(prog, referrer=jane)["referrer"]["id"]
        rw = self.settled(rid)
        f = rw["fulfilment"]
        self.assertEqual((f["status"], f["attempts"], f["external_id"]), ("failed", 1, None))
        self.assertEqual(f["error"], "Stripe 404 resource_missing: No such customer: '%s'" % cus)
        self.wait_hook("reward.fulfilment_failed", rid)
        self.stripe.add_customer(cid=cus)
        r = self.s.post("/v1/rewards/%s/fulfilment/retry" % rid)
        self.assertStatus(r, 200)
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        calls = self.calls(rid) + [q for q in self.stripe.got(
            "GET /v1/customers/%s/balance_transactions" % cus)]
        calls.sort(key=self.stripe.got().index)
        self.assertEqual([(q.route, q.idem_key) for q in calls], [
            ("POST /v1/customers/%s/balance_transactions" % cus, "kith-%s-1" % rid),
            ("GET /v1/customers/%s/balance_transactions" % cus, None),
            ("POST /v1/customers/%s/balance_transactions" % cus, "kith-%s-2" % rid)])
        self.assertEqual(calls[1].query, {"limit": "100"})
        self.assertEqual(rw["fulfilment"]["attempts"], 3)
        self.assertEqual(self.stripe.effects.get("kith-%s-1" % rid), None)
        self.assertEqual(self.stripe.effects["kith-%s-2" % rid], 1)

    def test_manual_retry_finds_what_stripe_already_did(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        # Stripe ran the request, then failed, saved that 500 and said not to retry it
        self.stripe.fail(BALANCE, 500, saved=True, headers={"Stripe-Should-Retry": "false"})
        rid = self.issue(prog, referrer=jane)["referrer"]["id"]
        rw = self.settled(rid)
        self.assertEqual((rw["fulfilment"]["status"], rw["fulfilment"]["attempts"]),
                         ("failed", 1))
        self.assertEqual(rw["fulfilment"]["error"], "Stripe 500: Stripe is having a moment")
        self.assertEqual(len(self.stripe.balance[cus]), 1)  # the credit exists all the same
        self.assertStatus(self.s.post("/v1/rewards/%s/fulfilment/retry" % rid), 200)
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        self.assertEqual(rw["fulfilment"]["external_id"], self.stripe.balance[cus][0]["id"])
        self.assertEqual(rw["fulfilment"]["attempts"], 2)
        posts = [q for q in self.calls(rid) if q.method == "POST"]
        self.assertEqual(len(posts), 1, posts)  # found it: no second credit
        self.assertEqual(len(self.stripe.balance[cus]), 1)
        self.assertEqual(self.stripe.customers[cus]["balance"], -2500)

    def test_a_key_stripe_may_have_forgotten_is_not_resent(self):
        # Stripe keeps a key 24 hours; the schedule's eighth call comes after 27: look first.
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        self.stripe.fail(BALANCE, 503, times=7)
        got = self.issue(prog, referrer=jane)
        rid = got["referrer"]["id"]
        first = kithtest.parse_time(got["referrer"]["issued_at"])
        for n in range(1, 8):
            rw = self.waiting_retry(rid, n)
            # next_attempt_at is shown in whole seconds: the retry is due within the next one
            self.s.clock_set(kithtest.parse_time(rw["fulfilment"]["next_attempt_at"]) +
                             dt.timedelta(seconds=1))
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        self.assertGreater(self.s.clock_now() - first, dt.timedelta(hours=24))
        calls = self.calls(rid) + self.stripe.got("GET /v1/customers/%s/balance_transactions" % cus)
        calls.sort(key=self.stripe.got().index)
        self.assertEqual([(q.method, q.idem_key) for q in calls],
                         [("POST", "kith-%s-1" % rid)] * 7 + [("GET", None),
                                                               ("POST", "kith-%s-2" % rid)])
        self.assertEqual(self.stripe.effects["kith-%s-2" % rid], 1)
        self.assertEqual(self.stripe.customers[cus]["balance"], -2500)
        self.assertEqual(rw["fulfilment"]["attempts"], 9)

    def test_unknown_api_key_is_visible(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"},
                            stripe_api_key="sk_test_revoked0" + secrets.token_hex(4))
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        rid = self.issue(prog, referrer=jane)["referrer"]["id"]
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["error"], "Stripe 401: Invalid API Key provided")
        self.assertEqual(self.stripe.customers[cus]["balance"], 0)

    def test_retry_refusals(self):
        prog = self.program([CREDIT, MONTH], {"credit": "stripe_balance"})
        got = self.issue(prog, referrer=self.s.make_participant(
            prog["id"], "Jane", stripe_customer_id=self.stripe.add_customer()))
        self.settled(got["referrer"]["id"])
        for rid in (got["referrer"]["id"], got["referred"]["id"]):
            self.assertError(self.s.post("/v1/rewards/%s/fulfilment/retry" % rid), 409,
                             "invalid_state")
        self.assertError(self.s.post("/v1/rewards/rwd_nope/fulfilment/retry"), 404, "not_found")
        self.assertError(self.s.post("/v1/rewards/%s/fulfilment/retry" % got["referrer"]["id"],
                                     {"now": True}), 400, "invalid_param", "now")

    def test_prometheus(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        jane = self.s.make_participant(prog["id"], "Jane",
                                       stripe_customer_id=self.stripe.add_customer())
        before = self.s.prom_value("kith_fulfilments_total", outcome="done")
        self.settled(self.issue(prog, referrer=jane)["referrer"]["id"])
        self.assertEqual(self.s.prom_value("kith_fulfilments_total", outcome="done"), before + 1)
        self.assertGreaterEqual(self.s.prom_value("kith_stripe_calls_total", outcome="ok"), 1)
        self.assertIsNotNone(self.s.prom_value("kith_stripe_calls_total", outcome="failed"))
        self.assertIsNotNone(self.s.prom_value("kith_fulfilments_total", outcome="failed"))
        self.assertIsNotNone(self.s.prom_value("kith_stripe_calls_busy"))


class KillTest(FulfilmentCase):
    def test_kill9_mid_call_makes_one_effect(self):
        prog = self.program([CREDIT], {"credit": "stripe_balance"})
        cus = self.stripe.add_customer()
        jane = self.s.make_participant(prog["id"], "Jane", stripe_customer_id=cus)
        self.stripe.hold(BALANCE)
        rid = self.issue(prog, referrer=jane)["referrer"]["id"]
        # Stripe has the request and has acted on it; kith dies before hearing the answer
        self.stripe.wait_for(lambda: self.stripe.held, what="the held call")
        first = self.stripe.held[0]
        before = self.s.clock_now()
        self.s.kill9()
        self.stripe.release_all()
        self.s.restart()
        rw = self.reward(rid)
        self.assertEqual((rw["fulfilment"]["status"], rw["fulfilment"]["attempts"]),
                         ("pending", 1))
        # the dead process's claim runs out (60 s) and the call is made again, same key
        self.s.clock_set(max(before, self.s.clock_now()) + dt.timedelta(seconds=61))
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        calls = self.calls(rid)
        self.assertEqual(len(calls), 2, calls)
        self.assertEqual([q.idem_key for q in calls], ["kith-%s-1" % rid] * 2)
        self.assertEqual(calls[0].form, calls[1].form)
        self.assertIs(calls[0], first)
        self.assertTrue(calls[1].replayed, calls[1])
        self.assertEqual(self.stripe.effects["kith-%s-1" % rid], 1)
        self.assertEqual(len(self.stripe.balance[cus]), 1)
        self.assertEqual(rw["fulfilment"]["external_id"], self.stripe.balance[cus][0]["id"])
        self.assertEqual(rw["fulfilment"]["attempts"], 2)


class CouponTest(FulfilmentCase):
    def test_coupon_and_code_shown_to_the_person(self):
        discount = {"to": "referred", "kind": "discount", "amount": 1500, "currency": "EUR"}
        prog = self.program([CREDIT, discount], {"discount": "stripe_coupon"})
        self.stripe.fail("POST /v1/promotion_codes", 502)  # the code's first try fails
        got = self.issue(prog)
        rid, friend = got["referred"]["id"], got["friend"]
        rw = self.waiting_retry(rid, 2)
        self.s.clock_advance(5)
        rw = self.settled(rid)
        f = rw["fulfilment"]
        self.assertEqual((f["status"], f["attempts"], f["error"]), ("done", 3, None))
        calls = self.calls(rid)
        self.assertEqual(len(calls), 3, calls)
        coupon = self.stripe.coupons[[c["metadata"].get("kith_reward") for c in
                                      self.stripe.coupons].index(rid)]
        self.assertCall(calls[0], "POST /v1/coupons",
                        {"duration": "once", "amount_off": "1500", "currency": "eur",
                         "max_redemptions": "1", "name": "Referral reward",
                         "metadata[kith_reward]": rid}, "kith-%s-1" % rid)
        code = calls[1].form.get("code", "")
        for q in calls[1:]:
            self.assertCall(q, "POST /v1/promotion_codes",
                            {"promotion[type]": "coupon", "promotion[coupon]": coupon["id"],
                             "code": code, "max_redemptions": "1", "metadata[kith_reward]": rid},
                            "kith-%s-1-code" % rid)
        prefix = re.sub(r"[^A-Z0-9]", "", friend["code"])[:6]
        self.assertRegex(code, r"^%s[2-9A-HJ-NP-Z]{8}$" % prefix)
        promo = [x for x in self.stripe.promotion_codes if x["metadata"]["kith_reward"] == rid][0]
        self.assertEqual((f["code"], f["external_id"]), (code, promo["id"]))
        self.assertEqual(promo["code"], code)
        self.assertEqual(self.stripe.effects["kith-%s-1" % rid], 1)
        self.assertEqual(self.stripe.effects["kith-%s-1-code" % rid], 1)
        # the person sees the code in their rewards and in their own data
        mine = self.s.rewards(participant=friend["id"])
        self.assertEqual([x["fulfilment"]["code"] for x in mine], [code])
        link = self.s.post("/v1/participants/%s/hub_link" % friend["id"], {"expires_in_days": 7})
        hub = {"Authorization": "Hub " + link.body["url"].rsplit("/p/", 1)[1]}
        shown = self.s.get("/v1/hub/me", headers=hub, key=None).body["rewards"]
        self.assertEqual([x["fulfilment"] for x in shown],
                         [{"method": "stripe_coupon", "status": "done", "code": code,
                           "status_text": "your code is ready: use it at checkout"}])
        exp = self.s.get("/v1/participants/%s/export" % friend["id"]).body
        self.assertEqual([x["fulfilment"]["code"] for x in exp["rewards"]], [code])
        self.assertEqual(self.wait_hook("reward.fulfilled", rid)["fulfilment"]["code"], code)

    def test_percent_off(self):
        discount = {"to": "referred", "kind": "discount", "amount": 1000, "currency": "USD",
                    "percent_off": 20}
        prog = self.program([CREDIT, discount], {"discount": "stripe_coupon"})
        rid = self.issue(prog)["referred"]["id"]
        self.assertEqual(self.settled(rid)["fulfilment"]["status"], "done")
        self.assertEqual(self.calls(rid)[0].form,
                         {"duration": "once", "percent_off": "20", "max_redemptions": "1",
                          "name": "Referral reward", "metadata[kith_reward]": rid})


class TrialTest(FulfilmentCase):
    def test_trial_pushed_out_by_months(self):
        months = {"to": "referred", "kind": "free_month", "description": "Two months on us",
                  "months": 2}
        prog = self.program([CREDIT, months], {"free_month": "stripe_trial"})
        now = calendar.timegm(self.s.clock_now().timetuple())
        cus = self.stripe.add_customer()
        sub = self.stripe.add_subscription(cus, period_end=now + 10 * 86400)
        got = self.issue(prog, referred_fields={"stripe_subscription_id": sub})
        rid = got["referred"]["id"]
        rw = self.settled(rid)
        self.assertEqual(rw["fulfilment"]["status"], "done", rw)
        self.assertEqual(rw["fulfilment"]["external_id"], sub)
        calls = [q for q in self.stripe.got() if q.path == "/v1/subscriptions/" + sub]
        self.assertEqual(len(calls), 2, calls)
        self.assertCall(calls[0], "GET /v1/subscriptions/" + sub)
        want = add_months(now + 10 * 86400, 2)
        self.assertCall(calls[1], "POST /v1/subscriptions/" + sub,
                        {"trial_end": str(want), "proration_behavior": "none",
                         "metadata[kith_reward]": rid}, "kith-%s-1" % rid)
        self.assertEqual(self.stripe.subscriptions[sub]["trial_end"], want)
        self.assertEqual(rw["fulfilment"]["attempts"], 2)

    def test_no_subscription_fails(self):
        prog = self.program([CREDIT, MONTH], {"free_month": "stripe_trial"})
        rid = self.issue(prog)["referred"]["id"]
        rw = self.settled(rid)
        self.assertEqual((rw["fulfilment"]["status"], rw["fulfilment"]["attempts"],
                          rw["fulfilment"]["error"]),
                         ("failed", 0, "the participant has no stripe_subscription_id"))
        self.assertEqual(self.calls(rid), [])


class PayoutTest(FulfilmentCase):
    def test_queue_csv_and_mark_paid(self):
        cash = {"to": "referrer", "kind": "cash", "amount": 2550, "currency": "USD"}
        yen = {"to": "referred", "kind": "cash", "amount": 500, "currency": "JPY"}
        prog = self.program([cash, yen], {"cash": "payout"}, name="Wellness, \"Circle\"")
        jane = self.s.make_participant(prog["id"], "Jane", email="jane@example.com")
        a = self.issue(prog, referrer=jane)
        b = self.issue(prog, referrer=jane)
        paid_yen, voided = a["referred"], b["referred"]
        self.assertEqual(a["referrer"]["fulfilment"]["method"], "payout")
        self.assertEqual(a["referrer"]["fulfilment"]["status"], "pending")
        self.assertStatus(self.s.post("/v1/rewards/%s/void" % voided["id"]), 200)
        self.assertEqual(self.reward(voided["id"])["fulfilment"]["status"], "failed")
        r = self.s.get("/v1/payouts.csv?program=%s&status=pending" % prog["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["content-type"], "text/csv; charset=utf-8")
        self.assertIn("attachment", r.headers.get("content-disposition", ""))
        note = '"Wellness, ""Circle"" referral reward"'
        rows = [
            "jane@example.com,25.50,USD,%s,%s" % (a["referrer"]["id"], note),
            "%s,500,JPY,%s,%s" % (a["friend"]["email"], paid_yen["id"], note),
            "jane@example.com,25.50,USD,%s,%s" % (b["referrer"]["id"], note),
        ]
        self.assertTrue(r.body.endswith("\r\n"), repr(r.body))
        self.assertEqual(sorted(r.body.split("\r\n")[:-1]), sorted(rows))
        self.assertEqual(self.s.get("/v1/payouts.csv?program=%s" % prog["id"]).body, r.body)
        self.assertError(self.s.get("/v1/payouts.csv?program=%s&status=paid" % prog["id"]), 400,
                         "invalid_param", "status")
        self.assertError(self.s.get("/v1/payouts.csv?program=%s&x=1" % prog["id"]), 400,
                         "invalid_param", "x")
        # a batch with one reward that cannot be paid changes nothing
        r = self.s.post("/v1/payouts/mark_paid", {"rewards": [a["referrer"]["id"], voided["id"]]})
        self.assertError(r, 409, "invalid_state", "rewards")
        self.assertEqual(self.reward(a["referrer"]["id"])["status"], "issued")
        r = self.s.post("/v1/payouts/mark_paid", {"rewards": [a["referrer"]["id"], paid_yen["id"]]})
        self.assertStatus(r, 200)
        self.assertEqual(sorted(x["id"] for x in r.body["rewards"]),
                         sorted([a["referrer"]["id"], paid_yen["id"]]))
        for x in r.body["rewards"]:
            self.assertEqual((x["status"], x["fulfilment"]["status"]), ("redeemed", "done"))
            kithtest.parse_time(x["redeemed_at"])
            self.wait_hook("reward.fulfilled", x["id"])
        r = self.s.get("/v1/payouts.csv?program=%s&status=pending" % prog["id"])
        self.assertEqual(r.body, rows[2] + "\r\n")
        r = self.s.get("/v1/payouts.csv?program=%s&status=done" % prog["id"])
        self.assertEqual(sorted(r.body.split("\r\n")), sorted(["", rows[0], rows[1]]))
        # paying again answers the same rewards, unchanged
        r = self.s.post("/v1/payouts/mark_paid", {"rewards": [a["referrer"]["id"]]})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["rewards"][0]["redeemed_at"],
                         self.reward(a["referrer"]["id"])["redeemed_at"])
        self.assertError(self.s.post("/v1/payouts/mark_paid", {"rewards": ["rwd_nope"]}), 404,
                         "not_found")
        self.assertError(self.s.post("/v1/payouts/mark_paid", {"rewards": []}), 400,
                         "invalid_param", "rewards")

    def test_not_a_payout(self):
        prog = self.program([CREDIT, MONTH], {})
        got = self.issue(prog)
        r = self.s.post("/v1/payouts/mark_paid", {"rewards": [got["referrer"]["id"]]})
        self.assertError(r, 409, "invalid_state", "rewards")
        self.assertEqual(self.s.get("/v1/payouts.csv?program=" + prog["id"]).body, "")


class ClaimTest(FulfilmentCase):
    FORM = [{"name": "address", "type": "address", "label": "Where should we send it?",
             "required": True},
            {"name": "size", "type": "choice", "choices": ["S", "M", "L"], "required": True},
            {"name": "note", "type": "text"}]

    def claim_program(self):
        gift = {"to": "referrer", "kind": "gift", "description": "A tote bag"}
        trip = {"to": "referred", "kind": "experience", "description": "A studio visit"}
        return self.program([gift, trip], {"gift": "claim", "experience": "claim"},
                            claim_form={"gift": self.FORM})

    def test_claim_then_delivered(self):
        prog = self.claim_program()
        got = self.issue(prog)
        rid = got["referrer"]["id"]
        f = got["referrer"]["fulfilment"]
        self.assertEqual((f["method"], f["status"], f["claim"]),
                         ("claim", "pending", {"answers": None, "claimed_at": None}))
        r = self.s.get("/v1/rewards/%s/claim" % rid)
        self.assertStatus(r, 200)
        form = [dict(self.FORM[0]), dict(self.FORM[1], label="size"),
                dict(self.FORM[2], label="note", required=False)]
        self.assertEqual(r.body, {"reward": rid, "kind": "gift", "description": "A tote bag",
                                  "form": form, "answers": None, "claimed_at": None,
                                  "status": "open"})
        addr = {"name": "Jane Doe", "line1": "1 High St", "city": "Bristol", "country": "GB"}

        def refused(param, answers):
            self.assertError(self.s.post("/v1/rewards/%s/claim" % rid, {"answers": answers}), 400,
                             "invalid_param", param)
        refused("answers.address", {"size": "M"})
        refused("answers.address.country", {"address": dict(addr, country="uk"), "size": "M"})
        refused("answers.address.line1", {"address": dict(addr, line1=""), "size": "M"})
        refused("answers.size", {"address": addr, "size": "XL"})
        refused("answers.colour", {"address": addr, "size": "M", "colour": "red"})
        refused("answers", [])
        r = self.s.post("/v1/rewards/%s/claim" % rid, {"answers": {"address": addr, "size": "M"}})
        self.assertStatus(r, 200)
        full = dict(addr, line2=None, postal_code=None, state=None)
        self.assertEqual((r.body["status"], r.body["answers"]),
                         ("claimed", {"address": full, "size": "M", "note": None}))
        self.assertEqual(kithtest.parse_time(r.body["claimed_at"]), self.s.clock_now())
        self.assertEqual(self.wait_hook("reward.claimed", rid)["fulfilment"]["claim"]["answers"],
                         r.body["answers"])
        # the owner sees it on the reward; the person may still change it
        self.assertEqual(self.reward(rid)["fulfilment"]["claim"]["answers"]["size"], "M")
        r = self.s.post("/v1/rewards/%s/claim" % rid,
                        {"answers": {"address": addr, "size": "L", "note": "gift wrap"}})
        self.assertEqual(r.body["answers"]["note"], "gift wrap")
        r = self.s.post("/v1/rewards/%s/fulfilment/delivered" % rid)
        self.assertStatus(r, 200)
        self.assertEqual((r.body["status"], r.body["fulfilment"]["status"]), ("redeemed", "done"))
        self.wait_hook("reward.fulfilled", rid)
        self.assertEqual(self.s.get("/v1/rewards/%s/claim" % rid).body["status"], "delivered")
        self.assertError(self.s.post("/v1/rewards/%s/claim" % rid,
                                     {"answers": {"address": addr, "size": "S"}}), 409,
                         "invalid_state")
        self.assertError(self.s.post("/v1/rewards/%s/fulfilment/delivered" % rid), 409,
                         "invalid_state")
        # the experience has the default form: one optional note
        xid = got["referred"]["id"]
        r = self.s.get("/v1/rewards/%s/claim" % xid)
        self.assertEqual(r.body["form"], [{"name": "note", "type": "text",
                                           "label": "Anything we should know?",
                                           "required": False}])
        r = self.s.post("/v1/rewards/%s/claim" % xid, {"answers": {"note": "Saturdays"}})
        self.assertEqual(r.body["answers"], {"note": "Saturdays"})

    def test_the_person_claims_in_the_hub(self):
        prog = self.claim_program()
        got = self.issue(prog)
        rid, jane = got["referrer"]["id"], got["referrer_p"]
        r = self.s.post("/v1/participants/%s/hub_link" % jane["id"], {"expires_in_days": 7})
        self.assertStatus(r, 201)
        hub = {"Authorization": "Hub " + r.body["url"].rsplit("/p/", 1)[1]}
        me = self.s.get("/v1/hub/me", headers=hub, key=None)
        self.assertStatus(me, 200)
        shown = [x for x in me.body["rewards"] if x.get("id") == rid]
        form = [dict(self.FORM[0]), dict(self.FORM[1], label="size"),
                dict(self.FORM[2], label="note", required=False)]
        # what the hub page needs to draw the claim step: the form, and the state in words
        self.assertEqual(shown[0]["fulfilment"],
                         {"method": "claim", "status": "pending", "code": None, "claim": "open",
                          "form": form, "answers": None, "claimed_at": None, "can_send": True,
                          "status_text": "waiting for your details, so we can send it"})
        r = self.s.get("/v1/hub/rewards/%s/claim" % rid, headers=hub, key=None)
        self.assertStatus(r, 200)
        self.assertEqual((r.body["status"], r.body["form"][0]["name"]), ("open", "address"))
        addr = {"line1": "2 Mill Road", "city": "Cambridge", "country": "GB"}
        r = self.s.post("/v1/hub/rewards/%s/claim" % rid, {"answers": {"address": addr, "size": "S"}},
                        headers=hub, key=None)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "claimed")
        self.assertEqual(self.reward(rid)["fulfilment"]["claim"]["answers"]["size"], "S")
        me = self.s.get("/v1/hub/me", headers=hub, key=None)
        f = [x["fulfilment"] for x in me.body["rewards"] if x["id"] == rid][0]
        self.assertEqual((f["claim"], f["answers"]["size"], f["answers"]["address"]["line1"],
                          f["can_send"], f["status_text"]),
                         ("claimed", "S", "2 Mill Road", True,
                          "details received: we are getting it ready for you"))
        self.assertEqual(kithtest.parse_time(f["claimed_at"]), self.s.clock_now())
        # delivered: shown so, and closed
        self.assertStatus(self.s.post("/v1/rewards/%s/fulfilment/delivered" % rid), 200)
        me = self.s.get("/v1/hub/me", headers=hub, key=None)
        f = [x["fulfilment"] for x in me.body["rewards"] if x["id"] == rid][0]
        self.assertEqual((f["status"], f["claim"], f["can_send"], f["status_text"]),
                         ("done", "delivered", False, "delivered: we hope you enjoy it"))
        self.assertEqual(f["answers"]["size"], "S")
        # only their own rewards, and only with their token
        other = self.issue(prog)["referrer"]["id"]
        self.assertError(self.s.get("/v1/hub/rewards/%s/claim" % other, headers=hub, key=None),
                         404, "not_found")
        self.assertError(self.s.post("/v1/hub/rewards/%s/claim" % other,
                                     {"answers": {"address": addr, "size": "S"}}, headers=hub,
                                     key=None), 404, "not_found")
        self.assertError(self.s.get("/v1/hub/rewards/%s/claim" % rid, key=None), 401,
                         "unauthorized")
        self.assertError(self.s.get("/v1/rewards/%s/claim" % rid, headers=hub, key=None), 401,
                         "unauthorized")

    def test_not_a_claim(self):
        prog = self.program([CREDIT, MONTH], {})
        rid = self.issue(prog)["referrer"]["id"]
        self.assertError(self.s.get("/v1/rewards/%s/claim" % rid), 409, "invalid_state")
        self.assertError(self.s.post("/v1/rewards/%s/claim" % rid, {"answers": {}}), 409,
                         "invalid_state")
        self.assertError(self.s.post("/v1/rewards/%s/fulfilment/delivered" % rid), 409,
                         "invalid_state")
        self.assertError(self.s.get("/v1/rewards/rwd_nope/claim"), 404, "not_found")

    def test_export_and_erasure(self):
        prog = self.claim_program()
        got = self.issue(prog)
        rid, jane = got["referrer"]["id"], got["referrer_p"]
        self.assertStatus(self.s.patch("/v1/participants/" + jane["id"],
                                       {"stripe_customer_id": "cus_Secret1"}), 200)
        addr = {"line1": "7 Quiet Lane", "city": "Leeds", "country": "GB"}
        self.assertStatus(self.s.post("/v1/rewards/%s/claim" % rid,
                                      {"answers": {"address": addr, "size": "S"}}), 200)
        exp = self.s.get("/v1/participants/%s/export" % jane["id"]).body
        self.assertEqual(exp["participant"]["stripe_customer_id"], "cus_Secret1")
        claimed = [x for x in exp["rewards"] if x["id"] == rid][0]
        self.assertEqual(claimed["fulfilment"]["claim"]["answers"]["address"]["line1"],
                         "7 Quiet Lane")
        self.assertStatus(self.s.post("/v1/participants/%s/erase" % jane["id"]), 200)
        p = self.s.participant(jane["id"])
        self.assertIsNone(p["stripe_customer_id"])
        self.assertIsNone(self.reward(rid)["fulfilment"]["claim"]["answers"])


if __name__ == "__main__":
    kithtest.main()
