"""Outgoing webhooks (contract section 11): endpoints, Standard Webhooks signatures, filters,
retries on the test clock, Retry-After, 410, redirects, the network policy, manual retry and
the outbox's durability across kill -9.

Every receiver here is a local HTTP server on 127.0.0.1 that checks the signature of every
delivery it gets and answers with a distinctive body that must never show up in kith's API.

The receiver and the small helpers (Receiver, Barrier, verify_signature, wait_until) are also
used by test_notifications.py.

No test sleeps to show that something was NOT sent: Barrier.settle() proves it (see there), and
a delivery that was attempted shows in the endpoint's delivery log only after its request reached
the receiver (the receiver records a request before it answers; kith logs the attempt after the
answer).
"""

import base64
import binascii
import hashlib
import hmac
import http.server
import json
import math
import re
import secrets
import socket
import threading
import time
import unittest

import kithtest
from kithtest import KithTestCase, Server, parse_time, uid, REFERRAL_KEYS, REWARD_KEYS, PARTICIPANT_KEYS

ALLOW_ENV = {"KITH_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8"}
EVENT_TYPES = ["participant.created", "referral.created", "referral.review", "referral.qualified",
               "referral.rewarded", "referral.rejected", "referral.expired", "reward.created",
               "reward.issued", "reward.redeemed", "reward.voided", "reward.expired",
               "notification.created"]
RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 36000]
ENDPOINT_KEYS = ["id", "url", "events", "status", "description", "disabled_reason", "created_at",
                 "updated_at"]
DELIVERY_KEYS = ["id", "message", "type", "attempt", "attempted_at", "status_code", "latency_ms",
                 "error", "next_attempt_at"]
# How long (real time) a delivery or a retry may take to show up after the change or the clock
# call that makes it due. The poller runs every 250 ms; ASan builds are slow.
DUE = 6.0


def wait_until(fn, timeout=DUE, interval=0.05):
    """Polls fn() until truthy; returns its last value (falsy on timeout: the caller asserts)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def verify_signature(secret, headers, body):
    """Standard Webhooks: v1,<base64 HMAC-SHA256(key, "<id>.<ts>.<body>")>, key = b64decode of
    the secret after "whsec_". Returns None when valid, else why not."""
    if not secret.startswith("whsec_"):
        return "secret without whsec_ prefix"
    key = base64.b64decode(secret[len("whsec_"):])
    mid = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sig = headers.get("webhook-signature")
    if not mid or not ts or not sig:
        return "missing webhook-* header: %r" % headers
    expected = base64.b64encode(hmac.new(key, mid.encode() + b"." + ts.encode() + b"." + body,
                                         hashlib.sha256).digest()).decode()
    for part in sig.split(" "):
        version, _, value = part.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "signature mismatch: got %r, expected v1,%s" % (sig, expected)


class Delivery:
    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers
        self.body = body
        self.t = time.monotonic()
        try:
            self.json = json.loads(body.decode("utf-8"))
        except Exception:
            self.json = None
        self.sig_error = None

    @property
    def msg_id(self):
        return self.headers.get("webhook-id")

    @property
    def type(self):
        return (self.json or {}).get("type")

    def __repr__(self):
        return "<delivery %s %s %s ts=%s>" % (self.path, self.msg_id, self.type,
                                             self.headers.get("webhook-timestamp"))


class Receiver:
    """A local webhook receiver. Each endpoint gets its own path; answer(path) decides the
    response per request: a status int or (status, extra headers). Every request is recorded
    and its signature checked against the secret registered for its path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.secrets = {}
        self.answers = {}
        self.token = "RCVR-BODY-" + secrets.token_hex(8)
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path = self.path
                d = Delivery(path, {k.lower(): v for k, v in self.headers.items()}, body)
                with rec.lock:
                    secret = rec.secrets.get(path)
                    ans = rec.answers.get(path, 200)
                if secret is not None:
                    d.sig_error = verify_signature(secret, d.headers, body)
                with rec.lock:
                    rec.requests.append(d)
                if callable(ans):
                    ans = ans(d)
                status, extra = (ans, {}) if isinstance(ans, int) else ans
                out = ("%s status=%d" % (rec.token, status)).encode()
                if status in (204, 304):
                    out = b""
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "text/plain")
                self.send_header("X-Receiver-Secret", rec.token)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            do_POST = do_GET = do_PUT = do_HEAD = _handle

        class Quiet(http.server.ThreadingHTTPServer):
            # kith opens many connections at once; with socketserver's backlog of 5 the rest
            # are dropped and curl tries again only after a second
            request_queue_size = 128

            def handle_error(self, request, client_address):
                pass  # kith closing a connection early is not our concern here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def new_path(self):
        return "/hook/" + secrets.token_hex(6)

    def set_answer(self, path, ans):
        with self.lock:
            self.answers[path] = ans

    def got(self, path=None, type=None, msg_id=None):
        with self.lock:
            out = list(self.requests)
        return [d for d in out if (path is None or d.path == path)
                and (type is None or d.type == type) and (msg_id is None or d.msg_id == msg_id)]

    def wait(self, path, n=1, timeout=DUE, **kw):
        """Waits until at least n deliveries match; returns them all."""
        wait_until(lambda: len(self.got(path, **kw)) >= n, timeout)
        return self.got(path, **kw)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Barrier:
    """Shows that nothing (else) was sent, without sleeping.

    kith claims the deliveries that are due in one query, oldest next_attempt_at first (up to 32
    at a time; the tests keep far fewer due at once), and hands every claimed delivery to its
    sender together. The barrier is an endpoint of its own with one message, delivered once at
    set-up; the endpoint then filters on an event type no test makes, so it gets nothing else.
    settle() has kith redeliver that message (a manual retry: due now), waits until it arrived
    and is logged, then waits until kith's sender and store are idle (kith_sender_busy and
    kith_store_queue_depth are 0). Every delivery that was due when settle() was called, such as
    a retry that a clock call wrongly made due, was claimed with the barrier or before it, so its
    request has reached its receiver and its attempt is logged by the time settle() returns.
    Make it before the endpoints under test exist, or they get its set-up message too."""

    def __init__(self, server, receiver):
        self.s = server
        self.rcv = receiver
        self.path = receiver.new_path()
        receiver.set_answer(self.path, 200)
        r = server.post("/v1/webhook_endpoints", {"url": receiver.url(self.path),
                                                  "events": ["participant.created"],
                                                  "description": "kithtest barrier"})
        if r.status != 201:
            raise AssertionError("barrier endpoint: %r" % r)
        self.eid = r.body["id"]
        with receiver.lock:
            receiver.secrets[self.path] = r.body["secret"]
        prog = server.make_program(name="kithtest barrier")
        server.make_participant(prog["id"], "Barrier")
        got = kithtest.poll(lambda: receiver.got(self.path), DUE, "the barrier's first delivery")
        self.msg = got[0].msg_id
        self._logged(1)
        r = server.patch("/v1/webhook_endpoints/" + self.eid, {"events": ["reward.expired"]})
        if r.status != 200:
            raise AssertionError("barrier endpoint filter: %r" % r)

    def _attempts(self):
        return [a for a in self.s.list_all("/v1/webhook_endpoints/%s/deliveries" % self.eid)
                if a["message"] == self.msg]

    def _logged(self, n):
        kithtest.poll(lambda: len(self._attempts()) >= n, DUE,
                      "attempt %d of the barrier message in its delivery log" % n)

    def settle(self):
        n = len(self.rcv.got(self.path, msg_id=self.msg))
        r = self.s.post("/v1/webhook_endpoints/%s/deliveries/%s/retry" % (self.eid, self.msg))
        if r.status != 200 or r.body.get("status") != "pending":
            raise AssertionError("barrier retry: %r" % r)
        kithtest.poll(lambda: len(self.rcv.got(self.path, msg_id=self.msg)) > n, DUE,
                      "the barrier message to arrive again")
        self._logged(n + 1)
        self.s.settle_sender()


