"""Experiments (contract section 23): "$20 vs $30 vs $50", tested rather than guessed.

Validation (weights are positive integers, variant ids unique, reward rules as in section 2); the
lifecycle draft -> running -> stopped | promoted with one running experiment per program; sticky
assignment in proportion to the weights (1000 participants, checked with a binomial tolerance of
five standard deviations: a correct server fails it about once in a million runs); rewards, both
sides, by the referrer's variant, a friend's own referrals by the friend's variant, a referral
made while it ran keeping its variant's rules after the stop, promotion writing the rules into
the program; per-variant counts, the 95% Wilson interval and the probability of being best
computed independently here (Wilson's formula; Evan Miller's closed form for two Betas; the
Beta-Gamma identity for two Gammas); guardrails; the automatic stop past max_days on the test
clock; the participant's `experiments` and their export.
"""

import datetime as dt
import math
import urllib.parse

import kithtest
from kithtest import KithTestCase, fmt_time, uid

DAY = 86400
Z95 = 1.959963984540054
PROGRAM_RULES = [{"to": "referrer", "kind": "credit", "amount": 2000, "currency": "USD"},
                 {"to": "referred", "kind": "credit", "amount": 500, "currency": "USD"}]
GIVE30 = [{"to": "referrer", "kind": "credit", "amount": 3000, "currency": "USD"},
          {"to": "referred", "kind": "credit", "amount": 1500, "currency": "USD"}]


def wilson(k, n):
    p = k / n
    den = 1 + Z95 * Z95 / n
    centre = (p + Z95 * Z95 / (2 * n)) / den
    half = Z95 / den * math.sqrt(p * (1 - p) / n + Z95 * Z95 / (4 * n * n))
    return p, max(0.0, centre - half), min(1.0, centre + half)


def miller(a_a, b_a, a_b, b_b):
    """P(p_B > p_A), p_A ~ Beta(a_a, b_a), p_B ~ Beta(a_b, b_b), integer a_b (Evan Miller)."""
    def lbeta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)
    return sum(math.exp(lbeta(a_a + i, b_a + b_b) - math.log(b_b + i) - lbeta(1 + i, b_b)
                        - lbeta(a_a, b_a)) for i in range(a_b))


def ibeta_int(x, a, b):
    """I_x(a, b) for integers: P(Binomial(a + b - 1, x) >= a)."""
    n = a + b - 1
    return sum(math.comb(n, j) * x ** j * (1 - x) ** (n - j) for j in range(a, n + 1))


def poisson_score(k, n):
    root = Z95 * math.sqrt(4 * k + Z95 * Z95)
    low = 0.0 if k == 0 else (2 * k + Z95 * Z95 - root) / (2 * n)
    return k / n, low, (2 * k + Z95 * Z95 + root) / (2 * n)


class ExpBase(KithTestCase):
    def program(self, **kw):
        body = dict(qualification={"event": "purchase", "hold_days": 0}, rewards=PROGRAM_RULES,
                    fraud={"review_at": 1, "reject_at": 2, "new_account_hours": 0,
                           "velocity_per_day": 1000})
        body.update(kw)
        return self.s.make_program(**body)["id"]

    def create(self, pid, variants=None, **kw):
        body = {"program": pid, "id": uid("e"), "name": "Reward levels",
                "variants": variants or [{"id": "control", "weight": 50},
                                         {"id": "give30", "weight": 50, "rewards": GIVE30}]}
        body.update(kw)
        r = self.s.post("/v1/experiments", body)
        self.assertStatus(r, 201)
        return r.body

    def act(self, eid, verb, body=None):
        return self.s.post("/v1/experiments/%s/%s" % (eid, verb), body or {})

    def assertPoissonRates(self, variants, counts):
        """Each variant's rate and its range: the Poisson score interval of its count over one
        person who shared."""
        for vid, k in counts.items():
            for key, w in zip(("value", "low", "high"), poisson_score(k, 1)):
                self.assertTrue(math.isclose(variants[vid]["rate"][key], w, rel_tol=1e-9,
                                             abs_tol=1e-12), (vid, key, variants[vid]["rate"], w))

    def get(self, eid):
        r = self.s.get("/v1/experiments/" + eid)
        self.assertStatus(r, 200)
        return r.body

    def variant_of(self, person, eid):
        return self.s.participant(person["id"])["experiments"].get(eid)

    def referrers(self, pid, eid, want, **kw):
        """Participants made until each variant in want has its count: {variant: [people]}."""
        got = {v: [] for v in want}
        for _ in range(400):
            p = self.s.make_participant(pid, **kw)
            v = p["experiments"].get(eid)
            if v in got and len(got[v]) < want[v]:
                got[v].append(p)
            if all(len(got[v]) >= want[v] for v in want):
                return got
        self.fail("could not fill variants %r" % want)

    def friend(self, pid, referrer, **kw):
        ext = uid("f")
        r = self.s.signup(pid, external_id=ext, ref=referrer["code"], **kw)
        self.assertStatus(r, 201)
        return ext, r.body

    def buy(self, pid, ext, amount=10000):
        r = self.s.event(pid, ext, amount=amount, currency="USD")
        self.assertStatus(r, 201)
        return {(w["to"], w["amount"]) for w in r.body["rewards"]}


