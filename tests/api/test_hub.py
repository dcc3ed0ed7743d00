"""The people's side (contract sections 4 v2, 4b and 20): share-hub links and their tokens
(expiry, erasure, block, 401 on every other route, never stored or logged), the hub's JSON API,
hub_login by e-mail, CORS (answers and preflights, allowed_origins), the friend landing page
(HTML, Open Graph, bots, HEAD, blocked and erased codes), kith_click in the Location, the
cookie_domain setting, and the embedded files (/kith.js, /assets/...).
"""

import re
import urllib.parse

import kithtest
from kithtest import KithTestCase, Server, parse_time, uid
from test_notifications import SmtpSink
from test_webhooks import wait_until

PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
BOT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
TOKEN_RE = re.compile(r"^hub_[a-z0-9]{40}$")


def hub(token):
    return {"Authorization": "Hub " + token}


class HubCase(KithTestCase):
    def program(self, **kw):
        return self.s.make_program(**kw)["id"]

    def hub_link(self, pid, days=30):
        r = self.s.post("/v1/participants/%s/hub_link" % pid, {"expires_in_days": days})
        self.assertStatus(r, 201)
        return r.body

    def token_of(self, pid, days=30):
        return self.hub_link(pid, days)["url"].rsplit("/p/", 1)[1]

    def me(self, token, **kw):
        return self.s.get("/v1/hub/me", key=None, headers=hub(token), **kw)


class HubLinkTest(HubCase):
    def test_link_shape_and_expiry_time(self):
        prog = self.program()
        p = self.s.make_participant(prog)
        now = self.s.clock_now()
        body = self.hub_link(p["id"], 7)
        self.assertEqual(set(body), {"url", "expires_at"})
        self.assertTrue(body["url"].startswith(self.s.public + "/p/"), body)
        token = body["url"].rsplit("/p/", 1)[1]
        self.assertRegex(token, TOKEN_RE)  # 40 base32 characters: 200 random bits
        self.assertEqual((parse_time(body["expires_at"]) - now).total_seconds(), 7 * 86400)
        self.assertNotEqual(token, self.token_of(p["id"]), "every link is new")

    def test_expires_in_days_bounds_and_unknowns(self):
        p = self.s.make_participant(self.program())
        for bad in (0, 366, "7", 1.5):
            r = self.s.post("/v1/participants/%s/hub_link" % p["id"], {"expires_in_days": bad})
            self.assertError(r, 400, "invalid_param", "expires_in_days")
        r = self.s.post("/v1/participants/%s/hub_link" % p["id"], {"other": 1})
        self.assertError(r, 400, "invalid_param", "other")
        r = self.s.post("/v1/participants/par_nope/hub_link", {})
        self.assertError(r, 404, "not_found")
        self.assertStatus(self.s.post("/v1/participants/%s/hub_link" % p["id"], {}), 201)
        pk = self.s.keys_create(publishable=True)
        r = self.s.post("/v1/participants/%s/hub_link" % p["id"], {}, key=pk)
        self.assertError(r, 403, "forbidden")

    def test_token_opens_only_its_own_hub(self):
        prog = self.program()
        jane, sam = self.s.make_participant(prog, "Jane"), self.s.make_participant(prog, "Sam")
        t = self.token_of(jane["id"])
        r = self.me(t)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["participant"]["id"], jane["id"])
        self.assertEqual(r.body["participant"]["code"], jane["code"])
        # A hub token on any other route: 401, even where it names its own person.
        for method, path in (("GET", "/v1/participants/" + jane["id"]),
                             ("GET", "/v1/participants/" + sam["id"]),
                             ("GET", "/v1/programs"),
                             ("GET", "/v1/leaderboard?program=" + prog),
                             ("POST", "/v1/public/hub_login")):
            r = self.s.request(method, path, body={} if method == "POST" else None, key=None,
                               headers=hub(t))
            self.assertError(r, 401, "unauthorized")
        # And an API key opens no hub.
        self.assertError(self.s.get("/v1/hub/me"), 401, "unauthorized")
        self.assertError(self.s.get("/v1/hub/me", key=None), 401, "unauthorized")
        self.assertError(self.me("hub_" + "a" * 40), 401, "unauthorized")
        self.assertError(self.me("x" * 5000), 401, "unauthorized")

    def test_expired_erased_blocked_tokens_stop_working(self):
        prog = self.program()
        a, b, c = (self.s.make_participant(prog) for _ in range(3))
        ta, tb, tc = self.token_of(a["id"], 1), self.token_of(b["id"]), self.token_of(c["id"])
        self.s.clock_advance(86400 - 1)
        self.assertStatus(self.me(ta), 200)
        self.s.clock_advance(1)
        self.assertError(self.me(ta), 401, "unauthorized")
        self.assertStatus(self.s.get("/p/" + ta, key=None), 404)
        self.assertStatus(self.s.post("/v1/participants/%s/erase" % b["id"], {}), 200)
        self.assertError(self.me(tb), 401, "unauthorized")
        self.assertStatus(self.s.get("/p/" + tb, key=None), 404)
        self.assertStatus(self.s.patch("/v1/participants/" + c["id"], {"status": "blocked"}), 200)
        self.assertError(self.me(tc), 401, "unauthorized")
        self.assertStatus(self.s.get("/p/" + tc, key=None), 404)
        r = self.s.post("/v1/participants/%s/hub_link" % c["id"], {})
        self.assertError(r, 409, "invalid_state")

    def test_token_never_stored_nor_logged(self):
        prog = self.program()
        p = self.s.make_participant(prog)
        t = self.token_of(p["id"])
        self.assertStatus(self.me(t), 200)
        self.assertStatus(self.s.get("/p/" + t, key=None), 200)
        self.assertStatus(self.s.get("/p/" + t + "?embed=1", key=None), 200)
        self.assertStatus(self.s.get("/v1/hub/export", key=None, headers=hub(t)), 200)
        for path in self.s.db_files():
            with open(path, "rb") as f:
                self.assertFalse(t.encode() in f.read(), "the token is in %s" % path)
        # The access log is written in batches: wait for the page's line, then look at all.
        self.wait_for(lambda: "route=hub.export" in self.s.log_text(), timeout=10,
                      what="the access log's lines")
        log = self.s.log_text()
        self.assertNotIn(t, log)
        self.assertIn("route=hub.page", log, "the access log names the route")

    def test_export_lists_links_without_tokens(self):
        p = self.s.make_participant(self.program())
        t = self.token_of(p["id"])
        for r in (self.s.get("/v1/participants/%s/export" % p["id"]),
                  self.s.get("/v1/hub/export", key=None, headers=hub(t))):
            self.assertStatus(r, 200)
            self.assertEqual(len(r.body["hub_links"]), 1)
            self.assertEqual(set(r.body["hub_links"][0]), {"created_at", "expires_at"})
            self.assertNotIn(t, r.raw.decode())


