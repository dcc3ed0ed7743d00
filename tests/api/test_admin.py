"""Admin accounts, sessions, CSRF, roles, throttling, API keys and CSV exports (contract section
21), black-box on the running binary."""

import csv
import io
import os
import subprocess

import kithtest
from kithtest import KITH_BIN, KithTestCase, uid

PASSWORD = "correct horse battery"


class AdminTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pid = cls.server.make_program()["id"]
        cls.owner = uid("owner") + "@example.com"
        cls.reviewer = uid("rev") + "@example.com"
        cls.admin(cls.server, "create", "--email", cls.owner, password=PASSWORD)
        cls.admin(cls.server, "create", "--email", cls.reviewer, "--role", "reviewer",
                  password=PASSWORD)

    @staticmethod
    def admin(server, *args, password=None, check=True):
        env = server._env()
        env.pop("KITH_SECRET_KEY", None)
        env.pop("KITH_ADMIN_PASSWORD", None)
        if password is not None:
            env["KITH_ADMIN_PASSWORD"] = password
        p = subprocess.run([KITH_BIN, "admin"] + list(args) + ["--db", server.db],
                           stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           cwd=server.dir, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError("kith admin %s failed (%d): %s"
                                 % (args, p.returncode, p.stderr.decode(errors="replace")))
        return p

    def login(self, email, password=PASSWORD):
        return self.s.post("/admin/login", {"email": email, "password": password}, key=None)

    def session(self, email):
        r = self.login(email)
        self.assertStatus(r, 200)
        cookie = r.headers["set-cookie"].split(";")[0]
        return cookie, r.body["csrf"]

    def as_admin(self, method, path, cookie, csrf=None, body=None):
        h = {"Cookie": cookie}
        if csrf:
            h["X-Kith-CSRF"] = csrf
        return self.s.request(method, path, body=body, headers=h, key=None)

    # ---- accounts -----------------------------------------------------------------------------
    def test_create_needs_12_characters(self):
        p = self.admin(self.s, "create", "--email", uid("a") + "@example.com",
                       password="short", check=False)
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_create_twice_fails_and_list_shows_roles(self):
        p = self.admin(self.s, "create", "--email", self.owner, password=PASSWORD, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        out = self.admin(self.s, "list").stdout.decode()
        self.assertIn("%s\towner" % self.owner, out)
        self.assertIn("%s\treviewer" % self.reviewer, out)
        self.assertNotIn(PASSWORD, out)

    def test_password_stored_as_argon2id(self):
        if self.s.is_pg:
            out = self.s.pg("SELECT password_hash FROM admins")
        else:
            import sqlite3
            db = sqlite3.connect(self.s.db)
            out = "\n".join(r[0] for r in db.execute("SELECT password_hash FROM admins"))
            db.close()
        self.assertNotIn(PASSWORD, out)
        for line in out.split():
            self.assertTrue(line.startswith("$argon2id$"), line)

    def test_remove_ends_sessions(self):
        email = uid("gone") + "@example.com"
        self.admin(self.s, "create", "--email", email, password=PASSWORD)
        cookie, _ = self.session(email)
        self.assertStatus(self.as_admin("GET", "/v1/programs", cookie), 200)
        self.admin(self.s, "remove", "--email", email)
        self.assertError(self.as_admin("GET", "/v1/programs", cookie), 401, "unauthorized")
        self.assertError(self.login(email), 401, "unauthorized")
        p = self.admin(self.s, "remove", "--email", email, check=False)
        self.assertEqual(p.returncode, 1)

    # ---- login --------------------------------------------------------------------------------
    def test_login_cookie_and_answer(self):
        r = self.login(self.owner.upper())
        self.assertStatus(r, 200)
        self.assertEqual(set(r.body), {"csrf", "role"})
        self.assertEqual(r.body["role"], "owner")
        c = r.headers["set-cookie"]
        self.assertRegex(c, r"^kith_session=[A-Za-z0-9_]{20,}; ")
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attr, c)
        self.assertNotIn("Secure", c)  # http public URL

    def test_unknown_email_and_wrong_password_answer_alike(self):
        a = self.login(uid("nobody") + "@example.com")
        b = self.login(self.reviewer, "wrong password here")
        self.assertError(a, 401, "unauthorized")
        self.assertError(b, 401, "unauthorized")
        self.assertEqual(a.body, b.body)
        self.assertIsNone(a.headers.get("set-cookie"))

    def test_login_validates_body(self):
        r = self.s.post("/admin/login", {"email": self.owner}, key=None)
        self.assertError(r, 400, "invalid_param", "password")

    def test_ten_failures_throttle_the_email(self):
        email = uid("thr") + "@example.com"
        self.admin(self.s, "create", "--email", email, password=PASSWORD)
        for _ in range(10):
            self.assertError(self.login(email, "not the password"), 401, "unauthorized")
        self.assertError(self.login(email), 429, "rate_limited")
        self.assertError(self.login(email, "not the password"), 429, "rate_limited")
        self.assertStatus(self.login(self.owner), 200)  # another e-mail is not throttled
        self.s.clock_advance(15 * 60 + 1)
        self.assertStatus(self.login(email), 200)

    def test_logout_ends_the_session(self):
        cookie, csrf = self.session(self.owner)
        self.assertError(self.as_admin("POST", "/admin/logout", cookie, body={}), 403, "forbidden")
        r = self.as_admin("POST", "/admin/logout", cookie, csrf, body={})
        self.assertStatus(r, 200)
        self.assertIn("Max-Age=0", r.headers["set-cookie"])
        self.assertError(self.as_admin("GET", "/v1/programs", cookie), 401, "unauthorized")

    def test_sessions_end_after_12_hours_idle(self):
        cookie, _ = self.session(self.owner)
        self.s.clock_advance(11 * 3600)
        self.assertStatus(self.as_admin("GET", "/v1/programs", cookie), 200)
        self.s.clock_advance(11 * 3600)  # 22 h old, 11 h idle
        self.assertStatus(self.as_admin("GET", "/v1/programs", cookie), 200)
        self.s.clock_advance(12 * 3600)
        self.assertError(self.as_admin("GET", "/v1/programs", cookie), 401, "unauthorized")

    def test_session_tokens_stored_as_digests(self):
        cookie, csrf = self.session(self.owner)
        token = cookie.split("=", 1)[1]
        if self.s.is_pg:
            dump = self.s.pg("SELECT digest || ' ' || csrf_digest FROM admin_sessions")
        else:
            with open(self.s.db, "rb") as f:
                dump = f.read().decode("latin-1")
            wal = self.s.db + "-wal"
            if os.path.exists(wal):
                with open(wal, "rb") as f:
                    dump += f.read().decode("latin-1")
        self.assertNotIn(token, dump)
        self.assertNotIn(csrf, dump)

    # ---- CSRF and roles -----------------------------------------------------------------------
    def test_owner_reads_and_writes_with_csrf(self):
        cookie, csrf = self.session(self.owner)
        self.assertStatus(self.as_admin("GET", "/v1/programs/%s" % self.pid, cookie), 200)
        body = {"program": self.pid, "external_id": uid("u"), "first_name": "Ann"}
        self.assertError(self.as_admin("POST", "/v1/participants", cookie, body=body), 403,
                         "forbidden")
        self.assertError(self.as_admin("POST", "/v1/participants", cookie, "kc_wrong", body=body),
                         403, "forbidden")
        self.assertStatus(self.as_admin("POST", "/v1/participants", cookie, csrf, body=body), 201)

    def test_unknown_cookie_is_401(self):
        r = self.as_admin("GET", "/v1/programs", "kith_session=ks_nothing")
        self.assertError(r, 401, "unauthorized")

    def test_reviewer_reads_and_decides_only(self):
        cookie, csrf = self.session(self.reviewer)
        self.assertStatus(self.as_admin("GET", "/v1/referrals?program=%s" % self.pid, cookie), 200)
        self.assertStatus(self.as_admin("GET", "/v1/api_keys", cookie), 200)
        body = {"program": self.pid, "external_id": uid("u"), "first_name": "Ann"}
        self.assertError(self.as_admin("POST", "/v1/participants", cookie, csrf, body=body), 403,
                         "forbidden")
        self.assertError(self.as_admin("PATCH", "/v1/programs/%s" % self.pid, cookie, csrf,
                                       body={"name": "x"}), 403, "forbidden")
        self.assertError(self.as_admin("POST", "/v1/api_keys", cookie, csrf,
                                       body={"kind": "secret"}), 403, "forbidden")
        ip, dev = "198.51.100.77", uid("dev")
        rita = self.s.make_participant(self.pid, "Rita", ip=ip, device_id=dev)
        refs = []
        for _ in range(2):
            r = self.s.signup(self.pid, ref=rita["code"], ip=ip, device_id=dev)
            self.assertStatus(r, 201)
            self.assertEqual(r.body["referral"]["status"], "review", repr(r))
            refs.append(r.body["referral"]["id"])
        self.assertError(self.as_admin("POST", "/v1/referrals/%s/approve" % refs[0], cookie,
                                       body={}), 403, "forbidden")
        r = self.as_admin("POST", "/v1/referrals/%s/approve" % refs[0], cookie, csrf,
                          body={"reason": "known customer"})
        self.assertStatus(r, 200)
        r = self.as_admin("POST", "/v1/referrals/%s/reject" % refs[1], cookie, csrf,
                          body={"reason": "same person"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "rejected")
        self.assertStatus(self.as_admin("POST", "/admin/logout", cookie, csrf, body={}), 200)

    def test_bearer_key_wins_over_cookie(self):
        cookie, _ = self.session(self.reviewer)
        r = self.s.request("POST", "/v1/api_keys", body={"kind": "secret", "name": "b"},
                           headers={"Cookie": cookie})
        self.assertStatus(r, 201)

    # ---- API keys -----------------------------------------------------------------------------
    def test_api_keys_lifecycle(self):
        cookie, csrf = self.session(self.owner)
        r = self.as_admin("POST", "/v1/api_keys", cookie, csrf,
                          body={"kind": "secret", "name": "CRM sync"})
        self.assertStatus(r, 201)
        key = r.body["key"]
        self.assertTrue(key.startswith("sk_"))
        self.assertEqual(r.body["kind"], "secret")
        self.assertEqual(r.body["name"], "CRM sync")
        self.assertIsNone(r.body["last_used_at"])
        kid = r.body["id"]
        self.assertStatus(self.s.get("/v1/programs", key=key), 200)
        lst = self.s.get("/v1/api_keys")
        self.assertStatus(lst, 200)
        self.assertNotIn(key, lst.text if hasattr(lst, "text") else str(lst.body))
        mine = [k for k in lst.body["data"] if k["id"] == kid][0]
        self.assertEqual(set(mine), {"id", "kind", "name", "created_at", "last_used_at"})
        self.assertIsNotNone(mine["last_used_at"])
        r = self.as_admin("DELETE", "/v1/api_keys/%s" % kid, cookie, csrf)
        self.assertStatus(r, 200)
        self.assertError(self.s.get("/v1/programs", key=key), 401, "unauthorized")
        self.assertError(self.as_admin("DELETE", "/v1/api_keys/%s" % kid, cookie, csrf), 404,
                         "not_found")
        self.assertError(self.s.delete("/v1/api_keys/key_env"), 409, "invalid_state")
        self.assertStatus(self.s.get("/v1/programs"), 200)

    def test_publishable_key_from_api(self):
        r = self.s.post("/v1/api_keys", {"kind": "publishable"})
        self.assertStatus(r, 201)
        self.assertTrue(r.body["key"].startswith("pk_"))
        self.assertIsNone(r.body["name"])
        self.assertError(self.s.post("/v1/api_keys", {"kind": "admin"}), 400, "invalid_param",
                         "kind")
        self.assertError(self.s.get("/v1/api_keys", key=r.body["key"]), 403, "forbidden")

    # ---- CSV exports --------------------------------------------------------------------------
    def test_csv_exports(self):
        pid = self.s.make_program()["id"]
        evil = self.s.make_participant(pid, "=HYPERLINK(\"x\")")
        self.s.make_participant(pid, "Ann, \"the\" first")
        r = self.s.get("/v1/exports/participants.csv?program=%s" % pid)
        self.assertStatus(r, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/csv"))
        text = r.raw.decode()
        self.assertIn("\r\n", text)
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0][0], "id")
        self.assertEqual(len(rows), 3)
        names = {row[rows[0].index("first_name")] for row in rows[1:]}
        self.assertEqual(names, {"'=HYPERLINK(\"x\")", "Ann, \"the\" first"})
        self.assertIn(evil["id"], text)
        cookie, _ = self.session(self.reviewer)
        for what in ("participants", "referrals", "rewards"):
            r = self.as_admin("GET", "/v1/exports/%s.csv?program=%s" % (what, pid), cookie)
            self.assertStatus(r, 200)
            self.assertTrue(r.raw.decode().startswith("id,program,"))
        self.assertError(self.s.get("/v1/exports/secrets.csv?program=%s" % pid), 404, "not_found")
        self.assertError(self.s.get("/v1/exports/rewards.csv?program=nope"), 404, "not_found")
        self.assertError(self.s.get("/v1/exports/rewards.csv?program=%s" % pid, key=None), 401,
                         "unauthorized")

    # ---- the dashboard page -------------------------------------------------------------------
    def test_dashboard_page(self):
        for path in ("/admin", "/admin/overview", "/admin/review"):
            r = self.s.get(path, key=None)
            self.assertStatus(r, 200)
            self.assertIn("text/html", r.headers["content-type"])
            csp = r.headers["content-security-policy"]
            self.assertIn("default-src 'none'", csp)
            self.assertIn("script-src 'self'", csp)
            self.assertIn(b"/assets/admin.js", r.raw)
        r = self.s.get("/assets/admin.js", key=None)
        self.assertStatus(r, 200)
        js = r.raw.replace(b'"http://www.w3.org/2000/svg"', b"")  # a namespace, not a request
        self.assertNotIn(b"http://", js)
        self.assertNotIn(b"https://", js.replace(b'"https://example.com/join"', b""))


class SecureCookieTest(KithTestCase):
    server_kwargs = {"test_clock": True, "public_url": "https://kith.example.com"}

    def test_secure_cookie_under_https(self):
        email = uid("s") + "@example.com"
        AdminTest.admin(self.s, "create", "--email", email, password=PASSWORD)
        r = self.s.post("/admin/login", {"email": email, "password": PASSWORD}, key=None)
        self.assertStatus(r, 200)
        self.assertIn("; Secure", r.headers["set-cookie"])


if __name__ == "__main__":
    kithtest.main()
