"""Rate limits and reverse proxies (contract sections 4 v2 and 24): the per-address click cap,
budgets on public routes, unknown codes cached, the client address behind --trusted-proxies, and
addresses compared in canonical form."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KITH_BIN, Conn, KithTestCase, Server, uid  # noqa: E402

UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) kithtest"}


def cookie_of(r):
    m = re.match(r"kith_ref=([^;]+)", r.headers.get("set-cookie", ""))
    return m.group(1) if m else None


class ProxyLimitsTest(KithTestCase):
    """kith behind a proxy on 127.0.0.1: tests speak for many clients through X-Forwarded-For."""
    server_kwargs = {"test_clock": True, "env": {"KITH_TRUSTED_PROXIES": "127.0.0.0/8"}}

    def setUp(self):
        self.pid = self.s.make_program()["id"]
        self.ann = self.s.make_participant(self.pid, first_name="Ann", email=uid("a") + "@example.com")

    def clicks_counted(self):
        r = self.s.get("/v1/participants/%s" % self.ann["id"])
        self.assertStatus(r, 200)
        return r.body["stats"]["clicks"]

    def test_click_cap_per_address_and_code(self):
        s = self.s
        code = self.ann["code"]
        with Conn(s) as c:
            got = []
            for i in range(35):
                r = c.request("GET", "/r/" + code, headers=dict(UA, **{"X-Forwarded-For": "198.51.100.4"}), key=None)
                self.assertStatus(r, 302)
                self.assertIn("ref=" + code, r.headers["location"], "capped clicks still attribute")
                got.append(cookie_of(r))
            self.assertTrue(all(got[:30]), "the first 30 clicks count: %r" % got[:30])
            self.assertEqual(got[30:], [None] * 5, "clicks past 30 a minute get no cookie")
            # another address on the same code still counts
            r = c.request("GET", "/r/" + code, headers=dict(UA, **{"X-Forwarded-For": "198.51.100.5"}), key=None)
            self.assertIsNotNone(cookie_of(r))
            # the mapped form of the capped address is the same address
            r = c.request("GET", "/r/" + code, headers=dict(UA, **{"X-Forwarded-For": "::ffff:198.51.100.4"}), key=None)
            self.assertIsNone(cookie_of(r), "::ffff:198.51.100.4 is 198.51.100.4")
        s.clock_advance(60)  # a new minute: counted again (and the batch is written)
        r = s.click(code, headers={"X-Forwarded-For": "198.51.100.4"})
        self.assertIsNotNone(cookie_of(r))
        s.clock_advance(1)
        self.assertEqual(self.clicks_counted(), 32)
        m = s.get("/metrics", key=None)
        self.assertRegex(m.raw.decode(), r"kith_clicks_capped_total \d+")

    def capped_total(self):
        m = re.search(r"^kith_clicks_capped_total (\d+)$", self.s.get("/metrics", key=None).raw.decode(), re.M)
        return int(m.group(1))

    def test_click_cap_from_many_addresses_exact(self):
        """The cap is counted in a fixed sketch (src/app/limits.c): 40 addresses, 31 visits each
        in one minute, exactly 30 counted for each; a minute later each counts again."""
        s = self.s
        code = self.ann["code"]
        s.clock_set(s.clock_now().strftime("%Y-%m-%dT%H:%M:00Z"))  # the start of a minute
        capped0 = self.capped_total()
        addrs = ["198.51.%d.%d" % (200 + i // 20, 1 + i % 20) for i in range(40)]
        with Conn(s) as c:
            for rnd in range(31):
                for a in addrs:
                    r = c.request("GET", "/r/" + code, headers=dict(UA, **{"X-Forwarded-For": a}), key=None)
                    self.assertStatus(r, 302)
                    self.assertIn("ref=" + code, r.headers["location"])
                    if rnd < 30:
                        self.assertIsNotNone(cookie_of(r), "visit %d from %s counts" % (rnd + 1, a))
                    else:
                        self.assertIsNone(cookie_of(r), "visit 31 from %s is over the cap" % a)
        self.assertEqual(self.capped_total() - capped0, 40)
        s.clock_advance(1)  # the click batch is written
        self.assertEqual(self.clicks_counted(), 30 * 40)
        s.clock_advance(60)  # a new minute: every address counts again
        with Conn(s) as c:
            for a in addrs:
                r = c.request("GET", "/r/" + code, headers=dict(UA, **{"X-Forwarded-For": a}), key=None)
                self.assertIsNotNone(cookie_of(r), "a new minute counts %s again" % a)
        s.clock_advance(1)
        self.assertEqual(self.clicks_counted(), 30 * 40 + 40)
        self.assertEqual(self.capped_total() - capped0, 40)
        m = s.get("/metrics", key=None).raw.decode()
        self.assertNotIn("kith_limit_entries", m)
        self.assertRegex(m, r"kith_limit_sketch_bytes %d" % (4 * 4 * (1 << 20) + 4 * 4 * (1 << 18)))

    def test_public_budget_answers_429_with_retry_after(self):
        s = self.s
        s.clock_set(s.clock_now().strftime("%Y-%m-%dT%H:%M:00Z"))  # the start of a minute
        with Conn(s) as c:
            statuses = []
            for i in range(600):
                r = c.request("GET", "/r/NOPE-%04d" % i, headers=dict(UA, **{"X-Forwarded-For": "203.0.113.50"}), key=None)
                statuses.append(r.status)
            self.assertEqual(set(statuses), {404}, "600 a minute are allowed")
            r = c.request("GET", "/r/NOPE-9999", headers=dict(UA, **{"X-Forwarded-For": "203.0.113.50"}), key=None)
            self.assertError(r, 429, "rate_limited")
            self.assertEqual(r.headers.get("retry-after"), "60")
            # another client is not limited
            r = c.request("GET", "/r/NOPE-9999", headers=dict(UA, **{"X-Forwarded-For": "203.0.113.51"}), key=None)
            self.assertStatus(r, 404)
        s.clock_advance(60)
        r = s.click("NOPE-9999", headers={"X-Forwarded-For": "203.0.113.50"})
        self.assertStatus(r, 404)

    def test_forwarded_proto_marks_cookies_secure(self):
        r = self.s.click(self.ann["code"], headers={"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"})
        self.assertIn("; Secure", r.headers["set-cookie"])
        r = self.s.click(self.ann["code"], headers={"X-Forwarded-For": "198.51.100.10"})
        self.assertNotIn("Secure", r.headers["set-cookie"])

    def test_unknown_code_cached_and_forgotten_when_the_code_is_made(self):
        s = self.s
        alias = "ZQ" + uid("")[-5:].upper().replace("_", "X")
        self.assertStatus(s.click(alias), 404)
        self.assertStatus(s.click(alias), 404)
        r = s.post("/v1/participants/%s/codes" % self.ann["id"], {"code": alias})
        self.assertStatus(r, 201)
        r = s.click(alias)
        self.assertStatus(r, 302)
        m = s.get("/metrics", key=None).raw.decode()
        self.assertRegex(m, r"kith_link_cache_unknown \d+")

    def test_body_addresses_are_canonical_and_validated(self):
        s = self.s
        pid = s.make_program(fraud={"review_at": 1, "reject_at": 5})["id"]
        ref = s.make_participant(pid, first_name="Rae", email=uid("r") + "@example.com", ip="::ffff:198.51.100.77")
        s.clock_advance(25 * 3600)
        r = s.signup(pid, code=ref["code"], first_name="Sol", email=uid("s") + "@example.com", ip="198.51.100.77")
        self.assertStatus(r, 201)
        self.assertIn("same_ip", r.body["referral"]["fraud"]["flags"])
        for bad in ("not-an-ip", "198.51.100.300", "[::1]", "1.2.3.4:80"):
            r = s.post("/v1/participants", {"program": pid, "external_id": uid("x"), "ip": bad})
            self.assertError(r, 400, "invalid_param", param="ip")


class NoProxyTest(KithTestCase):
    """Without --trusted-proxies, X-Forwarded-For and X-Forwarded-Proto mean nothing."""

    def test_forwarded_headers_are_ignored(self):
        s = self.s
        pid = s.make_program()["id"]
        ann = s.make_participant(pid, first_name="Ann", email=uid("a") + "@example.com")
        with Conn(s) as c:
            cookies = []
            for i in range(31):
                r = c.request("GET", "/r/" + ann["code"], headers=dict(UA, **{"X-Forwarded-For": "198.51.100.%d" % i, "X-Forwarded-Proto": "https"}), key=None)
                cookies.append(r.headers.get("set-cookie"))
        self.assertTrue(all(cookies[:30]))
        self.assertNotIn("Secure", cookies[0])
        self.assertIsNone(cookies[30], "31 clicks from one peer: the header did not make them many")


class BadProxySettingTest(unittest.TestCase):
    def test_refused_before_the_database_is_created(self):
        d = tempfile.mkdtemp(prefix="kith-limits-")
        db = os.path.join(d, "kith.db")
        env = dict(os.environ, KITH_TRUSTED_PROXIES="10.0.0.0/40", KITH_SECRET_KEY="sk_x")
        p = subprocess.run([KITH_BIN, "serve", "--listen", "127.0.0.1:0", "--db", db], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"KITH_TRUSTED_PROXIES", p.stderr)
        self.assertFalse(os.path.exists(db), "the database was created before the settings were checked")


if __name__ == "__main__":
    unittest.main()
