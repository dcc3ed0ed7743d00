"""Links and clicks: GET/HEAD /r/{code} (contract section 4)."""

import re
import urllib.parse

import kithtest
from kithtest import KithTestCase

def cookie_attrs(value):
    """'kith_ref=clk_x; Max-Age=1; Path=/' -> ('clk_x', {'Max-Age=1', 'Path=/'})"""
    parts = [p.strip() for p in value.split(";")]
    name, _, cid = parts[0].partition("=")
    assert name == "kith_ref", value
    return cid, set(parts[1:])
BOT_UAS = ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
           "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
           "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
           "Twitterbot/1.0", "WhatsApp/2.23.20.0", "LinkedInBot/1.0 (compatible; Mozilla/5.0)"]


def query_of(location):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query, keep_blank_values=True)


class LinksTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.server.make_program(destination_url="https://example.com/join?utm_source=kith&x=1",
                                              cookie_days=14)
        cls.pid = cls.program["id"]

    def participant(self, name="Jane"):
        return self.s.make_participant(self.pid, name)

    def clicks_of(self, par):
        return self.s.participant(par)["stats"]["clicks"]

    def test_redirect_location_and_cookie(self):
        p = self.participant()
        r = self.s.click(p["code"])
        self.assertStatus(r, 302)
        loc = r.headers["location"]
        parts = urllib.parse.urlsplit(loc)
        self.assertEqual((parts.scheme, parts.netloc, parts.path), ("https", "example.com", "/join"))
        cookies = r.all_headers("set-cookie")
        self.assertEqual(len(cookies), 1, cookies)
        cid, attrs = cookie_attrs(cookies[0])
        self.assertRegex(cid, r"^clk_[A-Za-z0-9_-]+$")
        # v2: a counted click's id rides along in the Location too (kith_click).
        self.assertEqual(query_of(loc), {"utm_source": ["kith"], "x": ["1"], "ref": [p["code"]],
                                         "kith_click": [cid]})
        self.assertTrue(loc.startswith("https://example.com/join?utm_source=kith&x=1&"), loc)
        self.assertEqual(attrs, {"Max-Age=%d" % (14 * 86400), "Path=/", "HttpOnly", "SameSite=Lax"})

    def test_each_click_gets_a_new_click_id(self):
        p = self.participant()
        a = self.s.click_id(p["code"])
        b = self.s.click_id(p["code"])
        self.assertNotEqual(a, b)

    def test_destination_without_query(self):
        prog = self.s.make_program(destination_url="http://shop.example.org/")
        p = self.s.make_participant(prog["id"], "Bob")
        r = self.s.click(p["code"])
        self.assertStatus(r, 302)
        cid = cookie_attrs(r.headers["set-cookie"])[0]
        self.assertEqual(r.headers["location"],
                         "http://shop.example.org/?ref=%s&kith_click=%s" % (p["code"], cid))
        self.assertEqual(cookie_attrs(r.headers["set-cookie"])[1],
                         {"Max-Age=2592000", "Path=/", "HttpOnly", "SameSite=Lax"})

    def test_destination_with_fragment(self):
        prog = self.s.make_program(destination_url="https://example.com/a?b=1#top")
        p = self.s.make_participant(prog["id"], "Bob")
        r = self.s.click(p["code"])
        self.assertStatus(r, 302)
        cid = cookie_attrs(r.headers["set-cookie"])[0]
        self.assertEqual(r.headers["location"],
                         "https://example.com/a?b=1&ref=%s&kith_click=%s#top" % (p["code"], cid))

    def test_case_insensitive_and_dashless(self):
        p = self.participant()
        code = p["code"]
        for variant in (code.lower(), code.replace("-", ""), code.replace("-", "").lower(),
                        code.capitalize()):
            r = self.s.click(variant)
            self.assertStatus(r, 302, variant)
            self.assertEqual(query_of(r.headers["location"])["ref"], [code], variant)
            self.assertEqual(cookie_attrs(r.headers["set-cookie"])[1],
                             {"Max-Age=1209600", "Path=/", "HttpOnly", "SameSite=Lax"})

    def test_channel_kept_on_click(self):
        p = self.participant()
        for ch in ("email", "sms", "whatsapp", "qr"):
            cid = self.s.click_id(p["code"], query="?ch=" + ch)
            r = self.s.signup(self.pid, click_id=cid)
            self.assertStatus(r, 201)
            self.assertEqual(r.body["attribution"]["source"], "cookie")
            self.assertEqual(r.body["referral"]["channel"], ch)
        cid = self.s.click_id(p["code"])
        r = self.s.signup(self.pid, click_id=cid)
        self.assertIsNone(r.body["referral"]["channel"])

    def test_invalid_channel_still_redirects(self):
        p = self.participant()
        for q in ("?ch=BAD%20CHANNEL", "?ch=" + "a" * 21, "?ch="):
            r = self.s.click(p["code"], query=q)
            self.assertStatus(r, 302, q)
            self.assertEqual(query_of(r.headers["location"])["ref"], [p["code"]])

    def test_unknown_code_404_no_cookie(self):
        for code in ("QQXQ-0000", "nothing", "A"):
            r = self.s.click(code)
            self.assertStatus(r, 404)
            self.assertNotIn("set-cookie", r.headers)
            self.assertNotIn("location", r.headers)
            self.assertTrue(r.raw.strip(), "404 page should have a short human body")

    def test_blocked_participant_redirect_without_ref(self):
        p = self.participant()
        r = self.s.patch("/v1/participants/" + p["id"], {"status": "blocked"})
        self.assertStatus(r, 200)
        r = self.s.click(p["code"])
        self.assertStatus(r, 302)
        self.assertEqual(r.headers["location"], self.program["destination_url"])
        self.assertNotIn("ref", query_of(r.headers["location"]))
        self.assertNotIn("set-cookie", r.headers)
        # the alias-free, dash-less form behaves the same
        r = self.s.click(p["code"].replace("-", "").lower())
        self.assertStatus(r, 302)
        self.assertEqual(r.headers["location"], self.program["destination_url"])
        self.assertNotIn("set-cookie", r.headers)

    def test_clicks_are_counted(self):
        p = self.participant()
        self.assertEqual(self.clicks_of(p["id"]), 0)
        for _ in range(3):
            self.assertStatus(self.s.click(p["code"]), 302)
        self.wait_for(lambda: self.clicks_of(p["id"]) == 3, what="3 counted clicks")

    def test_bots_redirected_not_counted_no_cookie(self):
        p = self.participant()
        for ua in BOT_UAS:
            r = self.s.click(p["code"], ua=ua)
            self.assertStatus(r, 302, ua)
            self.assertEqual(query_of(r.headers["location"])["ref"], [p["code"]], ua)
            self.assertNotIn("set-cookie", r.headers, ua)
        self.assertStatus(self.s.click(p["code"]), 302)
        self.s.settle_clicks()  # every click so far is written: a counted bot visit would show
        self.assertEqual(self.clicks_of(p["id"]), 1)

    def test_head(self):
        p = self.participant()
        r = self.s.click(p["code"], method="HEAD")
        self.assertStatus(r, 302)
        self.assertEqual(query_of(r.headers["location"])["ref"], [p["code"]])
        self.assertNotIn("set-cookie", r.headers)
        self.assertEqual(r.raw, b"")
        r = self.s.click("QQXQ-0000", method="HEAD")
        self.assertStatus(r, 404)
        self.assertEqual(r.raw, b"")
        self.s.settle_clicks()  # a counted HEAD would show now
        self.assertEqual(self.clicks_of(p["id"]), 0)

    def test_links_need_no_auth_and_ignore_a_bad_one(self):
        p = self.participant()
        r = self.s.request("GET", "/r/" + p["code"], headers={"Authorization": "Bearer nope"},
                           key=None)
        self.assertStatus(r, 302)

    def test_cookie_click_attributes_signup_after_redirect(self):
        # "a signup request arriving after the click's redirect response will always see it"
        p = self.participant()
        for _ in range(5):
            cid = self.s.click_id(p["code"])
            r = self.s.signup(self.pid, click_id=cid)
            self.assertStatus(r, 201)
            self.assertEqual(r.body["attribution"], {"source": "cookie", "rejected": []})
            self.assertEqual(r.body["referral"]["referrer"]["id"], p["id"])

    def test_unsafe_path_bytes(self):
        # A NUL, an encoded slash or bytes that are not UTF-8 are a malformed request (kith: 400)
        # or just an unknown code (404): the contract allows either. A long code of letters is an
        # unknown code, plainly (contract section 4: 404 with a short human page, no cookie).
        for path, allowed in (("/r/%00", (400, 404)), ("/r/..%2f..%2fetc", (400, 404)),
                              ("/r/" + "A" * 5000, (404,)), ("/r/%ff%fe", (400, 404))):
            r = self.s.request("GET", path, key=None)
            self.assertIn(r.status, allowed, "%s: %r" % (path[:40], r))
            self.assertNotIn("set-cookie", r.headers)
            if r.status == 404:
                self.assertIn("text/html", r.headers.get("content-type", ""), repr(r))
        self.assertStatus(self.s.get("/healthz", key=None), 200)


class SecureCookieTest(KithTestCase):
    server_kwargs = {"test_clock": True, "public_url": "https://refer.example.com"}

    def test_secure_when_public_url_is_https(self):
        prog = self.s.make_program()
        p = self.s.make_participant(prog["id"], "Jane")
        r = self.s.click(p["code"])
        self.assertStatus(r, 302)
        cid, attrs = cookie_attrs(r.headers["set-cookie"])
        self.assertTrue(cid.startswith("clk_"), cid)
        self.assertEqual(attrs, {"Max-Age=2592000", "Path=/", "HttpOnly", "SameSite=Lax", "Secure"})


if __name__ == "__main__":
    kithtest.main()