class HubApiTest(HubCase):
    def story(self):
        prog = self.program(qualification={"event": "purchase", "hold_days": 14})
        jane = self.s.make_participant(prog, "Jane", email="jane@example.com",
                                       leaderboard_opt_in=True)
        sam = self.s.signup(prog, ref=jane["code"], first_name="Sam", email="sam@example.org")
        self.assertStatus(sam, 201)
        priya = self.s.signup(prog, ref=jane["code"], first_name="Priya", email="p@example.org")
        self.assertStatus(self.s.event(prog, priya.body["participant"]["external_id"]), 201)
        return prog, jane, self.token_of(jane["id"])

    def test_me_document(self):
        prog, jane, t = self.story()
        r = self.me(t)
        self.assertStatus(r, 200)
        d = r.body
        self.assertEqual(set(d), {"participant", "program", "share", "referrals", "rewards",
                                  "leaderboard"})
        me = d["participant"]
        for hidden in ("email", "external_id", "metadata"):
            self.assertNotIn(hidden, me)
        self.assertEqual(d["program"]["id"], prog)
        self.assertEqual(d["program"]["friend_reward"], "Your first month on us")
        self.assertEqual(d["program"]["referrer_rewards"][0]["words"], "a 25.00 USD credit")
        self.assertEqual(d["share"]["code"], jane["code"])
        self.assertEqual(d["share"]["messages"]["sms"].count("?ch=sms"), 1)
        by_name = {x["first_name"]: x for x in d["referrals"]}
        self.assertEqual(by_name["Sam"]["status"], "pending")
        self.assertEqual(by_name["Sam"]["status_text"], "waiting for a first purchase")
        self.assertEqual(by_name["Priya"]["status"], "qualified")
        self.assertRegex(by_name["Priya"]["status_text"], r"^reward on hold until \d{1,2} [A-Z][a-z]+")
        self.assertNotIn("example.org", r.raw.decode(), "never a friend's e-mail")
        self.assertEqual(d["rewards"][0]["status"], "pending")
        self.assertEqual(d["rewards"][0]["friend_first_name"], "Priya")
        self.assertEqual(d["leaderboard"]["me"], {"rank": 1, "qualified": 1})
        self.assertTrue(d["leaderboard"]["top"][0]["me"])
        self.assertNotIn("participant", d["leaderboard"]["top"][0], "no one else's id")
        html = self.s.get("/p/" + t, key=None)
        self.assertStatus(html, 200)
        for text in (jane["code"], "Sam", "Priya", "waiting for a first purchase",
                     "reward on hold until", "<svg", "mailto:?subject=", "sms:?&amp;body=",
                     "https://wa.me/?text="):
            self.assertIn(text, html.raw.decode())

    def test_patch_me(self):
        prog, jane, t = self.story()
        r = self.s.patch("/v1/hub/me", {"leaderboard_opt_in": False}, key=None, headers=hub(t))
        self.assertStatus(r, 200)
        self.assertFalse(r.body["participant"]["leaderboard_opt_in"])
        self.assertFalse(self.s.participant(jane["id"])["leaderboard_opt_in"])
        for body, param in (({"email": "x@example.com"}, "email"), ({"status": "blocked"}, "status"),
                            ({"leaderboard_opt_in": "yes"}, "leaderboard_opt_in")):
            r = self.s.patch("/v1/hub/me", body, key=None, headers=hub(t))
            self.assertError(r, 400, "invalid_param", param)
        self.assertEqual(self.s.participant(jane["id"])["status"], "active")

    def test_erase_needs_confirmation(self):
        prog, jane, t = self.story()
        for body in ({}, {"confirm": False}):
            r = self.s.post("/v1/hub/erase", body, key=None, headers=hub(t))
            self.assertError(r, 400, "invalid_param", "confirm")
        self.assertNotIn("erased", self.s.participant(jane["id"]))
        r = self.s.post("/v1/hub/erase", {"confirm": True}, key=None, headers=hub(t))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, {"erased": True})
        p = self.s.participant(jane["id"])
        self.assertTrue(p["erased"])
        self.assertIsNone(p["email"])
        self.assertError(self.me(t), 401, "unauthorized")
        # The code stops attributing, as after any erasure.
        r = self.s.click(jane["code"], ua=PERSON)
        self.assertStatus(r, 302)
        self.assertNotIn("ref=", r.headers["location"])

    def test_hub_idempotency_is_per_person(self):
        prog = self.program()
        a, b = self.s.make_participant(prog), self.s.make_participant(prog)
        ta, tb = self.token_of(a["id"]), self.token_of(b["id"])
        h = {"Idempotency-Key": "same-key"}
        ra = self.s.post("/v1/hub/erase", {"confirm": True}, key=None, headers=dict(hub(ta), **h))
        rb = self.s.post("/v1/hub/erase", {"confirm": True}, key=None, headers=dict(hub(tb), **h))
        self.assertStatus(ra, 200)
        self.assertStatus(rb, 200)
        self.assertNotIn("idempotent-replayed", rb.headers)
        self.assertTrue(self.s.participant(b["id"])["erased"])