class TestValidationAndLifecycle(ExpBase):
    def test_validation(self):
        pid = self.program()
        base = {"program": pid, "id": uid("e"), "name": "X",
                "variants": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}]}

        def bad(param, **changes):
            body = dict(base, id=uid("e"))
            body.update(changes)
            self.assertError(self.s.post("/v1/experiments", body), 400, "invalid_param",
                             param=param)

        for w in (0, -5, 1.5, "50", True, None):
            bad("variants[1].weight", variants=[{"id": "a", "weight": 1}, {"id": "b", "weight": w}])
        bad("variants[1].weight", variants=[{"id": "a", "weight": 1}, {"id": "b"}])
        bad("variants[0].weight", variants=[{"id": "a", "weight": 1000001}, {"id": "b", "weight": 1}])
        bad("variants", variants=[{"id": "a", "weight": 1}])
        bad("variants", variants="a,b")
        bad("variants[1].id", variants=[{"id": "a", "weight": 1}, {"id": "a", "weight": 2}])
        bad("variants[0].id", variants=[{"id": "A B", "weight": 1}, {"id": "b", "weight": 2}])
        bad("variants[1].rewards[0].kind",
            variants=[{"id": "a", "weight": 1},
                      {"id": "b", "weight": 1, "rewards": [{"to": "referrer", "kind": "cash!"}]}])
        bad("variants[0].color", variants=[{"id": "a", "weight": 1, "color": "red"},
                                           {"id": "b", "weight": 1}])
        bad("metric", metric="clicks")
        bad("guardrails.max_review_rate", guardrails={"max_review_rate": 2})
        bad("guardrails.max_cost_per_qualified", guardrails={"max_cost_per_qualified": {"US": 1}})
        bad("max_days", max_days=0)
        bad("bogus", bogus=1)
        bad("id", id="Not Valid")
        body = dict(base)
        self.assertStatus(self.s.post("/v1/experiments", body), 201)
        self.assertError(self.s.post("/v1/experiments", body), 400, "invalid_param", param="id")
        self.assertError(self.s.get("/v1/experiments/nope"), 404, "not_found")

    def test_lifecycle(self):
        pid = self.program()
        e = self.create(pid, metric="qualification_rate", max_days=56,
                        guardrails={"max_cost_per_qualified": {"USD": 3000},
                                    "max_review_rate": 0.2})
        self.assertEqual(e["status"], "draft")
        self.assertEqual(e["metric"], "qualification_rate")
        self.assertEqual(e["max_days"], 56)
        self.assertEqual(e["guardrails"], {"max_cost_per_qualified": {"USD": 3000},
                                           "max_review_rate": 0.2})
        self.assertEqual([v["id"] for v in e["variants"]], ["control", "give30"])
        self.assertIsNone(e["started_at"])
        self.assertEqual(e["guardrails_breached"], [])
        self.assertError(self.act(e["id"], "stop"), 409, "invalid_state")
        self.assertError(self.act(e["id"], "promote", {"variant": "give30"}), 409,
                         "invalid_state")
        r = self.act(e["id"], "start")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "running")
        started = kithtest.parse_time(r.body["started_at"])
        self.assertEqual(r.body["ends_at"], fmt_time(started + dt.timedelta(days=56)))
        self.assertError(self.act(e["id"], "start"), 409, "invalid_state")
        other = self.create(pid)
        self.assertError(self.act(other["id"], "start"), 409, "invalid_state")
        # Another program runs its own.
        self.assertStatus(self.act(self.create(self.program())["id"], "start"), 200)
        r = self.act(e["id"], "stop")
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "stopped")
        self.assertError(self.act(e["id"], "stop"), 409, "invalid_state")
        self.assertError(self.act(e["id"], "start"), 409, "invalid_state")
        self.assertStatus(self.act(other["id"], "start"), 200)  # the program is free again
        self.assertError(self.act(e["id"], "promote", {"variant": "give50"}), 400,
                         "invalid_param", param="variant")
        r = self.act(e["id"], "promote", {"variant": "give30"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "promoted")
        self.assertEqual(r.body["promoted_variant"], "give30")
        prog = self.s.get("/v1/programs/" + pid).body
        self.assertEqual([(x["to"], x["amount"]) for x in prog["rewards"]],
                         [("referrer", 3000), ("referred", 1500)])
        self.assertError(self.act(e["id"], "promote", {"variant": "control"}), 409,
                         "invalid_state")
        listed = self.s.list_all("/v1/experiments?program=" + pid)
        self.assertEqual({x["id"] for x in listed}, {e["id"], other["id"]})


class TestAssignment(ExpBase):
    def tally(self, pid, eid):
        people = self.s.list_all("/v1/participants?program=" + pid, limit=500)
        counts = {}
        for p in people:
            v = p["experiments"].get(eid)
            counts[v] = counts.get(v, 0) + 1
        return people, counts

    def assertBinomial(self, got, n, p, what):
        sd = math.sqrt(n * p * (1 - p))
        self.assertLessEqual(abs(got - n * p), 5 * sd,
                             "%s: %d of %d, expected %.0f +- %.1f" % (what, got, n, n * p, 5 * sd))

    def test_proportions_and_stickiness(self):
        pid = self.program()
        for _ in range(1000):
            self.s.make_participant(pid)
        e = self.create(pid)
        self.assertStatus(self.act(e["id"], "start"), 200)
        people, counts = self.tally(pid, e["id"])
        self.assertEqual(sum(counts.values()), 1000)
        self.assertEqual(set(counts), {"control", "give30"})
        self.assertBinomial(counts["control"], 1000, 0.5, "control at weight 50 of 100")
        # Sticky: every participant reads the same variant again.
        again, _ = self.tally(pid, e["id"])
        self.assertEqual({p["id"]: p["experiments"] for p in people},
                         {p["id"]: p["experiments"] for p in again})
        self.assertStatus(self.act(e["id"], "stop"), 200)
        self.assertEqual(self.s.participant(people[0]["id"])["experiments"], {})
        # Weights 1:2:1 over the same people.
        e3 = self.create(pid, variants=[{"id": "v20", "weight": 1},
                                        {"id": "v30", "weight": 2, "rewards": GIVE30},
                                        {"id": "v50", "weight": 1}])
        self.assertStatus(self.act(e3["id"], "start"), 200)
        _, counts = self.tally(pid, e3["id"])
        self.assertBinomial(counts["v20"], 1000, 0.25, "v20 at 1 of 4")
        self.assertBinomial(counts["v30"], 1000, 0.5, "v30 at 2 of 4")
        self.assertBinomial(counts["v50"], 1000, 0.25, "v50 at 1 of 4")


class TestRewardsAndResults(ExpBase):
    def test_rewards_follow_the_variant(self):
        pid = self.program()
        e = self.create(pid)
        eid = e["id"]
        self.assertStatus(self.act(eid, "start"), 200)
        r = self.referrers(pid, eid, {"control": 1, "give30": 1})
        rc, rg = r["control"][0], r["give30"][0]
        ext, _ = self.friend(pid, rg)
        self.assertEqual(self.buy(pid, ext), {("referrer", 3000), ("referred", 1500)})
        ext, _ = self.friend(pid, rc)
        self.assertEqual(self.buy(pid, ext), {("referrer", 2000), ("referred", 500)})
        # A friend's own referrals follow the friend's variant, not their referrer's.
        for _ in range(60):
            ext, body = self.friend(pid, rg)
            if body["participant"]["experiments"][eid] == "control":
                break
        else:
            self.fail("no friend of a give30 referrer landed in control")
        friend = body["participant"]
        self.assertEqual(self.buy(pid, ext), {("referrer", 3000), ("referred", 1500)})
        ext2, _ = self.friend(pid, friend)
        self.assertEqual(self.buy(pid, ext2), {("referrer", 2000), ("referred", 500)})
        # Made while it ran, qualified after the stop: still the variant's rules.
        late, _ = self.friend(pid, rg)
        self.assertStatus(self.act(eid, "stop"), 200)
        self.assertEqual(self.buy(pid, late), {("referrer", 3000), ("referred", 1500)})
        # Made after the stop: the program's rules; after promotion, the promoted ones.
        ext, _ = self.friend(pid, rg)
        self.assertEqual(self.buy(pid, ext), {("referrer", 2000), ("referred", 500)})
        self.assertStatus(self.act(eid, "promote", {"variant": "give30"}), 200)
        ext, _ = self.friend(pid, rc)
        self.assertEqual(self.buy(pid, ext), {("referrer", 3000), ("referred", 1500)})

    def test_results_intervals_probabilities_guardrails(self):
        pid = self.program()
        e = self.create(pid, metric="qualification_rate",
                        guardrails={"max_cost_per_qualified": {"USD": 3000},
                                    "max_review_rate": 0.1})
        eid = e["id"]
        early = self.s.make_participant(pid)
        self.friend(pid, early)  # before the start: not in the experiment
        self.assertStatus(self.act(eid, "start"), 200)
        r = self.referrers(pid, eid, {"control": 2, "give30": 2}, ip="192.0.2.%d" % 7)
        g1, g2 = r["give30"]
        c1, c2 = r["control"]
        # give30: 3 signups, 2 qualified. control: 5 signups (one from c1's own IP: review),
        # 1 qualified.
        a, _ = self.friend(pid, g1)
        self.friend(pid, g1)
        b, _ = self.friend(pid, g2)
        for x in (a, b):
            self.buy(pid, x)
        for _ in range(3):
            self.friend(pid, c1)
        _, body = self.friend(pid, c1, ip="192.0.2.7")
        self.assertEqual(body["referral"]["status"], "review")
        c, _ = self.friend(pid, c2)
        self.buy(pid, c)
        for who in (g1, c1, c1):
            self.s.click_id(who["code"])
        self.s.settle_clicks()
        got = self.get(eid)
        v = {x["id"]: x for x in got["variants"]}
        self.assertEqual(got["statistics"]["model"], "beta_binomial")
        for vid, referrers, sharers, signups, qualified, cost in (
                ("give30", 2, 1, 3, 2, 2 * (3000 + 1500)), ("control", 2, 1, 5, 1, 2000 + 500)):
            x = v[vid]
            self.assertEqual((x["referrers"], x["sharers"], x["signups"], x["qualified"]),
                             (referrers, sharers, signups, qualified), vid)
            self.assertEqual(x["rewards_cost"], {"USD": cost}, vid)
            want = wilson(qualified, signups)
            for key, w in zip(("value", "low", "high"), want):
                self.assertTrue(math.isclose(x["rate"][key], w, rel_tol=1e-9, abs_tol=1e-12),
                                "%s rate.%s: %r != %r" % (vid, key, x["rate"][key], w))
        # P(give30 best) = P(Beta(3, 2) > Beta(2, 5)).
        p = miller(2, 5, 3, 2)
        self.assertAlmostEqual(v["give30"]["probability_best"], p, places=6)
        self.assertAlmostEqual(v["control"]["probability_best"], 1 - p, places=6)
        breached = sorted((x["variant"], x["guardrail"]) for x in got["guardrails_breached"])
        self.assertEqual(breached, [("control", "max_review_rate"),
                                    ("give30", "max_cost_per_qualified")])
        cost = [x for x in got["guardrails_breached"] if x["guardrail"] == "max_cost_per_qualified"]
        self.assertEqual(cost[0]["currency"], "USD")
        self.assertAlmostEqual(cost[0]["value"], 4500.0)
        self.assertEqual(cost[0]["limit"], 3000)
        review = [x for x in got["guardrails_breached"] if x["guardrail"] == "max_review_rate"]
        self.assertAlmostEqual(review[0]["value"], 0.2)

    def test_rates_above_one_compare_as_poisson(self):
        pid = self.program()
        e = self.create(pid, metric="qualified_per_referrer")
        eid = e["id"]
        self.assertStatus(self.act(eid, "start"), 200)
        r = self.referrers(pid, eid, {"control": 1, "give30": 1})
        for _ in range(3):
            ext, _ = self.friend(pid, r["control"][0])
            self.buy(pid, ext)
        self.friend(pid, r["give30"][0])
        got = self.get(eid)
        v = {x["id"]: x for x in got["variants"]}
        self.assertEqual(got["statistics"]["model"], "gamma_poisson")
        self.assertEqual(got["statistics"]["interval"], "poisson_score")
        self.assertPoissonRates(v, {"control": 3, "give30": 0})
        # Gamma(4, 1) against Gamma(1, 1): P = I_{1/2}(1, 4) = 1 - 2^-4.
        self.assertAlmostEqual(v["control"]["probability_best"], ibeta_int(0.5, 1, 4), places=6)
        self.assertAlmostEqual(v["control"]["probability_best"], 0.9375, places=6)

    def test_signups_per_referrer_counts_friends_not_buyers(self):
        pid = self.program()
        eid = self.create(pid, metric="signups_per_referrer")["id"]
        self.assertStatus(self.act(eid, "start"), 200)
        r = self.referrers(pid, eid, {"control": 1, "give30": 1})
        for _ in range(3):
            self.friend(pid, r["control"][0])  # three friends, none buys
        ext, _ = self.friend(pid, r["give30"][0])
        self.buy(pid, ext)  # one friend who buys: the better variant by qualified_per_referrer
        got = self.get(eid)
        v = {x["id"]: x for x in got["variants"]}
        self.assertEqual(got["statistics"]["model"], "gamma_poisson")
        self.assertPoissonRates(v, {"control": 3, "give30": 1})
        # Gamma(4, 1) against Gamma(2, 1): P = I_{1/2}(2, 4) = 13/16.
        self.assertAlmostEqual(v["control"]["probability_best"], ibeta_int(0.5, 2, 4), places=6)
        self.assertAlmostEqual(v["control"]["probability_best"], 13 / 16, places=6)

    def test_draft_has_no_rates(self):
        e = self.create(self.program())
        for x in e["variants"]:
            self.assertEqual(x["rate"], {"value": None, "low": None, "high": None})
            self.assertEqual((x["referrers"], x["signups"], x["qualified"]), (0, 0, 0))
            self.assertAlmostEqual(x["probability_best"], 0.5, places=9)


class TestAutoStopAndExport(ExpBase):
    def test_stops_past_max_days(self):
        self.s.clock_set("2036-03-02T09:00:00Z")
        pid = self.program()
        e = self.create(pid, max_days=3)
        self.assertStatus(self.act(e["id"], "start"), 200)
        p = self.s.make_participant(pid)
        self.assertIn(p["experiments"][e["id"]], ("control", "give30"))
        self.s.clock_advance(3 * DAY - 1)
        self.assertEqual(self.get(e["id"])["status"], "running")
        self.s.clock_advance(1)
        got = self.get(e["id"])
        self.assertEqual(got["status"], "stopped")
        self.assertEqual(got["stopped_at"], "2036-03-05T09:00:00Z")
        self.assertEqual(self.s.participant(p["id"])["experiments"], {})
        # The program may run the next one.
        self.assertStatus(self.act(self.create(pid)["id"], "start"), 200)

    def test_export(self):
        pid = self.program()
        e = self.create(pid)
        self.assertStatus(self.act(e["id"], "start"), 200)
        p = self.s.make_participant(pid)
        self.friend(pid, p)
        self.s.click_id(p["code"])
        self.s.settle_clicks()
        doc = self.s.get("/v1/participants/%s/export" % p["id"]).body
        self.assertEqual(doc["experiments"], [{
            "experiment": e["id"], "program": pid, "status": "running",
            "variant": p["experiments"][e["id"]], "shared": True, "referred": True}])
        self.assertEqual(doc["participant"]["experiments"], p["experiments"])


if __name__ == "__main__":
    import unittest
    unittest.main()
