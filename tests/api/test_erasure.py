"""Privacy by construction (contract section 6b): the export holds everything about a person,
and erasure leaves no trace of their email, name or IP in any database file or the log, while
the ledger (referrals, rewards, totals) stays whole and the code stays reserved but inert."""

import json
import socket

import kithtest
from kithtest import KithTestCase, Server, uid

HOUR = 3600

FIRST = "Zephyrine"
EMAIL = "zephyrine.quillfeather+kith@example.org"
EMAIL_LOCAL = "zephyrine.quillfeather"
IP = "198.51.100.173"
CLICK_IP = "203.0.113.188"
NOTE = "Marmalade-Obelisk-4417"  # in her metadata
EXPORT_KEYS = ["participant", "codes", "clicks", "referrals_made", "referral_received", "rewards",
               "events", "notifications", "review_decisions", "exported_at"]


def ip_forms(ip):
    return [ip.encode(), socket.inet_pton(socket.AF_INET, ip)]


def text_needles():
    """Byte strings that must not survive erasure anywhere (case variants included)."""
    out = []
    for s in (FIRST, EMAIL, EMAIL_LOCAL, "zephyrine.quillfeather@example.org", NOTE, IP, CLICK_IP):
        for v in {s, s.lower(), s.upper()}:
            out.append(v.encode())
            out.append(v.encode("utf-16-le"))
    # JSON-escaped forms
    out.append(json.dumps(EMAIL).encode())
    return out


