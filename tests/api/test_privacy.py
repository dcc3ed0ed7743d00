"""Privacy: raw IPs and user agents never stored, secrets and emails never logged (4, 6b, STYLE)."""

import json
import re
import socket
import urllib.parse

import kithtest
from kithtest import KithTestCase, Server, uid

IP = "198.51.100.77"
IP2 = "203.0.113.209"
IP6 = "2001:db8:beef::77"
UA = "KithPrivacyProbe/9.8.7 (DistinctiveAgent; rv:42)"
EMAIL_LOCAL = "privacy.probe.zq"
KEY_RE = re.compile(r"sk_[A-Za-z0-9_-]+")


def forms_of_ip(ip):
    out = [ip.encode()]
    try:
        out.append(socket.inet_pton(socket.AF_INET, ip))
    except OSError:
        packed = socket.inet_pton(socket.AF_INET6, ip)
        out.append(packed)
        out.append(packed.hex().encode())
    return out


class PrivacyTest(KithTestCase):
    def test_no_raw_ip_or_user_agent_anywhere(self):
        s = Server(test_clock=True)
        prog = s.make_program()
        pid = prog["id"]
        email = "%s@example.com" % EMAIL_LOCAL
        jane = s.post("/v1/participants", {"program": pid, "external_id": uid("u"),
                                           "first_name": "Jane", "email": email, "ip": IP,
                                           "device_id": "dev-privacy", "payment_fingerprint": "fp-1"})
        self.assertStatus(jane, 201)
        jane = jane.body
        self.assertNotIn(IP, jane.__repr__())
        # clicks: a proxy header and a real browser UA
        cids = []
        for hdrs in ({"X-Forwarded-For": IP}, {"X-Forwarded-For": "%s, 10.0.0.1" % IP},
                     {"X-Real-IP": IP}, {"Forwarded": "for=%s" % IP}, {"X-Forwarded-For": IP6}):
            r = s.click(jane["code"], ua=UA, headers=dict(hdrs, Referer="https://blog.example.net/post"))
            self.assertStatus(r, 302)
            cids.append(r.headers["set-cookie"].split(";")[0].split("=", 1)[1])
        # signups carrying the IP and UA in the body
        sam_email = "sam.%s@example.com" % EMAIL_LOCAL
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("s"), "email": sam_email,
                                   "first_name": "Sam", "click_id": cids[0], "ip": IP,
                                   "user_agent": UA, "device_id": "dev-sam"})
        self.assertStatus(r, 201)
        self.assertNotIn(IP, repr(r.body))
        self.assertNotIn(UA, repr(r.body))
        sam = r.body["participant"]
        r = s.post("/v1/signups", {"program": pid, "external_id": uid("s"), "ref": jane["code"],
                                   "ip": IP2, "user_agent": UA}, headers={"X-Forwarded-For": IP})
        self.assertStatus(r, 201)
        r = s.event(pid, sam["external_id"], ip=None)
        self.assertStatus(r, 201)
        # reads that put an email in the query string must not leak it into the access log
        r = s.get("/v1/participants?program=%s&email=%s" % (pid, urllib.parse.quote(email)))
        self.assertEqual(len(self.assertList(r)), 1)
        for path in ("/v1/participants/" + jane["id"], "/v1/referrals/" + sam["referred_by"]):
            r = s.get(path)
            self.assertStatus(r, 200)
            self.assertNotIn(IP, r.raw.decode())
            self.assertNotIn(UA, r.raw.decode())
        s.settle_clicks()  # the clicks are in the files too

        # While running, then again after a graceful stop (checkpoint), search every file.
        def scan(label):
            needles = forms_of_ip(IP) + forms_of_ip(IP2) + forms_of_ip(IP6) + [UA.encode(),
                                                                            b"DistinctiveAgent"]
            found = []
            for path in s.db_files():
                with open(path, "rb") as f:
                    data = f.read()
                for n in needles:
                    if n in data:
                        found.append((label, path.rsplit("/", 1)[-1], n))
            return found

        found = scan("running")
        s.stop()
        found += scan("stopped")
        self.assertEqual(found, [], "raw IP / user agent bytes found in the database files")

        log = s.log_bytes()
        for n in forms_of_ip(IP) + forms_of_ip(IP2) + [IP6.encode(), UA.encode()]:
            if len(n) > 4:  # packed 4-byte forms would false-positive on random log bytes
                self.assertNotIn(n, log, "log contains %r" % n)
        self.assertNotIn(s.secret.encode(), log, "the secret key is in the log")
        self.assertNotIn(EMAIL_LOCAL.encode(), log, "an email is in the log")
        self.assertNotIn(urllib.parse.quote(email).encode(), log, "an encoded email is in the log")

    def test_keys_never_logged(self):
        s = Server(test_clock=False)
        sk2 = s.keys_create()
        pk = s.keys_create(publishable=True)
        prog = s.make_program()
        self.assertStatus(s.get("/v1/programs/" + prog["id"], key=sk2), 200)
        s.get("/v1/programs", key=pk)
        s.get("/v1/programs", key="sk_live_notakey_" + "9" * 24)
        s.stop()
        log = s.log_bytes()
        for secret in (s.secret, sk2, pk, "sk_live_notakey_" + "9" * 24):
            self.assertNotIn(secret.encode(), log, "a key is in the log")
            self.assertNotIn(secret[-16:].encode(), log, "a key's tail is in the log")

    def test_first_start_prints_secret_once(self):
        # Empty database, no KITH_SECRET_KEY: the first start prints a secret key once on stderr.
        s = Server(test_clock=False, start=False)
        base_env = s._env

        def env_without_key():
            e = base_env()
            e.pop("KITH_SECRET_KEY", None)
            return e
        s._env = env_without_key
        s.start()
        keys = set(KEY_RE.findall(s.log_text()))
        self.assertEqual(len(keys), 1, "expected one printed secret key: %r" % keys)
        key = keys.pop()
        self.assertStatus(s.get("/v1/programs", key=key), 200)
        s.stop()
        s.start()
        self.assertEqual(s.log_text().count(key), 1, "the key must be printed only on the first start")
        self.assertEqual(set(KEY_RE.findall(s.log_text())), {key})
        self.assertStatus(s.get("/v1/programs", key=key), 200)
        s.stop()