class HubLoginTest(HubCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = SmtpSink()
        cls.server_kwargs = {"test_clock": True,
                             "env": {"KITH_SMTP_URL": "smtp://127.0.0.1:%d" % cls.sink.port,
                                     "KITH_SMTP_FROM": "referrals@kith.test"}}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.sink.close()

    def login(self, body):
        return self.s.post("/v1/public/hub_login", body, key=None)

    def mails_to(self, addr):
        with self.sink.lock:
            return [m for m in self.sink.messages if addr in " ".join(m[1])]

    def test_same_answer_whatever_the_email(self):
        prog = self.program()
        p = self.s.make_participant(prog, "Jane", email="Jane.Login@Example.com")
        for body in ({"program": prog, "email": "nobody@example.com"},
                     {"program": "no-such-program", "email": "jane.login@example.com"},
                     {"program": prog, "email": "not an email"},
                     {"program": prog, "email": "jane.login@example.com"}):
            r = self.login(body)
            self.assertStatus(r, 202)
            self.assertEqual(r.body, {"sent": True})
        self.assertError(self.login({"program": prog}), 400, "invalid_param", "email")
        self.assertError(self.login({"program": prog, "email": "a@b.c", "x": 1}), 400,
                         "invalid_param", "x")
        got = wait_until(lambda: self.mails_to("Jane.Login@Example.com"), timeout=10)
        self.assertTrue(got, "no sign-in mail arrived")
        self.assertEqual(len(got), 1)
        raw = got[0][2].decode("utf-8", errors="replace").replace("=\r\n", "")
        m = re.search(r"/p/(hub_[a-z0-9]{40})", raw)
        self.assertTrue(m, raw)
        token = m.group(1)
        r = self.me(token)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["participant"]["id"], p["id"])
        # Once sent, the link leaves the database: no copy of the token anywhere.
        def redacted():
            notes = self.s.get("/v1/participants/%s/notifications" % p["id"]).body["data"]
            return notes and notes[0]["status"] == "sent" and notes[0]
        note = wait_until(redacted, timeout=10)
        self.assertTrue(note)
        self.assertEqual(note["stage"], "hub_link")
        self.assertNotIn(token, note["body"])
        for path in self.s.db_files():
            with open(path, "rb") as f:
                self.assertFalse(token.encode() in f.read(), "the token is in %s" % path)
        # Expires after a week.
        self.s.clock_advance(7 * 86400)
        self.assertError(self.me(token), 401, "unauthorized")

    def test_blocked_people_and_floods_get_no_mail(self):
        prog = self.program()
        b = self.s.make_participant(prog, "Bo", email="bo.blocked@example.com")
        self.s.patch("/v1/participants/" + b["id"], {"status": "blocked"})
        f = self.s.make_participant(prog, "Flo", email="flo.flood@example.com")
        for _ in range(5):
            self.assertStatus(self.login({"program": prog, "email": "bo.blocked@example.com"}), 202)
            self.assertStatus(self.login({"program": prog, "email": "flo.flood@example.com"}), 202)
        got = wait_until(lambda: len(self.mails_to("flo.flood@example.com")) >= 3, timeout=10)
        self.assertTrue(got)
        n = len(self.s.get("/v1/participants/%s/notifications" % f["id"]).body["data"])
        self.assertEqual(n, 3, "at most 3 sign-in mails in 15 minutes")
        self.assertEqual(self.mails_to("bo.blocked@example.com"), [])


