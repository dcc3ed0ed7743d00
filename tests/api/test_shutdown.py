"""Stopping under load (issue 10): SIGTERM with requests in flight, in a loop, on every back-end.

Each round starts kith on the same database, drives signups spread over many referrers and
redirects (GET /r/<code>, so the click batcher and the store are busy) from several keep-alive
clients, plus clients that drop their connection with a request in flight, as a load generator
does when it exits; then it sends SIGTERM in the middle of it and asserts exit status 0. After a
last restart the database is read back through the API: every signup answered 201 is there,
once, with its referral to the referrer it named; no signup whose client saw a refusal, a 503
or a lost connection was kept; every referral is one a client sent; and every counted click
(a 302 with its cookie) was written. No answer may be a 500, and every answer must be the
answer to its own request (a stray second answer would be read by the next request).

KITH_TEST_SHUTDOWN_ROUNDS (default 20) sets the number of rounds, for a longer hunt.
"""

import http.client
import json
import os
import random
import signal
import socket
import threading
import time
import urllib.parse

import kithtest
from kithtest import KithTestCase, uid

ROUNDS = int(os.environ.get("KITH_TEST_SHUTDOWN_ROUNDS", "20"))
LOAD_S = 0.6       # load before the stop, per round
CLIENTS = 6        # keep-alive clients: signups and redirects
REFERRERS = 200    # signups name any of them
LINKED = 10        # redirects go to the first LINKED codes, so they are soon answered from cache
# The stop, the way a load generator's exit makes it, on connections closed before their answer:
# a wave of signups that keeps the store busy, a second wave that queues up behind it, redirects
# answered from the cache whose clicks wait for the click batcher, then SIGTERM.
# (PostgreSQL commits each job on its own, four at a time: a smaller first wave keeps it as busy.)
DROP_SIGNUPS = (60, 20) if kithtest.IS_PG else (200, 20)
DROP_REDIRECTS = 20
WAVE_GAP_S = 0.02  # the second wave arrives while the store commits the first
UA = "Mozilla/5.0 (X11; Linux x86_64) kithtest-shutdown"