class ExportEraseTest(KithTestCase):
    """GET /v1/participants/{id}/export and POST .../erase (section 6b)."""

    def setup_people(self):
        s = self.s
        prog = s.make_program(qualification={"hold_days": 0})
        tag = uid("e").replace("-", "")
        jane = s.make_participant(prog["id"], "Jane", email="jane.%s@example.com" % tag,
                                  ip=IP, metadata={"note": "secret-%s" % tag})
        cid = s.click_id(jane["code"], ua=UA, headers={"X-Forwarded-For": IP}, query="?ch=email")
        r = s.signup(prog["id"], click_id=cid, email="sam.%s@example.com" % tag, first_name="Sam",
                     ip=IP, user_agent=UA)
        self.assertStatus(r, 201)
        sam = r.body["participant"]
        ev = s.event(prog["id"], sam["external_id"])
        self.assertStatus(ev, 201)
        return prog, tag, jane, sam, cid, r.body["referral"], ev.body["rewards"]

    def test_export_holds_everything(self):
        prog, tag, jane, sam, cid, ref, rewards = self.setup_people()
        r = self.s.get("/v1/participants/%s/export" % jane["id"])
        self.assertStatus(r, 200)
        doc = r.body
        self.assertIsInstance(doc, dict)
        text = json.dumps(doc)
        for needle in (jane["id"], jane["code"], cid, ref["id"], "jane.%s@example.com" % tag,
                       "secret-" + tag):
            self.assertIn(needle, text, "export lacks %s" % needle)
        referrer_reward = [x for x in rewards if x["to"] == "referrer"][0]
        self.assertIn(referrer_reward["id"], text)
        self.assertNotIn(IP, text)
        self.assertNotIn(UA, text)
        self.assertEqual(doc["participant"]["id"], jane["id"])
        r = self.s.get("/v1/participants/%s/export" % sam["id"])
        self.assertStatus(r, 200)
        text = json.dumps(r.body)
        self.assertIn(ref["id"], text, "the referral received is part of the referred's export")
        self.assertError(self.s.get("/v1/participants/par_nosuchone000/export"), 404, "not_found")

    def test_erase(self):
        s = self.s
        prog, tag, jane, sam, cid, ref, rewards = self.setup_people()
        r = s.post("/v1/participants/%s/erase" % jane["id"])
        self.assertStatus(r, 200)
        p = r.body
        self.assertIs(p.get("erased"), True)
        self.assertIsNone(p["email"])
        self.assertIsNone(p["first_name"])
        self.assertIn(p.get("metadata"), (None, {}))
        self.assertEqual(p["code"], jane["code"])
        self.assertEqual(p["id"], jane["id"])
        g = s.participant(jane["id"])
        self.assertIsNone(g["email"])
        self.assertIs(g.get("erased"), True)
        # the link behaves like a blocked one
        c = s.click(jane["code"])
        self.assertStatus(c, 302)
        self.assertEqual(c.headers["location"], prog["destination_url"])
        self.assertNotIn("set-cookie", c.headers)
        # and the code stops attributing, by url, code or an old cookie
        r = s.signup(prog["id"], ref=jane["code"], code=jane["code"], click_id=cid)
        self.assertStatus(r, 201)
        self.assertIsNone(r.body["referral"])
        self.assertEqual(len(r.body["attribution"]["rejected"]), 3, r.body)
        # referrals and rewards stay (pseudonymous)
        self.assertEqual(s.referral(ref["id"])["status"], "rewarded")
        self.assertEqual(len(s.rewards(program=prog["id"])), len(rewards))
        self.assertEqual(s.participant(jane["id"])["stats"]["signups"], 1)
        # no longer findable by email
        r = s.get("/v1/participants?program=%s&email=%s" % (prog["id"], urllib.parse.quote(
            "jane.%s@example.com" % tag)))
        self.assertEqual(self.assertList(r), [])
        text = json.dumps(s.get("/v1/participants/%s/export" % jane["id"]).body)
        self.assertNotIn("jane.%s" % tag, text)
        self.assertNotIn("secret-" + tag, text)
        # the referral shown to others no longer carries the erased name
        self.assertNotEqual(s.referral(ref["id"])["referrer"].get("first_name"), "Jane")
        # erasing twice is harmless; unknown ids are 404
        self.assertStatus(s.post("/v1/participants/%s/erase" % jane["id"]), 200)
        self.assertError(s.post("/v1/participants/par_nosuchone000/erase"), 404, "not_found")

    def test_erased_email_gone_from_database_files(self):
        s = Server(test_clock=True)
        prog = s.make_program()
        tag = uid("g").replace("-", "")
        email = "erase.me.%s@example.com" % tag
        # created with an Idempotency-Key: the stored replay must not keep the email either
        r = s.post("/v1/participants", {"program": prog["id"], "external_id": uid("u"),
                                        "first_name": "Erin", "email": email,
                                        "metadata": {"k": "meta-" + tag}},
                   headers={"Idempotency-Key": uid("idem")})
        self.assertStatus(r, 201)
        p = r.body
        r = s.post("/v1/signups", {"program": prog["id"], "external_id": uid("s"),
                                   "email": "friend.%s@example.org" % tag, "ref": p["code"]},
                   headers={"Idempotency-Key": uid("idem")})
        self.assertStatus(r, 201)
        s.patch("/v1/participants/" + p["id"], {"first_name": "Erin"})
        self.assertStatus(s.post("/v1/participants/%s/erase" % p["id"]), 200)
        s.stop()
        found = []
        for path in s.db_files():
            with open(path, "rb") as f:
                data = f.read()
            for needle in (email.encode(), ("meta-" + tag).encode()):
                if needle in data:
                    found.append((path.rsplit("/", 1)[-1], needle))
        self.assertEqual(found, [], "erased data still in the database files")


if __name__ == "__main__":
    kithtest.main()