class NoSmtpLoginTest(HubCase):
    def test_without_smtp_nothing_is_queued(self):
        prog = self.program()
        p = self.s.make_participant(prog, "Ann", email="ann@example.com")
        r = self.s.post("/v1/public/hub_login", {"program": prog, "email": "ann@example.com"},
                        key=None)
        self.assertStatus(r, 202)
        self.assertEqual(r.body, {"sent": True})
        self.assertEqual(self.s.get("/v1/participants/%s/notifications" % p["id"]).body["data"], [])


class CorsTest(HubCase):
    SHOP = "https://shop.example.com"
    OTHER = "https://other.example.net"
    UNLISTED = "https://unlisted.example.net"

    def test_allowed_origins_validation(self):
        for bad in (["https://shop.example.com/"], ["ftp://shop.example.com"],
                    ["https://Shop.example.com"], ["https://shop.example.com/path"], "https://a.b",
                    ["https://a.b:0"], [1], ["https://"], ["http://a..b"]):
            r = self.s.post("/v1/programs", self.s.program_body(allowed_origins=bad))
            self.assertError(r, 400, "invalid_param", "allowed_origins")
        prog = self.s.make_program(allowed_origins=["https://a.example", "http://localhost:3000"])
        self.assertEqual(prog["allowed_origins"], ["https://a.example", "http://localhost:3000"])
        self.assertEqual(self.s.make_program()["allowed_origins"], [])
        r = self.s.patch("/v1/programs/" + prog["id"], {"allowed_origins": [self.OTHER]})
        self.assertEqual(r.body["allowed_origins"], [self.OTHER])

    def test_hub_answers_and_preflights(self):
        prog = self.program(allowed_origins=[self.SHOP])
        p = self.s.make_participant(prog)
        t = self.token_of(p["id"])
        r = self.s.get("/v1/hub/me", key=None, headers=dict(hub(t), Origin=self.SHOP))
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["access-control-allow-origin"], self.SHOP)
        self.assertIn("Origin", r.headers["vary"])
        r = self.s.get("/v1/hub/me", key=None, headers=dict(hub(t), Origin=self.UNLISTED))
        self.assertStatus(r, 200)
        self.assertNotIn("access-control-allow-origin", r.headers)
        # Errors carry CORS too, so a page can read why (an expired link).
        r = self.s.get("/v1/hub/me", key=None, headers=dict(hub("hub_" + "z" * 40), Origin=self.SHOP))
        self.assertError(r, 401, "unauthorized")
        self.assertEqual(r.headers["access-control-allow-origin"], self.SHOP)
        pre = self.s.request("OPTIONS", "/v1/hub/me", key=None, headers={
            "Origin": self.SHOP, "Access-Control-Request-Method": "PATCH"})
        self.assertStatus(pre, 204)
        self.assertEqual(pre.headers["access-control-allow-origin"], self.SHOP)
        self.assertEqual(pre.headers["access-control-allow-methods"], "GET, PATCH")
        self.assertEqual(pre.headers["access-control-allow-headers"], "Authorization, Content-Type")
        pre = self.s.request("OPTIONS", "/v1/hub/erase", key=None, headers={"Origin": self.SHOP})
        self.assertEqual(pre.headers["access-control-allow-methods"], "POST")
        pre = self.s.request("OPTIONS", "/v1/public/hub_login", key=None,
                             headers={"Origin": self.SHOP})
        self.assertStatus(pre, 204)
        self.assertEqual(pre.headers["access-control-allow-origin"], self.SHOP)
        pre = self.s.request("OPTIONS", "/v1/hub/me", key=None, headers={"Origin": self.UNLISTED})
        self.assertStatus(pre, 204)
        self.assertNotIn("access-control-allow-origin", pre.headers)
        self.assertStatus(self.s.request("OPTIONS", "/v1/hub/nothing", key=None,
                                         headers={"Origin": self.SHOP}), 404)

    def test_leaderboard_with_a_publishable_key_only(self):
        prog = self.program(allowed_origins=[self.SHOP])
        other = self.program(allowed_origins=[self.OTHER])
        pk = self.s.keys_create(publishable=True)
        path = "/v1/leaderboard?program=" + prog
        r = self.s.get(path, key=pk, headers={"Origin": self.SHOP})
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["access-control-allow-origin"], self.SHOP)
        r = self.s.get(path, key=pk, headers={"Origin": self.OTHER})
        self.assertNotIn("access-control-allow-origin", r.headers, "listed by another program")
        r = self.s.get(path, headers={"Origin": self.SHOP})
        self.assertStatus(r, 200)
        self.assertNotIn("access-control-allow-origin", r.headers, "never for a secret key")
        pre = self.s.request("OPTIONS", path, key=None, headers={"Origin": self.SHOP})
        self.assertEqual(pre.headers["access-control-allow-origin"], self.SHOP)
        self.assertEqual(pre.headers["access-control-allow-methods"], "GET")
        pre = self.s.request("OPTIONS", "/v1/leaderboard?program=" + other, key=None,
                             headers={"Origin": self.SHOP})
        self.assertNotIn("access-control-allow-origin", pre.headers)
        # Routes for servers never answer CORS.
        r = self.s.get("/v1/programs", headers={"Origin": self.SHOP})
        self.assertNotIn("access-control-allow-origin", r.headers)
        pre = self.s.request("OPTIONS", "/v1/programs", key=None, headers={"Origin": self.SHOP})
        self.assertNotIn("access-control-allow-origin", pre.headers)

    def test_preflight_cache_follows_program_changes(self):
        origin = "https://late.example.org"
        prog = self.program()
        pre = self.s.request("OPTIONS", "/v1/hub/me", key=None, headers={"Origin": origin})
        self.assertNotIn("access-control-allow-origin", pre.headers)
        self.s.patch("/v1/programs/" + prog, {"allowed_origins": [origin]})
        pre = self.s.request("OPTIONS", "/v1/hub/me", key=None, headers={"Origin": origin})
        self.assertEqual(pre.headers.get("access-control-allow-origin"), origin)


