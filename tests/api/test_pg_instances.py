"""Several kith instances on one PostgreSQL database (docs/postgresql.md), raced over HTTP.

Only in the PostgreSQL run (KITH_TEST_PG_URL, see kithtest.py); skipped otherwise. Two
`kith serve` processes share one fresh database, and every race spreads its requests over both:

- 32 concurrent signups of the same person with a ref: one participant, one referral;
- 20 concurrent copies of one provider event: one reward per side (and 20 different events for
  one referral: still one reward per side);
- six qualifications of one referrer's referrals at once: tiers and the cap counted right;
  eight signups through one referrer at once: the velocity flag counted right;
- the same Idempotency-Key sent concurrently to both: one effect, the rest replays or 409;
- clicks counted on both instances, each batching its own;
- a webhook endpoint gets every message exactly once although both instances run the worker,
  also while the other instance restarts during a delivery; when the sending instance is
  killed mid-delivery, the survivor delivers the message again (once);
- kill -9 of one instance under concurrent signups: every acknowledged signup exists exactly
  once, the survivor keeps answering, and retrying the unknown outcomes converges;
- two instances started at the same moment on an empty database both come up and share the
  keyed-hash secret.

No answer may be a 5xx. The test clock is not used (each instance would have its own).
"""

import http.server
import json
import os
import threading
import time

import kithtest
from kithtest import KithTestCase, Server, ServerDied, pg_only, uid

ALLOW_ENV = {"KITH_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8"}


def race(n, fn):
    """Runs fn(i) for i in 0..n-1 in n threads released together -> list of results (or the
    exception each raised)."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def run(i):
        try:
            barrier.wait(30)
            out[i] = fn(i)
        except BaseException as e:  # reported by the caller
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for i, t in enumerate(threads):
        if t.is_alive():
            out[i] = AssertionError("request still running after 90 s")
    return out


class CountingReceiver:
    """A loopback webhook receiver that checks nothing and counts deliveries by webhook-id, on
    arrival. With stall > 0 the first request of each message is held that many seconds before
    the 200 (a slow receiver: the delivery stays in flight meanwhile)."""

    def __init__(self, stall=0.0):
        self.lock = threading.Lock()
        self.by_id = {}      # webhook-id -> number of requests that arrived
        self.types = {}      # webhook-id -> event type
        self.ports = {}      # webhook-id -> kith's source ports, in arrival order
        self.stall = stall
        self.inflight = 0    # requests arrived and not answered yet
        self.last = time.monotonic()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                mid = self.headers.get("webhook-id") or "(none)"
                try:
                    typ = json.loads(body.decode()).get("type")
                except Exception:
                    typ = None
                with rec.lock:
                    rec.by_id[mid] = rec.by_id.get(mid, 0) + 1
                    first = rec.by_id[mid] == 1
                    rec.types[mid] = typ
                    rec.ports.setdefault(mid, []).append(self.client_address[1])
                    rec.last = time.monotonic()
                    rec.inflight += 1
                    stall = rec.stall if first else 0
                try:
                    if stall:
                        time.sleep(stall)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    with rec.lock:
                        rec.inflight -= 1
                        rec.last = time.monotonic()

        class Quiet(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # kith opens many connections at once (backlog 5: 1 s waits)

            def handle_error(self, request, client_address):
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def snapshot(self):
        with self.lock:
            return dict(self.by_id), dict(self.types), self.last

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def deliveries(srv, where):
    """PostgreSQL, behind the API: (rows, rows not yet `delivered`) of webhook_deliveries WHERE
    `where`. A row is `delivered` once its successful attempt is recorded, which kith does after
    the receiver answered: by then the request has arrived."""
    out = srv.pg("SELECT count(*), count(*) FILTER (WHERE status <> 'delivered')"
                 " FROM webhook_deliveries WHERE " + where)
    total, undelivered = (int(x) for x in out.strip().split("|"))
    return total, undelivered


def settle_deliveries(servers, where, minimum=1, timeout=45.0):
    """Waits until at least `minimum` deliveries match `where`, all of them delivered, and no
    instance has a transfer queued or running (a second copy of a message would be one); returns
    the number of deliveries. After this, a message sent twice has arrived twice."""
    def done():
        total, undelivered = deliveries(servers[0], where)
        return total if total >= minimum and undelivered == 0 else None
    total = kithtest.poll(done, timeout, "%d+ deliveries (%s) all delivered" % (minimum, where),
                          interval=0.2)
    for srv in servers:
        if srv.running():
            srv.settle_sender()
    return total


def owner_of_local_port(port, servers):
    """The server whose process holds the loopback TCP socket with local port `port` (Linux
    /proc), or None: tells which instance is sending a webhook."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(cols[9])
        except OSError:
            pass
    for srv in servers:
        if srv.proc is None:
            continue
        fd_dir = "/proc/%d/fd" % srv.proc.pid
        try:
            for fd in os.listdir(fd_dir):
                try:
                    link = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return srv
        except OSError:
            pass
    return None


