"""Idempotency-Key on POST (contract section 1)."""

import threading

import kithtest
from kithtest import KithTestCase, uid


def replayed(resp):
    return resp.headers.get("idempotent-replayed", "").lower() == "true"


class IdempotencyTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.server.make_program()
        cls.pid = cls.program["id"]
        cls.referrer = cls.server.make_participant(cls.pid, "Jane")
        cls.sk2 = cls.server.keys_create()

    def signup_body(self, **kw):
        body = {"program": self.pid, "external_id": uid("s"), "first_name": "Sam",
                "ref": self.referrer["code"]}
        body.update(kw)
        return body

    def post(self, path, body, key_header, **kw):
        return self.s.post(path, body, headers={"Idempotency-Key": key_header}, **kw)

    def count(self, ext):
        r = self.s.get("/v1/participants?program=%s&external_id=%s" % (self.pid, ext))
        return len(self.assertList(r))

    def test_replay_same_status_and_body(self):
        k = uid("idem")
        body = self.signup_body()
        first = self.post("/v1/signups", body, k)
        self.assertStatus(first, 201)
        self.assertFalse(replayed(first), first.headers)
        again = self.post("/v1/signups", body, k)
        self.assertStatus(again, 201)  # without the key this would be a 200
        self.assertTrue(replayed(again), again.headers)
        self.assertEqual(again.headers["idempotent-replayed"], "true")
        self.assertEqual(again.raw, first.raw)
        self.assertEqual(self.count(body["external_id"]), 1)
        # without the key: the ordinary "already exists" answer
        plain = self.s.post("/v1/signups", body)
        self.assertStatus(plain, 200)
        self.assertFalse(replayed(plain))

    def test_replay_program_create(self):
        k = uid("idem")
        body = self.s.program_body()
        first = self.post("/v1/programs", body, k)
        self.assertStatus(first, 201)
        again = self.post("/v1/programs", body, k)
        self.assertStatus(again, 201)
        self.assertTrue(replayed(again))
        self.assertEqual(again.body, first.body)

    def test_replay_action_has_no_new_effect(self):
        _ = self.s.signup(self.pid, external_id="idem-buyer-" + uid("b"), ref=self.referrer["code"])
        ext = _.body["participant"]["external_id"]
        ev = self.s.event(self.pid, ext)
        self.assertStatus(ev, 201)
        rw = [x for x in ev.body["rewards"] if x["to"] == "referred"][0]
        k = uid("idem")
        first = self.post("/v1/rewards/%s/redeem" % rw["id"], {}, k)
        self.assertStatus(first, 200)
        again = self.post("/v1/rewards/%s/redeem" % rw["id"], {}, k)
        self.assertStatus(again, 200)  # not 409: replayed
        self.assertTrue(replayed(again))
        self.assertEqual(again.body, first.body)
        other = self.post("/v1/rewards/%s/redeem" % rw["id"], {}, uid("idem"))
        self.assertError(other, 409, "invalid_state")

    def test_replay_event(self):
        _ = self.s.signup(self.pid, ref=self.referrer["code"])
        ext = _.body["participant"]["external_id"]
        k = uid("idem")
        body = {"program": self.pid, "type": "purchase", "external_id": ext, "amount": 5000,
                "currency": "USD"}
        first = self.post("/v1/events", body, k)
        self.assertStatus(first, 201)
        self.assertEqual(len(first.body["rewards"]), 2)
        again = self.post("/v1/events", body, k)
        self.assertStatus(again, 201)
        self.assertTrue(replayed(again))
        self.assertEqual(again.body, first.body)
        rewards = self.s.rewards(program=self.pid, participant=_.body["participant"]["id"])
        self.assertEqual(len(rewards), 1)

    def test_different_body_is_422(self):
        k = uid("idem")
        body = self.signup_body()
        self.assertStatus(self.post("/v1/signups", body, k), 201)
        other = dict(body, external_id=uid("s"))
        r = self.post("/v1/signups", other, k)
        self.assertError(r, 422, "idempotency_key_reused")
        self.assertEqual(self.count(other["external_id"]), 0)
        # another route with the same key is a different request too
        r = self.post("/v1/participants", {"program": self.pid, "external_id": uid("u")}, k)
        self.assertError(r, 422, "idempotency_key_reused")

    def test_validation_failure_not_stored(self):
        k = uid("idem")
        bad = {"program": self.pid, "first_name": "NoId"}
        r = self.post("/v1/signups", bad, k)
        self.assertError(r, 400, "invalid_param", param="external_id")
        r = self.post("/v1/signups", bad, k)
        self.assertError(r, 400, "invalid_param", param="external_id")
        self.assertFalse(replayed(r))
        good = self.signup_body()
        r = self.post("/v1/signups", good, k)
        self.assertStatus(r, 201)
        self.assertFalse(replayed(r))
        k2 = uid("idem")
        r = self.post("/v1/signups", None, k2, raw_body=b"{broken")
        self.assertError(r, 400, "invalid_json")
        self.assertStatus(self.post("/v1/signups", self.signup_body(), k2), 201)

    def test_keys_scoped_per_api_key(self):
        k = uid("idem")
        body = self.signup_body()
        self.assertStatus(self.post("/v1/signups", body, k), 201)
        # same Idempotency-Key, other API key, other body: a new request, not 422
        other = self.signup_body()
        r = self.s.post("/v1/signups", other, headers={"Idempotency-Key": k}, key=self.sk2)
        self.assertStatus(r, 201)
        self.assertFalse(replayed(r))
        # same key and same body from the other API key: executed, not replayed (exists -> 200)
        r = self.s.post("/v1/signups", body, headers={"Idempotency-Key": k + "-b"}, key=self.sk2)
        self.assertStatus(r, 200)
        r2 = self.s.post("/v1/signups", body, headers={"Idempotency-Key": k}, key=self.sk2)
        self.assertError(r2, 422, "idempotency_key_reused")  # sk2 already used k for `other`

    def test_invalid_keys(self):
        for bad in ("x" * 256, "caf\u00e9".encode("utf-8").decode("latin-1"), "tab\there"):
            r = self.s.post("/v1/signups", self.signup_body(), headers={"Idempotency-Key": bad})
            self.assertError(r, 400, "invalid_param", param="Idempotency-Key")
        r = self.s.post("/v1/signups", self.signup_body(), headers={"Idempotency-Key": "k" * 255})
        self.assertStatus(r, 201)
        r = self.s.post("/v1/signups", self.signup_body(), headers={"Idempotency-Key": "a-b~!{}/=+"})
        self.assertStatus(r, 201)

    def test_concurrent_same_key_one_effect(self):
        for round_ in range(3):
            k = uid("idem")
            body = self.signup_body()
            results = []
            barrier = threading.Barrier(12)

            def worker():
                barrier.wait()
                results.append(self.post("/v1/signups", body, k))

            threads = [threading.Thread(target=worker) for _ in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(len(results), 12)
            originals = [r for r in results if r.status == 201 and not replayed(r)]
            replays = [r for r in results if r.status == 201 and replayed(r)]
            in_use = [r for r in results if r.status == 409]
            self.assertEqual(len(originals), 1, [repr(r) for r in results])
            self.assertEqual(len(originals) + len(replays) + len(in_use), 12,
                             [repr(r) for r in results])
            for r in replays:
                self.assertEqual(r.raw, originals[0].raw)
            for r in in_use:
                self.assertError(r, 409, "idempotency_key_in_use")
            self.assertEqual(self.count(body["external_id"]), 1)

    def test_concurrent_different_keys_same_external_id(self):
        body = self.signup_body()
        results = []
        barrier = threading.Barrier(8)

        def worker(i):
            barrier.wait()
            results.append(self.post("/v1/signups", body, uid("k%d" % i)))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] * 7 + [201], [repr(r) for r in results])
        ids = {r.body["participant"]["id"] for r in results}
        self.assertEqual(len(ids), 1)
        refs = {r.body["referral"]["id"] for r in results}
        self.assertEqual(len(refs), 1)
        self.assertEqual(self.count(body["external_id"]), 1)


if __name__ == "__main__":
    kithtest.main()