class WebhookCase(KithTestCase):
    """A server that may reach loopback receivers, plus one receiver and a Barrier on it
    (self.settle()), made before any endpoint of the tests."""

    server_kwargs = {"test_clock": True, "env": ALLOW_ENV}
    with_barrier = True

    @classmethod
    def setUpClass(cls):
        cls.rcv = Receiver()
        super().setUpClass()
        cls.barrier = Barrier(cls.server, cls.rcv) if cls.with_barrier else None

    def settle(self):
        """Returns once everything due now has been sent and logged (see Barrier)."""
        self.assertIsNotNone(self.barrier, "this class has no barrier")
        self.barrier.settle()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rcv.close()

    def endpoint(self, events=None, answer=200, server=None, description=None):
        """Creates an endpoint on a fresh receiver path -> (endpoint body incl. secret, path)."""
        s = server or self.s
        path = self.rcv.new_path()
        self.rcv.set_answer(path, answer)
        body = {"url": self.rcv.url(path)}
        if events is not None:
            body["events"] = events
        if description is not None:
            body["description"] = description
        r = s.post("/v1/webhook_endpoints", body)
        self.assertStatus(r, 201)
        with self.rcv.lock:
            self.rcv.secrets[path] = r.body["secret"]
        return r.body, path

    def assertSigned(self, deliveries):
        for d in deliveries:
            self.assertIsNone(d.sig_error, "bad signature on %r: %s" % (d, d.sig_error))

    def deliveries(self, eid, server=None):
        s = server or self.s
        items = s.list_all("/v1/webhook_endpoints/%s/deliveries" % eid)
        self.assertNotLeaking(items)
        return items

    def assertNotLeaking(self, obj):
        text = json.dumps(obj)
        self.assertNotIn(self.rcv.token, text, "the receiver's response leaked into the API: %s" % text[:2000])
        self.assertNotIn("whsec_", text, "a webhook secret leaked into the API: %s" % text[:2000])

    def assertRetryScheduled(self, r, eid, mid):
        """A manual retry's answer. The contract fixes no status code for it (kith answers 200);
        docs/api/README.md fixes the body."""
        self.assertIn(r.status, (200, 201, 202), repr(r))
        self.assertEqual({k: r.body.get(k) for k in ("endpoint", "message", "status")},
                         {"endpoint": eid, "message": mid, "status": "pending"}, repr(r))
        self.assertEqual(parse_time(r.body["next_attempt_at"]), self.s.clock_now(), repr(r))

    def referral_flow(self, prog_id, first_name="Bob"):
        """Referrer + signup by code + qualifying purchase -> (referrer, signup body, event body)."""
        s = self.s
        a = s.make_participant(prog_id, first_name="Ann", email=uid("ann") + "@example.com")
        r = s.signup(prog_id, code=a["code"], first_name=first_name, email=uid("bob") + "@example.com")
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "pending", repr(r))
        e = s.event(prog_id, r.body["participant"]["external_id"])
        self.assertStatus(e, 201)
        return a, r.body, e.body