@pg_only
class FirstStartTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = cls.s = None

    def test_00_two_instances_start_together_on_an_empty_database(self):
        # A fresh deployment starts all its instances at once: every one must come up, and they
        # must share the keyed-hash secret made at first start (same_ip across instances).
        for round_ in range(4):
            a = Server(test_clock=False, start=False)
            b = Server(test_clock=False, start=False, shared_db_of=a)
            try:
                res = race(2, lambda i: (a, b)[i].start())
                bad = [str(r) for r in res if isinstance(r, BaseException)]
                self.assertEqual(bad, [], "round %d: an instance failed to start next to another "
                                 "on an empty database" % round_)
                prog = a.make_program(fraud={"review_at": 7, "reject_at": 8})
                jane = a.make_participant(prog["id"], "Jane", ip="198.51.100.9")
                r = b.signup(prog["id"], ref=jane["code"], ip="198.51.100.9")
                self.assertStatus(r, 201)
                self.assertIn("same_ip", r.body["referral"]["fraud"]["flags"],
                              "round %d: the instances hash IPs with different keys: %r"
                              % (round_, r.body["referral"]))
            finally:
                for srv in (a, b):
                    if srv.proc is not None:
                        srv.stop()


@pg_only
class TwoInstancesTest(KithTestCase):
    """Two instances, a and b, on one database for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.a = Server(test_clock=False, env=ALLOW_ENV)
        cls.b = Server(test_clock=False, env=ALLOW_ENV, shared_db_of=cls.a)
        cls.server = cls.s = cls.a
        cls.both = [cls.a, cls.b]

    @classmethod
    def tearDownClass(cls):
        for srv in (getattr(cls, "b", None), getattr(cls, "a", None)):
            if srv is not None and srv.proc is not None:
                srv.stop()

    def setUp(self):
        self.t0 = time.monotonic()

    def tearDown(self):
        took = time.monotonic() - self.t0
        self.assertLess(took, 60, "%s took %.1f s (bound: 60 s)" % (self.id(), took))

    def assertAll2xx(self, results, allowed=(200, 201), what="answers"):
        bad = [r for r in results if isinstance(r, BaseException) or r.status not in allowed]
        self.assertEqual(bad, [], "%s outside %r (a 5xx is a bug)" % (what, allowed))

    def test_01_same_database(self):
        prog = self.a.make_program()
        self.assertEqual(self.b.get("/v1/programs/" + prog["id"]).body, prog,
                         "b does not see the program a created: not one database?")
        self.assertTrue(self.a.is_pg and self.b.is_pg)
        self.assertEqual(self.a.db, self.b.db)

    def test_02_concurrent_signups_of_one_person_make_one_referral(self):
        prog = self.a.make_program()
        pid = prog["id"]
        jane = self.a.make_participant(pid, "Jane")
        for round_ in range(3):
            ext = uid("race")
            body = {"program": pid, "external_id": ext, "first_name": "Sam", "ref": jane["code"],
                    "email": "%s@example.com" % ext}
            res = race(32, lambda i: self.both[i % 2].post("/v1/signups", body))
            self.assertAll2xx(res, what="round %d: concurrent signups" % round_)
            created = [r for r in res if r.status == 201]
            self.assertEqual(len(created), 1, "round %d: expected exactly one 201 (the rest 200, "
                             "the existing participant): %r" % (round_, [r.status for r in res]))
            pars = {r.body["participant"]["id"] for r in res}
            self.assertEqual(len(pars), 1, "round %d: different participants answered: %r"
                             % (round_, sorted(pars)))
            refs = {(r.body["referral"] or {}).get("id") for r in res}
            self.assertEqual(len(refs), 1, "round %d: different referrals answered: %r" % (round_, refs))
            self.assertIsNotNone(refs.pop(), "round %d: no referral: %r" % (round_, created[0]))
            for srv in self.both:
                r = srv.get("/v1/participants?program=%s&external_id=%s" % (pid, ext))
                self.assertEqual(len(self.assertList(r)), 1, "round %d on :%d: %r" % (round_, srv.port, r))
        for srv in self.both:
            referrals = srv.list_all("/v1/referrals?program=%s&referrer=%s" % (pid, jane["id"]))
            self.assertEqual(len(referrals), 3, "one referral per person expected: %r" % referrals)
            self.assertEqual(len({x["referred"]["id"] for x in referrals}), 3)
            self.assertEqual(srv.participant(jane["id"])["stats"]["signups"], 3)

    def test_03_concurrent_copies_of_one_event_make_one_reward_per_side(self):
        prog = self.a.make_program()
        pid = prog["id"]
        jane = self.a.make_participant(pid, "Jane")
        sam = self.b.signup(pid, ref=jane["code"])
        self.assertStatus(sam, 201)
        ref_id = sam.body["referral"]["id"]
        ext = sam.body["participant"]["external_id"]
        body = {"program": pid, "type": "purchase", "external_id": ext, "amount": 12000,
                "currency": "USD", "id": "in_" + uid("evt").replace("-", "")}
        res = race(20, lambda i: self.both[i % 2].post("/v1/events", body))
        self.assertAll2xx(res, what="concurrent copies of one event")
        self.assertEqual(len([r for r in res if r.status == 201]), 1,
                         "expected one 201, the copies 200: %r" % [r.status for r in res])
        self.assertEqual(len({r.body["event"]["id"] for r in res}), 1,
                         "copies answered with different events: %r" % res)
        for srv in self.both:
            rewards = srv.rewards(program=pid)
            self.assertEqual(sorted(w["to"] for w in rewards), ["referred", "referrer"],
                             "one reward per side expected on :%d: %r" % (srv.port, rewards))
            self.assertEqual(srv.referral(ref_id)["status"], "rewarded")

        # 20 different qualifying events for one referral, concurrently: still one per side.
        tom = self.a.signup(pid, ref=jane["code"], first_name="Tom")
        self.assertStatus(tom, 201)
        tom_ext = tom.body["participant"]["external_id"]
        res = race(20, lambda i: self.both[i % 2].post("/v1/events", {
            "program": pid, "type": "purchase", "external_id": tom_ext, "amount": 12000,
            "currency": "USD", "id": "in_%d_%s" % (i, uid("e").replace("-", ""))}))
        self.assertAll2xx(res, what="concurrent different qualifying events")
        for srv in self.both:
            mine = [w for w in srv.rewards(program=pid) if w["referral"] == tom.body["referral"]["id"]]
            self.assertEqual(sorted(w["to"] for w in mine), ["referred", "referrer"],
                             "at most one reward per (referral, side) on :%d: %r" % (srv.port, mine))
        created = [w for r in res for w in r.body.get("rewards", [])]
        self.assertEqual(len(created), 2, "rewards reported as created by the 20 events: %r" % created)

    def test_03b_referrer_tiers_and_cap_counted_once_across_instances(self):
        # Six referred people of one referrer qualify at once, on both instances: the referrer's
        # N-th rewarded referral must get the N-th tier, and the cap must hold.
        prog = self.a.make_program(rewards=[
            {"to": "referrer", "kind": "credit", "amount": 100, "currency": "USD", "from_count": 1, "to_count": 1},
            {"to": "referrer", "kind": "credit", "amount": 200, "currency": "USD", "from_count": 2, "to_count": 2},
            {"to": "referrer", "kind": "credit", "amount": 300, "currency": "USD", "from_count": 3}],
            max_rewards_per_referrer=4)
        pid = prog["id"]
        jane = self.a.make_participant(pid, "Jane")
        people = []
        for i in range(6):
            r = self.both[i % 2].signup(pid, ref=jane["code"])
            self.assertStatus(r, 201)
            people.append(r.body["participant"])
        res = race(6, lambda i: self.both[i % 2].event(pid, people[i]["external_id"],
                                                       id="in_t%d_%s" % (i, uid("x").replace("-", ""))))
        self.assertAll2xx(res, allowed=(201,), what="concurrent qualifying events")
        for srv in self.both:
            amounts = sorted(x["amount"] for x in srv.rewards(program=pid, participant=jane["id"]))
            self.assertEqual(amounts, [100, 200, 300, 300],
                             "referrer's rewards (tiers 1, 2, 3+ and max 4) as seen from :%d"
                             % srv.port)

    def test_03c_velocity_counted_across_instances(self):
        # Eight people signing up through one referrer at once, on both instances, with
        # velocity_per_day 3: whatever the order, the 4th to 8th referral each had 3 or more
        # before them, so exactly 5 carry the velocity flag.
        prog = self.a.make_program(fraud={"velocity_per_day": 3, "review_at": 7, "reject_at": 8})
        pid = prog["id"]
        for round_ in range(3):  # a fresh referrer each round: the race is not always lost
            jane = self.a.make_participant(pid, "Jane")
            res = race(8, lambda i: self.both[i % 2].signup(pid, ref=jane["code"]))
            self.assertAll2xx(res, allowed=(201,), what="concurrent signups")
            flags = [r.body["referral"]["fraud"]["flags"] for r in res]
            self.assertEqual(len([f for f in flags if "velocity" in f]), 5,
                             "round %d: velocity flags on 8 concurrent referrals of one referrer "
                             "(velocity_per_day 3): %r" % (round_, flags))

    def test_04_one_idempotency_key_on_both_instances(self):
        prog = self.a.make_program()
        key = uid("idem")
        body = {"program": prog["id"], "external_id": uid("u"), "first_name": "Ida"}
        res = race(16, lambda i: self.both[i % 2].post("/v1/participants", body,
                                                       headers={"Idempotency-Key": key}))
        self.assertAll2xx(res, allowed=(201, 409), what="same Idempotency-Key")
        for r in res:
            if r.status == 409:
                self.assertEqual(r.body["error"]["code"], "idempotency_key_in_use", repr(r))
        ok = [r for r in res if r.status == 201]
        first = [r for r in ok if r.headers.get("idempotent-replayed") != "true"]
        self.assertEqual(len(first), 1, "exactly one answer should be the original (the rest "
                         "replays or 409): %r" % [(r.status, r.headers.get("idempotent-replayed"))
                                                  for r in res])
        for r in ok:
            self.assertEqual(r.body, first[0].body, "a replay differs from the original")
        # settled: both instances now replay it
        for srv in self.both:
            r = srv.post("/v1/participants", body, headers={"Idempotency-Key": key})
            self.assertStatus(r, 201)
            self.assertEqual(r.headers.get("idempotent-replayed"), "true", repr(r))
            self.assertEqual(r.body, first[0].body)

    def test_05_clicks_on_both_instances_are_all_counted(self):
        prog = self.a.make_program()
        jane = self.a.make_participant(prog["id"], "Jane")
        res = race(20, lambda i: self.both[i % 2].click(jane["code"]))
        self.assertAll2xx(res, allowed=(302,), what="clicks")
        cids = {r.headers["set-cookie"].split(";")[0].split("=", 1)[1] for r in res}
        self.assertEqual(len(cids), 20, "click ids must be distinct")
        for srv in self.both:
            self.wait_for(lambda: srv.participant(jane["id"])["stats"]["clicks"] == 20,
                          timeout=10, what="20 clicks counted as seen from :%d" % srv.port)
        # a click recorded by one instance attributes a signup on the other
        by_a = [r for i, r in enumerate(res) if i % 2 == 0][0]
        cid = by_a.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        r = self.b.signup(prog["id"], click_id=cid)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["attribution"]["source"], "cookie", repr(r))

    def test_06_each_webhook_message_delivered_once_with_two_workers(self):
        rcv = CountingReceiver()
        try:
            r = self.a.post("/v1/webhook_endpoints", {"url": rcv.url()})
            self.assertStatus(r, 201)
            eid = r.body["id"]
            prog = self.b.make_program()
            pid = prog["id"]
            jane = self.a.make_participant(pid, "Jane")
            # traffic on both instances while both workers poll the outbox
            res = race(12, lambda i: self.both[i % 2].signup(pid, ref=jane["code"],
                                                             first_name="W%d" % i))
            self.assertAll2xx(res, allowed=(201,), what="signups")
            exts = [r.body["participant"]["external_id"] for r in res]
            res = race(6, lambda i: self.both[(i + 1) % 2].event(pid, exts[i], id="in_wh_%d_%s"
                                                                   % (i, uid("x").replace("-", ""))))
            self.assertAll2xx(res, allowed=(201,), what="events")
            # at least participant.created + referral.created per signup, plus qualification
            minimum = 12 * 2 + 6
            total = settle_deliveries(self.both, "endpoint = '%s'" % eid, minimum)
            by_id, types, _ = rcv.snapshot()
            self.assertGreaterEqual(len(by_id), minimum, "too few messages arrived: %r" % types)
            self.assertEqual(len(by_id), total, "every delivered message arrived, no other: %r" % types)
            self.assertNotIn("(none)", by_id, "a delivery without webhook-id")
            dup = {m: (n, types.get(m)) for m, n in by_id.items() if n != 1}
            self.assertEqual(dup, {}, "messages delivered more than once (id: (count, type))")
            # the endpoint's own log agrees: one successful attempt per message
            for srv in self.both:
                attempts = srv.list_all("/v1/webhook_endpoints/%s/deliveries" % eid)
                ok = [d for d in attempts if d.get("status_code") == 200]
                msgs = [d["message"] for d in ok]
                self.assertEqual(len(msgs), len(set(msgs)),
                                 "several successful attempts for one message on :%d" % srv.port)
                self.assertEqual(set(msgs), set(by_id), "deliveries log vs what arrived")
        finally:
            rcv.close()


@pg_only
class InFlightDeliveryTest(KithTestCase):
    """A delivery one instance is sending when the other instance (re)starts or it dies."""

    @classmethod
    def setUpClass(cls):
        cls.server = cls.s = None

    def setUp(self):
        self.t0 = time.monotonic()
        self.rcv = None
        self.pair = []

    def tearDown(self):
        for srv in self.pair:
            if srv.proc is not None:
                srv.stop()
        if self.rcv is not None:
            self.rcv.close()
        took = time.monotonic() - self.t0
        self.assertLess(took, 60, "%s took %.1f s (bound: 60 s)" % (self.id(), took))

    def start_in_flight(self, stall):
        """Two instances and an endpoint on a receiver that holds each message's first request
        `stall` seconds; one participant.created message is made and its first request is in
        flight -> (message id, sending instance, the other instance)."""
        self.rcv = CountingReceiver(stall=stall)
        a = Server(test_clock=False, env=ALLOW_ENV)
        b = Server(test_clock=False, env=ALLOW_ENV, shared_db_of=a)
        self.pair = [a, b]
        r = a.post("/v1/webhook_endpoints", {"url": self.rcv.url(),
                                             "events": ["participant.created"]})
        self.assertStatus(r, 201)
        prog = a.make_program()
        a.make_participant(prog["id"], "Flo")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            by_id, _, _ = self.rcv.snapshot()
            if by_id:
                break
            time.sleep(0.05)
        self.assertEqual(len(by_id), 1, "the participant.created delivery never arrived")
        mid = list(by_id)[0]
        with self.rcv.lock:
            port = self.rcv.ports[mid][0]
        sender = owner_of_local_port(port, self.pair)
        self.assertIsNotNone(sender, "could not tell which instance sends (source port %d)" % port)
        other = b if sender is a else a
        return mid, sender, other

    def test_07_restart_of_the_other_instance_does_not_resend(self):
        # A rolling restart: while one instance waits for the receiver's answer, the other is
        # stopped and started again. The message must still arrive exactly once.
        mid, sender, other = self.start_in_flight(stall=5.0)
        other.stop()
        other.start()
        # once the stalled request is answered and recorded, and neither instance sends anything
        settle_deliveries(self.pair, "message = '%s'" % mid)
        by_id, types, _ = self.rcv.snapshot()
        self.assertEqual(by_id, {mid: 1}, "the restarted instance sent the other's in-flight "
                         "delivery again (the delivery was `sending`, not lost)")

    def test_08_killed_senders_delivery_is_retried_by_the_survivor(self):
        # The sender dies mid-request: the survivor, which keeps running (no restart anywhere),
        # must deliver the message again (at least once), and only once more.
        mid, sender, other = self.start_in_flight(stall=40.0)
        sender.kill9()
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            by_id, _, _ = self.rcv.snapshot()
            if by_id.get(mid, 0) >= 2:
                break
            time.sleep(0.2)
        by_id, _, _ = self.rcv.snapshot()
        self.assertGreaterEqual(by_id.get(mid, 0), 2, "the survivor never retried the delivery "
                                "the killed instance had in flight (stuck as `sending`?)")
        # once the survivor recorded it delivered and sends nothing more
        settle_deliveries([other], "message = '%s'" % mid)
        by_id, _, _ = self.rcv.snapshot()
        self.assertEqual(by_id.get(mid), 2, "delivered again more than once after the kill")
        self.assertTrue(other.running())


class Writers:
    """Threads sending signups with unique external ids, alternating between instances. A
    request to a dead instance counts as unknown and that instance is not used again."""

    def __init__(self, servers, program, code, threads=6):
        self.servers = servers
        self.program = program
        self.code = code
        self.lock = threading.Lock()
        self.attempted = set()
        self.acked = {}          # external_id -> (participant id, referral id, server port)
        self.bad = []            # non-2xx answers
        self.dead = set()        # ports found dead
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def run(self, tid):
        i = 0
        while not self.stop.is_set():
            with self.lock:
                alive = [s for s in self.servers if s.port not in self.dead]
            if not alive:
                return
            srv = alive[(tid + i) % len(alive)]
            ext = "pgk-%d-%d-%s" % (tid, i, uid("x"))
            i += 1
            with self.lock:
                self.attempted.add(ext)
            try:
                r = srv.request("POST", "/v1/signups", body={
                    "program": self.program, "external_id": ext, "first_name": "Kay",
                    "ref": self.code}, timeout=30)
            except (ServerDied, OSError):
                with self.lock:
                    self.dead.add(srv.port)
                continue
            with self.lock:
                if r.status in (200, 201):
                    self.acked[ext] = (r.body["participant"]["id"],
                                       (r.body["referral"] or {}).get("id"), srv.port)
                else:
                    self.bad.append(repr(r))

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)


@pg_only
class KillOneInstanceTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = cls.s = None

    def test_kill9_one_instance_under_load(self):
        t0 = time.monotonic()
        a = Server(test_clock=False)
        b = Server(test_clock=False, shared_db_of=a)
        try:
            self._story(a, b)
        finally:
            for srv in (a, b):
                if srv.proc is not None:
                    srv.stop()
        took = time.monotonic() - t0
        self.assertLess(took, 60, "took %.1f s (bound: 60 s)" % took)

    def _story(self, a, b):
        prog = a.make_program()
        pid = prog["id"]
        jane = b.make_participant(pid, "Jane")
        w = Writers([a, b], pid, jane["code"])
        w.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(w.acked) < 120:
            time.sleep(0.05)
        a_port = a.port
        a.kill9()
        # the survivor keeps taking signups after its sibling died mid-transaction
        with w.lock:
            n_at_kill = len(w.acked)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with w.lock:
                after = sum(1 for v in w.acked.values() if v[2] == b.port)
                done = len(w.acked) >= n_at_kill + 30 and a_port in w.dead
            if done:
                break
            time.sleep(0.05)
        w.join()
        self.assertEqual(w.bad, [], "non-2xx answers (the survivor must not fail)")
        self.assertGreater(len(w.acked), 20, "too few signups acknowledged")
        self.assertGreaterEqual(len(w.acked), n_at_kill + 30,
                                "the survivor stopped acknowledging signups after the kill")
        a.restart()

        for srv in (a, b):
            # every acknowledged signup exists exactly once, with its referral
            for ext, (par_id, ref_id, _) in sorted(w.acked.items()):
                r = srv.get("/v1/participants?program=%s&external_id=%s" % (pid, ext))
                data = self.assertList(r)
                self.assertEqual(len(data), 1, "acknowledged %s on :%d: %r" % (ext, srv.port, data))
                self.assertEqual(data[0]["id"], par_id)
                self.assertEqual(data[0]["referred_by"], ref_id)
                self.assertIsNotNone(ref_id)
        everyone = b.list_all("/v1/participants?program=" + pid, limit=200)
        exts = [p["external_id"] for p in everyone]
        self.assertEqual(len(exts), len(set(exts)), "duplicate participants")
        self.assertEqual(len({p["code"] for p in everyone}), len(everyone), "duplicate codes")
        self.assertTrue(set(exts) <= w.attempted | {jane["external_id"]},
                        "participants nobody asked for: %r" % (set(exts) - w.attempted))
        referrals = b.list_all("/v1/referrals?program=%s&referrer=%s" % (pid, jane["id"]), limit=200)
        referred = [r["referred"]["id"] for r in referrals]
        self.assertEqual(len(referred), len(set(referred)), "a person referred twice")
        self.assertEqual(len([p for p in everyone if p["referred_by"]]), len(referrals))

        # retrying the unknown outcomes, on both instances, converges to exactly one of each
        unknown = sorted(w.attempted - set(w.acked))
        for i, ext in enumerate(unknown):
            r = (a, b)[i % 2].post("/v1/signups", {"program": pid, "external_id": ext,
                                                   "first_name": "Kay", "ref": jane["code"]})
            # either is right: the kill may or may not have come after this signup committed
            self.assertIn(r.status, (200, 201), repr(r))
            self.assertIsNotNone(r.body["referral"], repr(r))
        total = b.list_all("/v1/referrals?program=%s&referrer=%s" % (pid, jane["id"]), limit=200)
        self.assertEqual(len(total), len(w.attempted))
        self.assertEqual(a.participant(jane["id"])["stats"]["signups"], len(w.attempted))



@pg_only
class DatabaseAwayTest(KithTestCase):
    """PostgreSQL drops kith's connections: answers are 2xx or 503 with Retry-After, never a 500,
    and kith reconnects by itself."""

    @classmethod
    def setUpClass(cls):
        cls.server = cls.s = Server(test_clock=False)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_connections_killed_under_requests(self):
        s = self.s
        prog = s.make_program()
        seen = []
        for round_ in range(3):
            # Every backend of this database except psql's own goes away at once.
            s.pg("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                 " WHERE datname = current_database() AND pid <> pg_backend_pid()")
            for i in range(5):
                r = s.post("/v1/participants", {"program": prog["id"],
                                                "external_id": uid("away%d-%d" % (round_, i)),
                                                "first_name": "Ada"})
                seen.append(r.status)
                # a fresh external_id: 201, or 503 while the database is away (never 200)
                self.assertIn(r.status, (201, 503), r)
                if r.status == 503:
                    self.assertEqual(r.body["error"]["code"], "unavailable", r)
                    self.assertIn("retry-after", r.headers, r)
        # After the storm every request works again.
        r = s.post("/v1/participants", {"program": prog["id"], "external_id": uid("after"),
                                        "first_name": "Ada"})
        self.assertStatus(r, 201)
        r = s.get("/healthz", key=None)
        self.assertStatus(r, 200)
        self.assertTrue(s.running())


if __name__ == "__main__":
    kithtest.main()