class LandingTest(HubCase):
    def landing(self, **kw):
        prog = self.program(landing="page", destination_url="https://example.com/join?plan=a", **kw)
        return prog, self.s.make_participant(prog, "Jane")

    def test_setting(self):
        self.assertEqual(self.s.make_program()["landing"], "redirect")
        r = self.s.post("/v1/programs", self.s.program_body(landing="popup"))
        self.assertError(r, 400, "invalid_param", "landing")

    def test_page_for_a_person(self):
        prog, jane = self.landing()
        r = self.s.click(jane["code"], ua=PERSON, query="?ch=qr")
        self.assertStatus(r, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/html"))
        csp = r.headers["content-security-policy"]
        self.assertNotIn("unsafe-inline", csp)
        self.assertIn("default-src 'none'", csp)
        m = re.match(r"kith_ref=(clk_[A-Za-z0-9_-]+);", r.headers["set-cookie"])
        self.assertTrue(m, r.headers)
        cid = m.group(1)
        html = r.raw.decode()
        self.assertIn("<h1>Jane invited you</h1>", html)
        self.assertIn("Test Program", html)
        self.assertIn("Your first month on us", html)
        self.assertIn("after your first purchase", html)
        self.assertIn('<p class="code" aria-labelledby="code-label">%s</p>' % jane["code"], html)
        self.assertIn('<meta property="og:title" content="Jane invited you to Test Program">', html)
        self.assertIn('<meta property="og:url" content="%s/r/%s">' % (self.s.public, jane["code"]),
                      html)
        self.assertRegex(html, r'<meta property="og:description" content="Your first month on us')
        href = re.search(r'<a class="btn primary wide" href="([^"]+)"', html).group(1)
        href = href.replace("&amp;", "&")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
        self.assertEqual(q, {"plan": ["a"], "ref": [jane["code"]], "kith_click": [cid]})
        self.assertEqual(self.s.participant(jane["id"])["stats"]["clicks"], 1)
        # The click counts for attribution like a redirect's.
        s = self.s.signup(prog, click_id=cid)
        self.assertEqual(s.body["attribution"]["source"], "cookie")

    def test_bots_head_and_escaping(self):
        prog, jane = self.landing()
        r = self.s.click(jane["code"], ua=BOT)
        self.assertStatus(r, 200)
        self.assertNotIn("set-cookie", r.headers)
        self.assertIn('og:title" content="Jane invited you to Test Program"', r.raw.decode())
        self.assertNotIn("kith_click", r.raw.decode())
        r = self.s.click(jane["code"], ua=PERSON, method="HEAD")
        self.assertStatus(r, 200)
        self.assertNotIn("set-cookie", r.headers)
        self.assertEqual(self.s.participant(jane["id"])["stats"]["clicks"], 0)
        evil = self.s.make_participant(prog, '<script>alert("x")</script>')
        self.s.patch("/v1/programs/" + prog, {"name": "A & B <i>"})
        r = self.s.click(evil["code"], ua=PERSON)
        self.assertNotIn("<script>alert", r.raw.decode())
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; invited you", r.raw.decode())
        self.assertIn("A &amp; B &lt;i&gt;", r.raw.decode())

    def test_blocked_and_erased_codes_redirect(self):
        prog, jane = self.landing()
        self.s.patch("/v1/participants/" + jane["id"], {"status": "blocked"})
        r = self.s.click(jane["code"], ua=PERSON)
        self.assertStatus(r, 302)
        self.assertEqual(r.headers["location"], "https://example.com/join?plan=a")
        self.assertNotIn("set-cookie", r.headers)
        sam = self.s.make_participant(prog, "Sam")
        self.s.post("/v1/participants/%s/erase" % sam["id"], {})
        r = self.s.click(sam["code"], ua=PERSON)
        self.assertStatus(r, 302)
        self.assertEqual(r.headers["location"], "https://example.com/join?plan=a")

    def test_no_friend_reward_and_no_name(self):
        prog = self.program(landing="page", rewards=[
            {"to": "referrer", "kind": "credit", "amount": 1000, "currency": "EUR"}])
        p = self.s.make_participant(prog, None)
        r = self.s.click(p["code"], ua=PERSON)
        self.assertStatus(r, 200)
        self.assertIn("<h1>You're invited</h1>", r.raw.decode().replace("&#39;", "'"))
        self.assertNotIn("What you get", r.raw.decode())


class ClickTest(HubCase):
    def test_kith_click_only_when_counted(self):
        prog = self.program()
        p = self.s.make_participant(prog)
        r = self.s.click(p["code"], ua=PERSON)
        cid = re.match(r"kith_ref=([^;]+)", r.headers["set-cookie"]).group(1)
        self.assertTrue(r.headers["location"].endswith("ref=%s&kith_click=%s" % (p["code"], cid)))
        r = self.s.click(p["code"], ua=BOT)
        self.assertTrue(r.headers["location"].endswith("ref=" + p["code"]), r.headers)
        r = self.s.click(p["code"], ua=PERSON, method="HEAD")
        self.assertNotIn("kith_click", r.headers["location"])
        for _ in range(29):
            self.s.click(p["code"], ua=PERSON)
        r = self.s.click(p["code"], ua=PERSON)  # the 31st in a minute: not counted
        self.assertNotIn("kith_click", r.headers["location"])
        self.assertNotIn("set-cookie", r.headers)


class CookieDomainTest(HubCase):
    server_kwargs = {"test_clock": True, "public_url": "http://refer.example.test"}

    def test_cookie_domain(self):
        self.assertIsNone(self.s.make_program()["cookie_domain"])
        for ok in ("example.test", "refer.example.test", "EXAMPLE.test", ".example.test"):
            prog = self.s.make_program(cookie_domain=ok)
            self.assertIn(prog["cookie_domain"], ("example.test", "refer.example.test"))
        for bad in ("other.test", "xample.test", "example.test.evil", "exa mple.test", 5, ""):
            r = self.s.post("/v1/programs", self.s.program_body(cookie_domain=bad))
            self.assertError(r, 400, "invalid_param", "cookie_domain")
        prog = self.s.make_program(cookie_domain="example.test")
        p = self.s.make_participant(prog["id"])
        r = self.s.click(p["code"], ua=PERSON)
        parts = [x.strip() for x in r.headers["set-cookie"].split(";")]
        self.assertIn("Domain=example.test", parts)
        r = self.s.patch("/v1/programs/" + prog["id"], {"cookie_domain": "elsewhere.test"})
        self.assertError(r, 400, "invalid_param", "cookie_domain")
        r = self.s.patch("/v1/programs/" + prog["id"], {"cookie_domain": None})
        self.assertIsNone(r.body["cookie_domain"])
        r = self.s.click(p["code"], ua=PERSON)
        self.assertNotIn("Domain=", r.headers["set-cookie"])


class AssetsTest(HubCase):
    def test_kith_js(self):
        r = self.s.get("/kith.js", key=None)
        self.assertStatus(r, 200)
        self.assertLessEqual(len(r.raw), 8192, "kith.js is at most 8 KiB")
        self.assertTrue(r.headers["content-type"].startswith("text/javascript"))
        self.assertIn("max-age=", r.headers["cache-control"])
        etag = r.headers["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        r2 = self.s.get("/kith.js", key=None, headers={"If-None-Match": etag})
        self.assertStatus(r2, 304)
        self.assertEqual(r2.raw, b"")
        self.assertIn(b"window", r.raw)

    def test_assets_and_templates(self):
        for name in ("hub.js", "kith.css"):
            self.assertStatus(self.s.get("/assets/" + name, key=None), 200)
        for name in ("hub.html", "landing.html", "nope.js", "kith.js.map"):
            self.assertStatus(self.s.get("/assets/" + name, key=None), 404)
        self.assertStatus(self.s.get("/p/hub_nothing", key=None), 404)
        self.assertStatus(self.s.get("/p/" + "x" * 300, key=None), 404)


if __name__ == "__main__":
    kithtest.main()