class ErasureTest(KithTestCase):
    """One story: Jane refers Zephyrine, Zephyrine refers Bob, Carl and Dora; then she asks to be
    exported and erased."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.pid = s.make_program()["id"]
        cls.jane = s.make_participant(cls.pid, "Jane", email="jane.erasure@example.com")
        s.clock_advance(25 * HOUR)
        cls.story = {}

    # ---- helpers ----------------------------------------------------------------------------------
    def idem(self):
        return {"Idempotency-Key": uid("idem")}

    def totals(self):
        refs = self.s.list_all("/v1/referrals?program=%s" % self.pid)
        rws = self.s.rewards(program=self.pid)
        return {
            "referrals": len(refs),
            "referral_statuses": sorted((x["id"], x["status"]) for x in refs),
            "rewards": len(rws),
            "reward_statuses": sorted((x["id"], x["status"], x["amount"] or 0) for x in rws),
            "referrals_unfiltered": len(self.s.list_all("/v1/referrals")),
            "rewards_unfiltered": len(self.s.list_all("/v1/rewards")),
        }

    def ip_hash_of_click(self, owner_id, click_id):
        ex = self.s.get("/v1/participants/%s/export" % owner_id)
        self.assertStatus(ex, 200)
        cl = [c for c in ex.body["clicks"] if c["id"] == click_id]
        self.assertEqual(len(cl), 1, repr(ex.body["clicks"]))
        return cl[0].get("has_ip_hash")

    def scan_files(self, srv, label):
        found = []
        needles = text_needles() + ip_forms(IP)[1:] + ip_forms(CLICK_IP)[1:]
        for path in srv.db_files():
            with open(path, "rb") as f:
                data = f.read()
            for n in needles:
                if n in data:
                    found.append((label, path.rsplit("/", 1)[-1], n, data.count(n)))
        return found

    def build_story(self, s, pid, jane):
        """Returns a dict with everyone's ids and what Zephyrine's export should hold."""
        st = {}
        # Jane's link, clicked (the click is Jane's, not Zephyrine's)
        jcid = s.click_id(jane["code"], headers={"X-Forwarded-For": CLICK_IP})
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("zeph"), "email": EMAIL,
                                   "first_name": FIRST, "ref": jane["code"], "click_id": jcid,
                                   "ip": IP, "user_agent": "Mozilla/5.0 ZephBrowser",
                                   "device_id": "dev-zeph-1", "payment_fingerprint": "fp-zeph-1",
                                   "metadata": {"note": NOTE}},
                   headers=self.idem())
        self.assertStatus(r, 201)
        zeph = r.body["participant"]
        st["zeph"] = zeph
        st["jane_click"] = jcid
        st["received"] = r.body["referral"]["id"]
        self.assertEqual(r.body["referral"]["referrer"]["id"], jane["id"])
        # a vanity alias of her own
        alias = "Z" + uid("a").replace("-", "")[-6:].upper()
        ra = s.post("/v1/participants/%s/codes" % zeph["id"], {"code": alias}, headers=self.idem())
        # the contract fixes no status for adding an alias (kith answers 201)
        self.assertIn(ra.status, (200, 201), repr(ra))
        st["alias"] = alias
        s.clock_advance(25 * HOUR)  # she is no longer a new referrer
        # clicks on her code: two channels, one from a referring site, one with her IP in a header
        clicks = [
            s.click_id(zeph["code"], query="?ch=email", headers={"Referer": "https://blog.example.net/p"}),
            s.click_id(zeph["code"], query="?ch=sms", headers={"X-Forwarded-For": IP}),
            s.click_id(alias),
        ]
        st["clicks"] = clicks
        # she refers Bob (url), Carl (cookie) and Dora (review, then a decision)
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("bob"), "first_name": "Bob",
                                   "ref": zeph["code"], "ip": "192.0.2.10"}, headers=self.idem())
        self.assertStatus(r, 201)
        bob = r.body["participant"]
        self.assertEqual(r.body["referral"]["referrer"]["first_name"], FIRST)  # stored in idempotency
        st["bob"], st["bob_ref"] = bob, r.body["referral"]["id"]
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("carl"), "first_name": "Carl",
                                   "click_id": clicks[0]}, headers=self.idem())
        self.assertStatus(r, 201)
        carl = r.body["participant"]
        self.assertEqual(r.body["referral"]["source"], "cookie")
        st["carl"], st["carl_ref"] = carl, r.body["referral"]["id"]
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("dora"), "first_name": "Dora",
                                   "ref": zeph["code"], "ip": IP, "device_id": "dev-zeph-1",
                                   "payment_fingerprint": "fp-zeph-1"}, headers=self.idem())
        self.assertStatus(r, 201)
        dora_ref = r.body["referral"]
        self.assertEqual(dora_ref["status"], "review", repr(r))
        st["dora"], st["dora_ref"] = r.body["participant"], dora_ref["id"]
        d = s.post("/v1/referrals/%s/reject" % dora_ref["id"], {"reason": "same household as referrer"},
                   headers=self.idem())
        self.assertStatus(d, 200)
        # events: her own purchase (qualifies Jane's referral of her), Bob's purchase (rewards her)
        e = s.post("/v1/events", {"program": pid, "type": "purchase", "external_id": zeph["external_id"],
                                  "amount": 4900, "currency": "USD", "payment_fingerprint": "fp-zeph-2",
                                  "id": uid("in")}, headers=self.idem())
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "rewarded", repr(e))
        st["zeph_event"] = e.body["event"]["id"]
        e = s.post("/v1/events", {"program": pid, "type": "purchase", "external_id": bob["external_id"],
                                  "amount": 12000, "currency": "USD"}, headers=self.idem())
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "rewarded", repr(e))
        # a custom event of hers
        e = s.post("/v1/events", {"program": pid, "type": "profile.updated",
                                  "external_id": zeph["external_id"]})
        self.assertStatus(e, 201)
        st["zeph_event2"] = e.body["event"]["id"]
        # a PATCH that repeats her email and name
        p = s.patch("/v1/participants/" + zeph["id"], {"first_name": FIRST, "email": EMAIL})
        self.assertStatus(p, 200)
        st["rewards"] = sorted(w["id"] for w in s.rewards(program=pid, participant=zeph["id"]))
        self.assertEqual(len(st["rewards"]), 2, "one as referred (Jane's referral), one as referrer (Bob)")
        # clicks are recorded asynchronously
        self.wait_for(lambda: s.participant(zeph["id"])["stats"]["clicks"] >= 3, what="clicks flushed")
        return st

    # ---- export ------------------------------------------------------------------------------------
    def test_1_export_completeness(self):
        s = self.s
        st = self.build_story(s, self.pid, self.jane)
        zeph = st["zeph"]
        r = s.get("/v1/participants/%s/export" % zeph["id"])
        self.assertStatus(r, 200)
        ex = r.body
        self.assertKeys(ex, EXPORT_KEYS, "export")
        p = ex["participant"]
        self.assertEqual((p["id"], p["email"], p["first_name"], p["code"]),
                         (zeph["id"], EMAIL, FIRST, zeph["code"]))
        self.assertEqual(p["metadata"], {"note": NOTE})
        self.assertNotIn(IP, r.raw.decode(), "the raw IP must not be held, so not exported")
        # codes
        self.assertIsInstance(ex["codes"], list)
        codes = [c["code"] if isinstance(c, dict) else c for c in ex["codes"]]
        self.assertIn(zeph["code"], codes)
        self.assertIn(st["alias"], codes)
        # clicks on her codes (not Jane's click that brought her)
        self.assertIsInstance(ex["clicks"], list)
        self.assertEqual(sorted(c["id"] for c in ex["clicks"]), sorted(st["clicks"]), repr(ex["clicks"]))
        chans = sorted(str(c.get("channel")) for c in ex["clicks"])
        self.assertEqual(chans, ["None", "email", "sms"])
        # referrals made and received
        self.assertEqual(sorted(x["id"] for x in ex["referrals_made"]),
                         sorted([st["bob_ref"], st["carl_ref"], st["dora_ref"]]))
        self.assertIsInstance(ex["referral_received"], dict)
        self.assertEqual(ex["referral_received"]["id"], st["received"])
        self.assertEqual(ex["referral_received"]["referrer"]["id"], self.jane["id"])
        # rewards both sides
        self.assertEqual(sorted(w["id"] for w in ex["rewards"]), st["rewards"])
        self.assertEqual(sorted(w["to"] for w in ex["rewards"]), ["referred", "referrer"])
        # events (hers only)
        self.assertEqual(sorted(e["id"] for e in ex["events"]),
                         sorted([st["zeph_event"], st["zeph_event2"]]), repr(ex["events"]))
        # notifications: a list (section 13 is a later issue)
        self.assertIsInstance(ex["notifications"], list)
        # decisions on referrals she made
        ds = ex["review_decisions"]
        self.assertEqual(len(ds), 1, repr(ds))
        self.assertEqual((ds[0]["decision"], ds[0]["reason"], ds[0]["api_key"]),
                         ("reject", "same household as referrer", "key_env"))
        self.assertTime(ds[0]["created_at"])
        self.assertEqual(self.assertTime(ex["exported_at"]), s.clock_now())
        # nobody else's export holds her email or name
        other = s.get("/v1/participants/%s/export" % st["bob"]["id"]).raw.decode()
        self.assertNotIn(EMAIL, other)
        self.assertNotIn(IP, other)
        self.assertError(s.get("/v1/participants/par_doesnotexist0000000/export"), 404, "not_found")

    # ---- erasure ------------------------------------------------------------------------------------
    def test_2_erase_leaves_no_trace(self):
        # its own server, so the byte search sees only this story
        srv = Server(test_clock=True)
        try:
            self._erase_story(srv)
        finally:
            if srv.proc is not None:
                srv.stop()

    def _erase_story(self, srv):
        s = srv
        self.s_saved, self.s = self.s, srv  # helpers use self.s
        try:
            pid = s.make_program()["id"]
            self.pid_saved, self.pid = self.pid, pid
            jane = s.make_participant(pid, "Jane")
            s.clock_advance(25 * HOUR)
            st = self.build_story(s, pid, jane)
            zeph = st["zeph"]
            s.settle_clicks()  # her clicks are in the files too
            # the story really did put her data in the files (else the search proves nothing)
            before = self.scan_files(s, "before")
            self.assertTrue(any(n == FIRST.encode() for _, _, n, _ in before),
                            "sanity: her first name should be in the database before erasure")
            self.assertTrue(any(n == EMAIL.encode() for _, _, n, _ in before),
                            "sanity: her email should be in the database before erasure")
            pre_click = s.click_id(zeph["code"])  # a cookie set before erasure
            self.wait_for(lambda: s.participant(zeph["id"])["stats"]["clicks"] >= 4, what="clicks flushed")
            totals_before = self.totals()
            self.assertIs(self.ip_hash_of_click(jane["id"], st["jane_click"]), True)
            self.assertIs(s.get("/v1/participants/%s/export" % zeph["id"]).body["participant"]
                          .get("ip_hash_held"), True)
            stats_before = s.participant(zeph["id"])["stats"]

            r = s.post("/v1/participants/%s/erase" % zeph["id"])
            self.assertStatus(r, 200)
            p = r.body
            self.assertIs(p.get("erased"), True, repr(r))
            self.assertEqual(p["id"], zeph["id"])
            self.assertIsNone(p["email"])
            self.assertIsNone(p["first_name"])
            self.assertEqual(p["code"], zeph["code"])
            self.assertNotIn(FIRST, r.raw.decode())
            self.assertNotIn(EMAIL_LOCAL, r.raw.decode())

            # the bytes are gone while the server is still running ...
            found = self.scan_files(s, "running")
            # ... and after a graceful stop (more checkpointing must not resurrect anything)
            s.stop()
            found += self.scan_files(s, "stopped")
            self.assertEqual(found, [], "erased data still in the database files")
            log = s.log_bytes()
            for n in (FIRST.encode(), EMAIL.encode(), EMAIL_LOCAL.encode(), IP.encode(),
                      CLICK_IP.encode(), NOTE.encode(), s.secret.encode(), s.secret[-16:].encode()):
                self.assertNotIn(n, log, "the log holds %r" % n)
            s.start()

            # GET still works, erased
            g = s.get("/v1/participants/" + zeph["id"])
            self.assertStatus(g, 200)
            self.assertIsNone(g.body["email"])
            self.assertIsNone(g.body["first_name"])
            self.assertEqual(g.body["code"], zeph["code"])
            self.assertNotIn(FIRST, g.raw.decode())
            self.assertEqual(g.body.get("erased"), True, repr(g))
            # she is no longer findable by email
            lst = s.get("/v1/participants?program=%s&email=%s" % (pid, "zephyrine.quillfeather%40example.org"))
            self.assertEqual(self.assertList(lst), [])
            # export after erasure: pseudonymous, ledger still there
            ex = s.get("/v1/participants/%s/export" % zeph["id"])
            self.assertStatus(ex, 200)
            self.assertKeys(ex.body, EXPORT_KEYS, "export")
            for n in (FIRST, EMAIL_LOCAL, NOTE, IP):
                self.assertNotIn(n, ex.raw.decode())
            self.assertIsNone(ex.body["participant"]["email"])
            self.assertIsNone(ex.body["participant"]["first_name"])
            self.assertEqual(len(ex.body["referrals_made"]), 3)
            # her hashes are gone: her own, and the one on the click that brought her in
            self.assertIs(ex.body["participant"].get("ip_hash_held"), False, repr(ex))
            self.assertIs(self.ip_hash_of_click(jane["id"], st["jane_click"]), False)
            self.assertEqual(sorted(w["id"] for w in ex.body["rewards"]), st["rewards"])
            # referrals that name her show no name
            for rid in (st["bob_ref"], st["received"]):
                ref = s.get("/v1/referrals/" + rid)
                self.assertStatus(ref, 200)
                self.assertNotIn(FIRST, ref.raw.decode())
            self.assertIsNone(s.referral(st["bob_ref"])["referrer"]["first_name"])
            self.assertIsNone(s.referral(st["received"])["referred"]["first_name"])
            # totals unchanged
            self.assertEqual(self.totals(), totals_before)
            self.assertEqual(s.participant(zeph["id"])["stats"], stats_before)

            # the code: kept, inert
            for code in (zeph["code"], st["alias"]):
                c = s.click(code)
                self.assertStatus(c, 302)
                self.assertEqual(c.headers.get("location"), "https://example.com/join", repr(c))
                self.assertEqual(c.all_headers("set-cookie"), [], repr(c))
            s.settle_clicks()  # had those clicks been counted, they would show now
            self.assertEqual(s.participant(zeph["id"])["stats"]["clicks"], stats_before["clicks"])
            # signups through her code: referrer_blocked, organic
            for kw, source in (({"ref": zeph["code"]}, "url"), ({"code": zeph["code"].lower()}, "code"),
                               ({"click_id": pre_click}, "cookie"), ({"ref": st["alias"]}, "url")):
                r = s.signup(pid, **kw)
                self.assertStatus(r, 201)
                self.assertIsNone(r.body["referral"], repr(r))
                self.assertEqual(r.body["attribution"]["source"], "organic", repr(r))
                self.assertEqual(r.body["attribution"]["rejected"],
                                 [{"source": source, "reason": "referrer_blocked"}], repr(r))
            self.assertEqual(s.participant(zeph["id"])["stats"]["signups"], stats_before["signups"])
            # her code is never handed out again, not even as an alias
            other = s.make_participant(pid, "Zed")
            for code in (zeph["code"], st["alias"]):
                r = s.post("/v1/participants/%s/codes" % other["id"], {"code": code})
                self.assertError(r, 409, "code_taken")
            # Bob's referral (made through her) is untouched and still pays out normally
            self.assertEqual(s.referral(st["bob_ref"])["status"], "rewarded")
            # erase again: still erased, no error beyond the contract
            r2 = s.post("/v1/participants/%s/erase" % zeph["id"])
            self.assertStatus(r2, 200)
            self.assertIs(r2.body.get("erased"), True)
            self.assertError(s.post("/v1/participants/par_doesnotexist0000000/erase"), 404, "not_found")
            # final byte search after more traffic and a restart
            s.stop()
            self.assertEqual(self.scan_files(s, "final"), [])
        finally:
            self.s = self.s_saved
            self.pid = getattr(self, "pid_saved", self.pid)

    def test_3_erase_referred_person_with_events(self):
        # erasing someone who only was referred: their events' payment data goes, the referral stays
        s = self.s
        sam_email = "wilhelmina.oxtongue@example.net"
        r = s.signup(self.pid, ref=self.jane["code"], email=sam_email, first_name="Wilhelmina",
                     ip="192.0.2.77")
        self.assertStatus(r, 201)
        sam = r.body["participant"]
        ref_id = r.body["referral"]["id"]
        e = s.event(self.pid, sam["external_id"], payment_fingerprint="fp-wilhelmina")
        self.assertStatus(e, 201)
        n_before = len(s.rewards(program=self.pid))
        r = s.post("/v1/participants/%s/erase" % sam["id"])
        self.assertStatus(r, 200)
        self.assertTrue(r.body["erased"])
        self.assertEqual(len(s.rewards(program=self.pid)), n_before)
        self.assertEqual(s.referral(ref_id)["status"], "rewarded")
        ex = s.get("/v1/participants/%s/export" % sam["id"])
        self.assertStatus(ex, 200)
        self.assertNotIn("Wilhelmina", ex.raw.decode())
        self.assertNotIn("oxtongue", ex.raw.decode())
        self.assertEqual(len(ex.body["events"]), 1)
        found = []
        for path in s.db_files():
            with open(path, "rb") as f:
                data = f.read()
            for n in (b"Wilhelmina", b"oxtongue", b"192.0.2.77"):
                if n in data:
                    found.append((path.rsplit("/", 1)[-1], n, data.count(n)))
        self.assertEqual(found, [], "erased data still in the database files (running)")

    def test_4_erase_refuses_a_body_and_bad_keys(self):
        s = self.s
        p = s.make_participant(self.pid, "Quentin", email="quentin.erase@example.com")
        self.assertError(s.post("/v1/participants/%s/erase" % p["id"], key=None), 401, "unauthorized")
        pk = s.keys_create(publishable=True)
        self.assertError(s.post("/v1/participants/%s/erase" % p["id"], key=pk), 403, "forbidden")
        self.assertError(s.get("/v1/participants/%s/export" % p["id"], key=pk), 403, "forbidden")
        self.assertEqual(s.participant(p["id"])["email"], "quentin.erase@example.com")


if __name__ == "__main__":
    kithtest.main()