class Tally:
    """What the clients saw, across rounds. All under lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answered = {}      # external_id -> (participant id, referral id, referrer id)
        self.not_kept = {}      # external_id -> why no signup may exist (well-behaved clients)
        self.dropped = set()    # external_ids sent on connections closed before the answer
        self.clicks = 0         # 302 answers that set the kith_ref cookie (counted clicks)
        self.dropped_redirects = 0  # redirects sent on connections closed before the answer
        self.statuses = {}      # status -> count
        self.problems = []      # answers that break the contract


class ShutdownUnderLoadTest(KithTestCase):
    # Behind a trusted proxy, so that the redirects come from many client addresses: the
    # per-address budget (600 a minute) is not what this test is about.
    server_kwargs = {"test_clock": True, "env": {"KITH_TRUSTED_PROXIES": "127.0.0.1/32"}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.pid = s.make_program()["id"]
        cls.referrers = [None] * REFERRERS

        def make(first):
            with s.connection() as c:
                for i in range(first, REFERRERS, 4):
                    r = c.request("POST", "/v1/participants", {
                        "program": cls.pid, "external_id": uid("ref"), "first_name": "Ref"})
                    if r.status != 201:
                        raise AssertionError("referrer %d: %r" % (i, r))
                    cls.referrers[i] = (r.body["id"], r.body["code"])

        makers = [threading.Thread(target=make, args=(k,)) for k in range(4)]
        for m in makers:
            m.start()
        for m in makers:
            m.join()
        assert None not in cls.referrers, "some referrers were not created"

    # ---- load -------------------------------------------------------------------------------
    def signup_body(self, ext, ref):
        return json.dumps({"program": self.pid, "external_id": ext, "first_name": "Sam",
                           "ref": self.referrers[ref][1]}).encode()

    def check_signup(self, t, ext, ref, r, body):
        """Records a signup's answer; a 201 must be this request's own answer."""
        if r.status == 201:
            doc = json.loads(body)
            p, ref_doc = doc["participant"], doc["referral"]
            if p["external_id"] != ext or ref_doc is None or \
                    ref_doc["referrer"]["id"] != self.referrers[ref][0]:
                t.problems.append("signup %s (referrer %s) answered with %s" %
                                  (ext, self.referrers[ref][0], body[:400]))
                return
            t.answered[ext] = (p["id"], ref_doc["id"], self.referrers[ref][0])
        else:
            t.not_kept[ext] = "answered %d" % r.status
            if r.status != 503 or not r.getheader("Retry-After"):
                t.problems.append("signup %s answered %d: %s" % (ext, r.status, body[:400]))

    def check_redirect(self, t, code, r, body):
        if r.status != 302 or not r.getheader("Location"):
            t.problems.append("GET /r/%s answered %d: %s" % (code, r.status, body[:400]))
        elif (r.getheader("Set-Cookie") or "").startswith("kith_ref="):
            t.clicks += 1

    def client(self, t, tid, rnd, port, burst):
        """Keep-alive requests until the server stops accepting; redirects only once the burst
        started, so the last store jobs are the dropped signups' and the click batches'."""
        rng = random.Random(rnd * 1000 + tid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        auth = {"Authorization": "Bearer " + self.server.secret,
                "Content-Type": "application/json"}
        i = 0
        try:
            while True:
                i += 1
                signup = not burst.is_set() and rng.random() < 0.6
                ref = rng.randrange(REFERRERS if signup else LINKED)
                ext = "sd-%d-%d-%d" % (rnd, tid, i)
                try:
                    if signup:
                        conn.request("POST", "/v1/signups", self.signup_body(ext, ref), auth)
                    else:
                        code = self.referrers[ref][1]
                        conn.request("GET", "/r/" + urllib.parse.quote(code, safe="-"),
                                     headers={"User-Agent": UA, "X-Forwarded-For": "10.%d.%d.%d"
                                              % (tid, rng.randrange(256), rng.randrange(256))})
                    r = conn.getresponse()
                    body = r.read()
                except ConnectionRefusedError:
                    if signup:
                        with t.lock:
                            t.not_kept[ext] = "connection refused"
                    return  # the listener is closed: the server is stopping
                except (OSError, http.client.HTTPException) as e:
                    # The server closed this keep-alive connection (idle at the stop, or after
                    # its last answer) before reading the request: it was never accepted.
                    conn.close()
                    if signup:
                        with t.lock:
                            t.not_kept[ext] = "connection lost: %r" % (e,)
                    continue
                with t.lock:
                    t.statuses[r.status] = t.statuses.get(r.status, 0) + 1
                    if signup:
                        self.check_signup(t, ext, ref, r, body)
                    else:
                        self.check_redirect(t, code, r, body)
        finally:
            conn.close()

    def drop_connect(self, port, n):
        """n connections, nothing sent yet."""
        socks = []
        for _ in range(n):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                pass
        return socks

    def drop_send(self, t, socks, reqs):
        """One request on each connection, sent back to back so that they queue up together;
        reqs: (external_id or None, bytes)."""
        for sock, (ext, data) in zip(socks, reqs):
            try:
                sock.sendall(data)
            except OSError:
                continue
            with t.lock:
                if ext:
                    t.dropped.add(ext)
                else:
                    t.dropped_redirects += 1

    def raw_signup(self, ext):
        body = self.signup_body(ext, random.randrange(REFERRERS))
        return ext, ("POST /v1/signups HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n"
                     % (self.server.secret, len(body))).encode() + body

    def raw_redirect(self):
        code = self.referrers[random.randrange(LINKED)][1]
        return None, ("GET /r/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: %s\r\n"
                      "X-Forwarded-For: 10.200.%d.%d\r\n\r\n"
                      % (urllib.parse.quote(code, safe="-"), UA, random.randrange(256),
                         random.randrange(256))).encode()

    def one_round(self, t, rnd):
        s = self.server
        if rnd > 0:
            s.start()
        port = s.port
        burst = threading.Event()
        threads = [threading.Thread(target=self.client, args=(t, i, rnd, port, burst),
                                    daemon=True) for i in range(CLIENTS)]
        for th in threads:
            th.start()
        time.sleep(LOAD_S)  # the load itself: nothing is proved by waiting
        burst.set()
        first, second, links = (self.drop_connect(port, n)
                                for n in DROP_SIGNUPS + (DROP_REDIRECTS,))
        self.drop_send(t, first, [self.raw_signup("sd-drop-%d-a%d" % (rnd, k))
                                  for k in range(len(first))])
        time.sleep(WAVE_GAP_S)  # shapes the load; proves nothing
        self.drop_send(t, second, [self.raw_signup("sd-drop-%d-b%d" % (rnd, k))
                                   for k in range(len(second))])
        self.drop_send(t, links, [self.raw_redirect() for _ in links])
        for sock in first + second + links:
            sock.close()
        s.proc.send_signal(signal.SIGTERM)
        try:
            rc = s.proc.wait(kithtest.STOP_TIMEOUT)
        except Exception:
            s.proc.kill()
            s.proc.wait()
            s._forget()
            raise AssertionError("round %d: kith did not stop; log tail:\n%s" %
                                 (rnd, s.log_tail()))
        s._forget()
        for th in threads:
            th.join(30)
            self.assertFalse(th.is_alive(), "round %d: a client still waits for an answer" % rnd)
        s.check_sanitizers()
        self.assertEqual(rc, 0, "round %d: kith exited %s after SIGTERM under load; log tail:\n%s"
                         % (rnd, rc, s.log_tail()))

    # ---- the test ---------------------------------------------------------------------------
    def test_sigterm_under_load_loses_nothing(self):
        t = Tally()
        started = time.monotonic()
        for rnd in range(ROUNDS):
            self.one_round(t, rnd)
        self.assertEqual(t.problems, [], "answers that break the contract")
        self.assertGreater(len(t.answered), ROUNDS * 10, "too little load to prove anything")
        self.assertGreater(t.clicks, ROUNDS * 5, "too few counted clicks to prove anything")

        s = self.server
        s.start()
        people = s.list_all("/v1/participants?program=" + self.pid, limit=500)
        by_ext = {}
        for p in people:
            self.assertNotIn(p["external_id"], by_ext, "a signup stored twice: %r" % p)
            by_ext[p["external_id"]] = p
        referrals = {r["id"]: r for r in
                     s.list_all("/v1/referrals?program=" + self.pid, limit=500)}

        lost = [ext for ext in t.answered if ext not in by_ext]
        self.assertEqual(lost, [], "signups answered 201 but not in the database after restart")
        for ext, (participant, referral, referrer) in t.answered.items():
            self.assertEqual(by_ext[ext]["id"], participant, ext)
            self.assertIn(referral, referrals, "the referral of %s (answered 201) is missing" % ext)
            self.assertEqual(referrals[referral]["referrer"]["id"], referrer, ext)
            self.assertEqual(referrals[referral]["referred"]["id"], participant, ext)
        kept = sorted("%s (%s)" % (ext, why) for ext, why in t.not_kept.items() if ext in by_ext)
        self.assertEqual(kept, [], "signups kept although their client got no 201")
        ours = {p["id"] for ext, p in by_ext.items() if ext in t.answered or ext in t.dropped}
        strays = [r["id"] for r in referrals.values() if r["referred"]["id"] not in ours]
        self.assertEqual(strays, [], "referrals no client asked for")

        r = s.get("/v1/metrics?program=" + self.pid)
        self.assertStatus(r, 200)
        # Every click a client saw counted is written; a dropped redirect may have counted too.
        self.assertGreaterEqual(r.body["clicks"], t.clicks, "counted clicks (302 with a cookie)")
        self.assertLessEqual(r.body["clicks"], t.clicks + t.dropped_redirects, "clicks no one made")

        dropped_kept = len([e for e in t.dropped if e in by_ext])
        print("\nshutdown: %d rounds in %.1fs (%s): %d signups answered 201, %d dropped "
              "(%d of them kept), %d never accepted, %d counted clicks; statuses %s"
              % (ROUNDS, time.monotonic() - started, "PostgreSQL" if kithtest.IS_PG else "SQLite",
                 len(t.answered), len(t.dropped), dropped_kept, len(t.not_kept), t.clicks,
                 dict(sorted(t.statuses.items()))))


if __name__ == "__main__":
    kithtest.main()