class EndpointCrudTest(WebhookCase):
    def test_create_shape_and_secret_shown_once(self):
        s = self.s
        path = self.rcv.new_path()
        r = s.post("/v1/webhook_endpoints", {"url": self.rcv.url(path),
                                             "events": ["referral.qualified", "reward.issued"],
                                             "description": "crm sync"})
        self.assertStatus(r, 201)
        ep = r.body
        self.assertKeys(ep, ENDPOINT_KEYS + ["secret"], "endpoint")
        self.assertRegex(ep["id"], r"^whe_[A-Za-z0-9]+$")
        self.assertEqual(ep["url"], self.rcv.url(path))
        self.assertEqual(ep["events"], ["referral.qualified", "reward.issued"])
        self.assertEqual(ep["status"], "enabled")
        self.assertEqual(ep["description"], "crm sync")
        self.assertIsNone(ep["disabled_reason"])
        self.assertTime(ep["created_at"])
        self.assertTime(ep["updated_at"])
        m = re.match(r"^whsec_([A-Za-z0-9+/=]+)$", ep["secret"])
        self.assertTrue(m, "secret format: %r" % ep["secret"])
        self.assertEqual(len(base64.b64decode(m.group(1), validate=True)), 32, ep["secret"])

        g = s.get("/v1/webhook_endpoints/" + ep["id"])
        self.assertStatus(g, 200)
        self.assertNotIn("secret", g.body)
        self.assertNotIn(ep["secret"], g.raw.decode())
        for k in ENDPOINT_KEYS:
            self.assertEqual(g.body[k], ep[k], k)
        lst = s.list_all("/v1/webhook_endpoints")
        mine = [e for e in lst if e["id"] == ep["id"]]
        self.assertEqual(len(mine), 1)
        self.assertNotIn("secret", mine[0])
        self.assertNotIn("whsec_", json.dumps(lst))

        # a second endpoint gets a different secret
        r2 = s.post("/v1/webhook_endpoints", {"url": self.rcv.url(self.rcv.new_path())})
        self.assertStatus(r2, 201)
        self.assertNotEqual(r2.body["secret"], ep["secret"])
        self.assertNotEqual(r2.body["id"], ep["id"])
        # "events empty or absent means all": the contract does not say which of the two an
        # endpoint made without a filter shows
        self.assertIn(r2.body["events"], ([], None))

    def test_patch_and_delete(self):
        s = self.s
        ep, path = self.endpoint(events=["referral.created"])
        new_url = self.rcv.url(self.rcv.new_path())
        r = s.patch("/v1/webhook_endpoints/" + ep["id"], {"url": new_url,
                                                          "events": ["reward.issued"],
                                                          "description": "changed",
                                                          "status": "disabled"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["url"], new_url)
        self.assertEqual(r.body["events"], ["reward.issued"])
        self.assertEqual(r.body["description"], "changed")
        self.assertEqual(r.body["status"], "disabled")
        self.assertNotIn("secret", r.body)
        r = s.patch("/v1/webhook_endpoints/" + ep["id"], {"status": "enabled"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "enabled")
        self.assertIsNone(r.body["disabled_reason"])
        self.assertError(s.patch("/v1/webhook_endpoints/" + ep["id"], {"status": "paused"}),
                         400, "invalid_param", param="status")
        self.assertError(s.patch("/v1/webhook_endpoints/" + ep["id"], {"events": ["referral.nope"]}),
                         400, "invalid_param")
        d = s.delete("/v1/webhook_endpoints/" + ep["id"])
        self.assertStatus(d, 200)
        self.assertEqual(d.body, {"id": ep["id"], "deleted": True})
        self.assertError(s.get("/v1/webhook_endpoints/" + ep["id"]), 404, "not_found")
        self.assertNotIn(ep["id"], [e["id"] for e in s.list_all("/v1/webhook_endpoints")])

    def test_validation(self):
        s = self.s
        url = self.rcv.url(self.rcv.new_path())
        err = self.assertError(s.post("/v1/webhook_endpoints", {"url": url, "events": ["referral.qualified", "referral.bogus"]}),
                               400, "invalid_param")
        self.assertIn("events", err["param"] or "")
        self.assertError(s.post("/v1/webhook_endpoints", {"events": ["referral.qualified"]}), 400,
                         "invalid_param", param="url")
        self.assertError(s.post("/v1/webhook_endpoints", {"url": "ftp://127.0.0.1/x"}), 400,
                         "invalid_param", param="url")
        self.assertError(s.post("/v1/webhook_endpoints", {"url": url, "colour": "red"}), 400,
                         "invalid_param", param="colour")
        self.assertError(s.get("/v1/webhook_endpoints/whe_doesnotexist"), 404, "not_found")
        self.assertError(s.get("/v1/webhook_endpoints/whe_doesnotexist/deliveries"), 404, "not_found")
        # every documented type is accepted
        r = s.post("/v1/webhook_endpoints", {"url": url, "events": EVENT_TYPES})
        self.assertStatus(r, 201)
        self.assertEqual(sorted(r.body["events"]), sorted(EVENT_TYPES))
        # secret API key required
        self.assertError(s.get("/v1/webhook_endpoints", key=None), 401, "unauthorized")


class DeliveryTest(WebhookCase):
    def test_signed_deliveries_for_a_referral(self):
        s = self.s
        ep, path = self.endpoint()
        prog = s.make_program()
        a, sign, ev = self.referral_flow(prog["id"])
        ref_id = sign["referral"]["id"]
        b_id = sign["participant"]["id"]
        rw_ids = {rw["id"] for rw in ev["rewards"]}
        self.assertEqual(len(rw_ids), 2, repr(ev))
        want = {("participant.created", a["id"]), ("participant.created", b_id),
                ("referral.created", ref_id), ("referral.qualified", ref_id),
                ("referral.rewarded", ref_id)}
        want |= {(t, x) for t in ("reward.created", "reward.issued") for x in rw_ids}

        def seen():
            return {(d.type, (d.json or {}).get("data", {}).get("id")) for d in self.rcv.got(path)}
        wait_until(lambda: want <= seen() and self.rcv.got(path, type="notification.created"))
        self.assertFalse(want - seen(), "not delivered: %s; got %r" % (want - seen(), self.rcv.got(path)))
        self.settle()  # the rest of this burst has arrived: nothing below may miss a late one
        now = s.clock_now()
        ds = self.rcv.got(path)
        self.assertSigned(ds)
        for d in ds:
            self.assertIsNotNone(d.json, "body not JSON: %r" % d.body[:200])
            self.assertEqual(set(d.json.keys()), {"id", "type", "created_at", "data"}, repr(d.json)[:500])
            self.assertEqual(d.json["id"], d.msg_id)
            self.assertRegex(d.msg_id, r"^msg_[A-Za-z0-9]+$")
            self.assertIn(d.type, EVENT_TYPES)
            self.assertTime(d.json["created_at"])
            self.assertEqual(int(d.headers["webhook-timestamp"]), int(now.timestamp()),
                             "webhook-timestamp is not the test clock: %r" % d)
            self.assertIn("application/json", d.headers.get("content-type", ""))
        # message ids are unique per event
        ids = [d.msg_id for d in ds]
        self.assertEqual(len(ids), len(set(ids)), "one message delivered twice: %r" % ds)

        # both participants announced, data is the participant as rendered
        pc = {d.json["data"]["id"]: d.json["data"] for d in self.rcv.got(path, type="participant.created")}
        self.assertIn(a["id"], pc)
        self.assertIn(b_id, pc)
        self.assertKeys(pc[b_id], PARTICIPANT_KEYS, "participant.created data")
        self.assertEqual(pc[b_id]["code"], sign["participant"]["code"])
        self.assertEqual(pc[b_id]["referred_by"], ref_id)
        # referral.*
        for t, status in (("referral.created", "pending"), ("referral.qualified", "qualified"),
                          ("referral.rewarded", "rewarded")):
            mine = [d for d in self.rcv.got(path, type=t) if d.json["data"].get("id") == ref_id]
            self.assertEqual(len(mine), 1, "%s for %s: %r" % (t, ref_id, self.rcv.got(path, type=t)))
            self.assertKeys(mine[0].json["data"], REFERRAL_KEYS, t + " data")
            self.assertEqual(mine[0].json["data"]["status"], status, t)
        final = s.referral(ref_id)
        rewarded = [d for d in self.rcv.got(path, type="referral.rewarded") if d.json["data"]["id"] == ref_id][0]
        self.assertEqual(rewarded.json["data"], final, "referral.rewarded data is not the referral as rendered")
        # rewards
        for t in ("reward.created", "reward.issued"):
            seen = {d.json["data"]["id"] for d in self.rcv.got(path, type=t)}
            self.assertTrue(rw_ids <= seen, "%s: want %s, saw %s" % (t, rw_ids, seen))
        for d in self.rcv.got(path, type="reward.issued"):
            if d.json["data"]["id"] in rw_ids:
                self.assertKeys(d.json["data"], REWARD_KEYS, "reward.issued data")
                self.assertEqual(d.json["data"]["status"], "issued")
                self.assertEqual(d.json["data"], s.get("/v1/rewards/" + d.json["data"]["id"]).body)

        # the delivery log: one 2xx attempt per message, never the receiver's body
        log = self.deliveries(ep["id"])
        for item in log:
            self.assertKeys(item, DELIVERY_KEYS, "delivery")
            self.assertIsInstance(item["latency_ms"], int)
            self.assertGreaterEqual(item["latency_ms"], 0)
        by_msg = {}
        for item in log:
            by_msg.setdefault(item["message"], []).append(item)
        for mid in ids:
            self.assertIn(mid, by_msg, "delivered message %s missing from the delivery log" % mid)
            att = by_msg[mid]
            self.assertEqual(len(att), 1, repr(att))
            self.assertEqual(att[0]["status_code"], 200)
            self.assertEqual(att[0]["attempt"], 1)
            self.assertIsNone(att[0]["error"])
            self.assertIsNone(att[0]["next_attempt_at"])
            self.assertEqual(parse_time(att[0]["attempted_at"]), now)
        self.assertNotLeaking(s.get("/v1/webhook_endpoints/" + ep["id"]).body)
        self.assertNotLeaking(s.list_all("/v1/webhook_endpoints"))

    def test_event_filter(self):
        s = self.s
        only, p_only = self.endpoint(events=["referral.qualified"])
        every, p_all = self.endpoint()
        prog = s.make_program()
        _, sign, _ = self.referral_flow(prog["id"])
        ref_id = sign["referral"]["id"]
        self.assertTrue(self.rcv.wait(p_all, type="referral.rewarded"), repr(self.rcv.got(p_all)))
        self.assertTrue(self.rcv.wait(p_only, type="referral.qualified"), repr(self.rcv.got(p_only)))
        self.settle()  # anything else for p_only would have arrived by now
        got = self.rcv.got(p_only)
        self.assertSigned(got)
        self.assertEqual([d.type for d in got], ["referral.qualified"], repr(got))
        self.assertEqual(got[0].json["data"]["id"], ref_id)
        self.assertGreater(len({d.type for d in self.rcv.got(p_all)}), 3)
        # the filtered endpoint's log lists only what it was sent
        self.assertEqual({d["type"] for d in self.deliveries(only["id"])}, {"referral.qualified"})

        # changing the filter applies to what happens after it
        r = s.patch("/v1/webhook_endpoints/" + only["id"], {"events": ["participant.created"]})
        self.assertStatus(r, 200)
        p = s.make_participant(prog["id"])
        self.rcv.wait(p_only, type="participant.created")
        pcs = self.rcv.got(p_only, type="participant.created")
        self.assertEqual([d.json["data"]["id"] for d in pcs], [p["id"]])

    def test_disabled_endpoint_gets_nothing(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created"])
        self.assertStatus(s.patch("/v1/webhook_endpoints/" + ep["id"], {"status": "disabled"}), 200)
        prog = s.make_program()
        s.make_participant(prog["id"])
        # a second, enabled endpoint gets the same kind of event
        _, p2 = self.endpoint(events=["participant.created"])
        s.make_participant(prog["id"])
        self.assertEqual(len(self.rcv.wait(p2)), 1, repr(self.rcv.got(p2)))
        self.settle()
        self.assertEqual(self.rcv.got(path), [])
        self.assertEqual(self.deliveries(ep["id"]), [])

    def test_deleted_endpoint_gets_nothing(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created"])
        self.assertStatus(s.delete("/v1/webhook_endpoints/" + ep["id"]), 200)
        _, p2 = self.endpoint(events=["participant.created"])
        prog = s.make_program()
        s.make_participant(prog["id"])
        self.assertEqual(len(self.rcv.wait(p2)), 1, repr(self.rcv.got(p2)))
        self.settle()
        self.assertEqual(self.rcv.got(path), [])

    def test_gone_disables_endpoint(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created"], answer=410)
        prog = s.make_program()
        s.make_participant(prog["id"])
        self.rcv.wait(path)
        ok = wait_until(lambda: s.get("/v1/webhook_endpoints/" + ep["id"]).body["status"] == "disabled")
        g = s.get("/v1/webhook_endpoints/" + ep["id"])
        self.assertTrue(ok, repr(g))
        self.assertEqual(g.body["status"], "disabled")
        self.assertEqual(g.body["disabled_reason"], "gone")
        self.assertNotLeaking(g.body)
        log = self.deliveries(ep["id"])
        self.assertEqual([x["status_code"] for x in log], [410], repr(log))
        # no retries and nothing new once disabled
        s.make_participant(prog["id"])
        s.clock_advance(400)
        self.settle()
        self.assertEqual(len(self.rcv.got(path)), 1, repr(self.rcv.got(path)))
        self.assertEqual([x["status_code"] for x in self.deliveries(ep["id"])], [410])

    def test_redirect_not_followed(self):
        s = self.s
        target = self.rcv.new_path()
        ep, path = self.endpoint(events=["participant.created"],
                                 answer=(302, {"Location": self.rcv.url(target)}))
        self.rcv.set_answer(target, 200)
        prog = s.make_program()
        s.make_participant(prog["id"])
        self.rcv.wait(path)
        # the attempt is logged once its transfer ended: a followed redirect would be in by then
        log = wait_until(lambda: self.deliveries(ep["id"]))
        self.assertTrue(log, "no attempt logged for the redirecting endpoint")
        self.assertEqual(self.rcv.got(target), [], "kith followed the redirect")
        self.assertEqual(len(log), 1, repr(log))
        self.assertEqual(log[0]["status_code"], 302)
        self.assertIsNotNone(log[0]["next_attempt_at"], "a 3xx must count as a failure: %r" % log)
        # 301, 307 and 308 too, each on its own retry: the clock moves to just past the scheduled
        # time (a fixed 400 s step stops short of the third retry, 30 min after the second)
        for i, code in enumerate((301, 307, 308)):
            self.rcv.set_answer(path, (code, {"Location": self.rcv.url(target)}))
            due = parse_time(max(log, key=lambda x: x["attempt"])["next_attempt_at"])
            s.clock_advance((due - s.clock_now()).total_seconds() + 1)
            log = wait_until(lambda: len(self.deliveries(ep["id"])) >= i + 2 and self.deliveries(ep["id"]))
            self.assertTrue(log, "retry %d (answered %d) never logged: %r"
                            % (i + 1, code, self.deliveries(ep["id"])))
            self.assertEqual([x["status_code"] for x in sorted(log, key=lambda x: x["attempt"])],
                             [302, 301, 307, 308][:i + 2], repr(log))
            self.assertEqual(self.rcv.got(target), [], "kith followed a %d redirect" % code)
        self.assertEqual(s.get("/v1/webhook_endpoints/" + ep["id"]).body["status"], "enabled")

    def test_retry_after_is_honoured(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created"],
                                 answer=(503, {"Retry-After": "120"}))
        prog = s.make_program()
        s.make_participant(prog["id"])
        first = self.rcv.wait(path)
        self.assertEqual(len(first), 1)
        log = wait_until(lambda: self.deliveries(ep["id"]))
        self.assertEqual(log[0]["status_code"], 503)
        self.assertEqual(parse_time(log[0]["next_attempt_at"]) - parse_time(log[0]["attempted_at"]),
                         kithtest._dt.timedelta(seconds=120), repr(log))
        self.rcv.set_answer(path, 200)
        s.clock_advance(10)  # past the normal 5 s, not past Retry-After
        self.settle()
        self.assertEqual(len(self.rcv.got(path)), 1, "retried before Retry-After")
        self.assertEqual(len(self.deliveries(ep["id"])), 1, "retried before Retry-After")
        s.clock_advance(111)
        got = self.rcv.wait(path, n=2)
        self.assertEqual(len(got), 2, repr(got))
        self.assertEqual(got[1].msg_id, first[0].msg_id)
        self.assertSigned(got)
        # a shorter Retry-After does not shorten the schedule (5 s stays 5 s)

    def test_what_counts_as_delivered(self):
        s = self.s
        ok204, p204 = self.endpoint(events=["participant.created"], answer=204)
        e400, p400 = self.endpoint(events=["participant.created"], answer=400)
        short, pshort = self.endpoint(events=["participant.created"], answer=(500, {"Retry-After": "1"}))
        # a receiver that is down: nothing listens on this port
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
        probe.close()
        r = s.post("/v1/webhook_endpoints", {"url": "http://127.0.0.1:%d/down" % dead_port,
                                             "events": ["participant.created"]})
        self.assertStatus(r, 201)
        down = r.body
        prog = s.make_program()
        s.make_participant(prog["id"])
        for p in (p204, p400, pshort):
            self.rcv.wait(p)
        logs = {}
        for name, eid in (("204", ok204["id"]), ("400", e400["id"]), ("short", short["id"]),
                          ("down", down["id"])):
            logs[name] = wait_until(lambda: self.deliveries(eid))
            self.assertTrue(logs[name], "no attempt logged for the %s endpoint" % name)
            self.assertEqual(len(logs[name]), 1, repr(logs[name]))
        l = logs["204"][0]
        self.assertEqual((l["status_code"], l["error"], l["next_attempt_at"]), (204, None, None), repr(l))
        l = logs["400"][0]
        self.assertEqual(l["status_code"], 400)
        self.assertEqual((parse_time(l["next_attempt_at"]) - parse_time(l["attempted_at"])).total_seconds(), 5,
                         "a 4xx is a failure retried after 5 s: %r" % l)
        l = logs["short"][0]
        self.assertEqual((parse_time(l["next_attempt_at"]) - parse_time(l["attempted_at"])).total_seconds(), 5,
                         "a shorter Retry-After does not shorten the delay: %r" % l)
        l = logs["down"][0]
        self.assertIsNone(l["status_code"], repr(l))
        self.assertIsInstance(l["error"], str, repr(l))
        self.assertTrue(l["error"])
        self.assertNotEqual(l["error"], "blocked_address", "loopback is allowed by KITH_WEBHOOK_ALLOW_CIDRS")
        self.assertIsNotNone(l["next_attempt_at"], repr(l))
        for ep in (ok204, e400, short, down):
            self.assertEqual(s.get("/v1/webhook_endpoints/" + ep["id"]).body["status"], "enabled")
        # 204 is done: advancing the clock sends nothing more; the 400 one is retried
        s.clock_advance(6)
        self.rcv.wait(p400, n=2)
        self.settle()
        self.assertEqual(len(self.rcv.got(p204)), 1)
        self.assertEqual(len(self.rcv.got(p400)), 2)
        self.assertEqual(len(self.deliveries(ok204["id"])), 1)

    def test_manual_retry(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created"])
        prog = s.make_program()
        s.make_participant(prog["id"])
        first = self.rcv.wait(path)
        mid = first[0].msg_id
        self.assertTrue(wait_until(lambda: self.deliveries(ep["id"])), "first attempt not logged")
        r = s.post("/v1/webhook_endpoints/%s/deliveries/%s/retry" % (ep["id"], mid))
        self.assertRetryScheduled(r, ep["id"], mid)
        self.assertNotLeaking(r.body)
        again = self.rcv.wait(path, n=2)
        self.assertEqual([d.msg_id for d in again], [mid, mid])
        self.assertEqual(again[0].body, again[1].body)
        self.assertSigned(again)
        # a message already scheduled for retry: 409
        self.rcv.set_answer(path, 500)
        s.make_participant(prog["id"])
        failing = self.rcv.wait(path, n=3)
        mid2 = failing[2].msg_id
        self.assertNotEqual(mid2, mid)
        # logged with a retry scheduled (not merely still being sent) before the 409 is asked for
        logged = wait_until(lambda: [x for x in self.deliveries(ep["id"]) if x["message"] == mid2])
        self.assertTrue(logged, "the failed attempt of %s was never logged" % mid2)
        self.assertIsNotNone(logged[0]["next_attempt_at"], repr(logged))
        self.assertError(s.post("/v1/webhook_endpoints/%s/deliveries/%s/retry" % (ep["id"], mid2)),
                         409, "invalid_state")
        self.assertError(s.post("/v1/webhook_endpoints/%s/deliveries/msg_nope/retry" % ep["id"]),
                         404, "not_found")


class RetryScheduleTest(WebhookCase):
    def test_seven_retries_then_failed(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created"], answer=500)
        prog = s.make_program()
        p = s.make_participant(prog["id"])
        got = self.rcv.wait(path)
        self.assertEqual(len(got), 1, repr(got))
        mid = got[0].msg_id
        body = got[0].body
        self.assertEqual(got[0].json["data"]["id"], p["id"])
        for i, delay in enumerate(RETRY_DELAYS):
            n = i + 1  # attempts so far
            log = wait_until(lambda: len(self.deliveries(ep["id"])) >= n and self.deliveries(ep["id"]))
            self.assertEqual(len(log), n, repr(log))
            last = max(log, key=lambda x: x["attempt"])
            self.assertEqual(last["attempt"], n)
            self.assertEqual(last["status_code"], 500)
            self.assertIsNotNone(last["next_attempt_at"], "attempt %d: no retry scheduled: %r" % (n, last))
            gap = (parse_time(last["next_attempt_at"]) - parse_time(last["attempted_at"])).total_seconds()
            if i == 0:
                self.assertEqual(gap, delay, "first retry is 5 s without jitter: %r" % last)
            else:
                self.assertGreaterEqual(gap, math.floor(delay * 0.9), "retry %d: %r" % (n, last))
                self.assertLessEqual(gap, math.ceil(delay * 1.1), "retry %d: %r" % (n, last))
            # not before it is due
            if gap > 2:
                s.clock_advance(gap - 2)
                self.settle()
                self.assertEqual(len(self.rcv.got(path)), n, "retry %d came early" % (n + 1))
                self.assertEqual(len(self.deliveries(ep["id"])), n, "retry %d came early" % (n + 1))
                s.clock_advance(3)
            else:
                s.clock_advance(gap + 1)
            got = self.rcv.wait(path, n=n + 1)
            self.assertEqual(len(got), n + 1, "retry %d did not start after the clock call: %r" % (n, got))
            now = s.clock_now()
            self.assertEqual(got[-1].msg_id, mid)
            self.assertEqual(got[-1].body, body, "a retry must send the same body")
            self.assertEqual(int(got[-1].headers["webhook-timestamp"]), int(now.timestamp()))
        self.assertSigned(self.rcv.got(path))
        # 8 attempts in all, the last one leaves nothing scheduled: the message is failed
        log = wait_until(lambda: len(self.deliveries(ep["id"])) >= 8 and self.deliveries(ep["id"]))
        self.assertEqual(sorted(x["attempt"] for x in log), list(range(1, 9)), repr(log))
        self.assertEqual({x["message"] for x in log}, {mid})
        last = max(log, key=lambda x: x["attempt"])
        self.assertIsNone(last["next_attempt_at"], repr(last))
        s.clock_advance(48 * 3600)
        self.settle()
        self.assertEqual(len(self.rcv.got(path)), 8)
        self.assertEqual(len(self.deliveries(ep["id"])), 8)
        # a failed message can be re-sent by hand, same id
        self.rcv.set_answer(path, 200)
        r = s.post("/v1/webhook_endpoints/%s/deliveries/%s/retry" % (ep["id"], mid))
        self.assertRetryScheduled(r, ep["id"], mid)
        got = self.rcv.wait(path, n=9)
        self.assertEqual(len(got), 9)
        self.assertEqual(got[-1].msg_id, mid)
        self.assertSigned(got)
        log = wait_until(lambda: any(x["status_code"] == 200 for x in self.deliveries(ep["id"])) and self.deliveries(ep["id"]))
        self.assertTrue(log, "manual retry not in the log")
        self.assertEqual(s.get("/v1/webhook_endpoints/" + ep["id"]).body["status"], "enabled")


class BlockedAddressTest(WebhookCase):
    """Without KITH_WEBHOOK_ALLOW_CIDRS, loopback receivers are refused at connect time."""

    server_kwargs = {"test_clock": True, "env": {"KITH_WEBHOOK_ALLOW_CIDRS": ""}}
    with_barrier = False  # a barrier on the loopback receiver would be refused too

    def test_loopback_refused(self):
        s = self.s
        hosts = ["127.0.0.1", "localhost", "127.1.2.3", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"]
        eps = []
        for h in hosts:
            path = self.rcv.new_path()
            url = "http://%s:%d%s" % (h, self.rcv.port, path)
            r = s.post("/v1/webhook_endpoints", {"url": url, "events": ["participant.created"]})
            if r.status == 400:
                # refusing at creation is stricter than required; still never contacted
                continue
            self.assertStatus(r, 201)
            eps.append((r.body["id"], path, h))
        self.assertTrue(eps, "every loopback endpoint was refused at creation")
        prog = s.make_program()
        s.make_participant(prog["id"])
        for eid, path, h in eps:
            log = wait_until(lambda: self.deliveries(eid))
            self.assertTrue(log, "no delivery attempt logged for %s" % h)
            self.assertEqual(log[0]["error"], "blocked_address", "%s: %r" % (h, log))
            self.assertIsNone(log[0]["status_code"], "%s: %r" % (h, log))
        self.assertEqual(self.rcv.got(), [], "kith contacted a loopback receiver")
        # the retries (due after 5 s) are refused too: each is logged once its connect failed
        s.clock_advance(10)
        for eid, path, h in eps:
            log = wait_until(lambda: len(self.deliveries(eid)) >= 2 and self.deliveries(eid))
            self.assertTrue(log, "no retry logged for %s: %r" % (h, self.deliveries(eid)))
            self.assertEqual([x["error"] for x in log], ["blocked_address"] * 2, "%s: %r" % (h, log))
        self.assertEqual(self.rcv.got(), [], "kith contacted a loopback receiver")


class OutboxDurabilityTest(WebhookCase):
    def test_pending_deliveries_survive_kill9(self):
        s = self.s
        ep, path = self.endpoint(events=["participant.created", "referral.created"], answer=500)
        prog = s.make_program()
        ref = s.make_participant(prog["id"])
        made = [ref["id"]]
        referrals = []
        for i in range(6):
            r = s.signup(prog["id"], code=ref["code"])
            self.assertStatus(r, 201)
            made.append(r.body["participant"]["id"])
            referrals.append(r.body["referral"]["id"])
        # the first attempts fail with 500 (retry scheduled for +5 s)
        self.rcv.wait(path, n=len(made) + len(referrals))
        seen_before = {d.msg_id: d.json["data"]["id"] for d in self.rcv.got(path)}
        self.assertEqual(len(seen_before), len(made) + len(referrals), repr(self.rcv.got(path)))
        # more changes right before the kill: they may not have been attempted at all
        late = [s.make_participant(prog["id"])["id"] for _ in range(4)]
        s.kill9()
        self.rcv.set_answer(path, 200)
        n_before = len(self.rcv.got(path))
        s.restart()
        s.clock_advance(6)
        expect_objs = set(made + referrals + late)

        def delivered_objs():
            return {d.json["data"]["id"] for d in self.rcv.got(path)[n_before:]}
        self.settle()
        missing = expect_objs - delivered_objs()
        if missing:
            # One more due round, past the lease of an attempt that was in flight at the kill
            # (claimed, never recorded: kith tries it again when its 30 s claim runs out) and past
            # the 5 s retry of a late event's first attempt that failed just before the kill.
            s.clock_advance(60)
            self.settle()
            missing = expect_objs - delivered_objs()
        self.assertFalse(missing, "events committed before kill -9 never delivered: %s" % missing)
        after = self.rcv.got(path)[n_before:]
        self.assertSigned(after)
        ok_ids = {d.msg_id for d in after}
        for mid, obj in seen_before.items():
            self.assertIn(mid, ok_ids, "message %s (for %s) was not redelivered with its id" % (mid, obj))
        # at least once, and no invented events: only our objects, one message id each
        by_obj = {}
        for d in self.rcv.got(path):
            by_obj.setdefault(d.json["data"]["id"], set()).add(d.msg_id)
        for obj, mids in by_obj.items():
            self.assertIn(obj, expect_objs, "an event nobody made: %s" % obj)
            self.assertEqual(len(mids), 1, "one change, several message ids: %s %s" % (obj, mids))
        log = self.deliveries(ep["id"])
        self.assertTrue(any(x["status_code"] == 200 for x in log))


if __name__ == "__main__":
    kithtest.main()
