"""Shareable resources and leads (contract section 19, and the v2 lines of sections 4 and 5):
resources and their permanent slugs, resource links /r/{code}/{slug} (plain and gated), kith's
lead page and its form, public leads (consent, one per e-mail and resource), the `lead`
candidate of the waterfall (window, ties, a newer ref beating it, gmail dots and +tags), the
referral's `resource`, share messages per resource, by_resource metrics, the all-or-nothing CSV
import (up to 1 MiB), signed Shopify collection webhooks, export and erasure, and follow-ups:
kept without SMTP, e-mailed to a local SMTP sink with SMTP, and a one-click unsubscribe that
stops the rest across restarts.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import urllib.parse

import kithtest
from kithtest import KithTestCase, REFERRAL_KEYS, uid
from test_notifications import SmtpSink, mail_text
from test_webhooks import wait_until

RESOURCE_KEYS = ["program", "slug", "title", "kind", "url", "collection", "description", "gated",
                 "share_message", "follow_ups", "status", "created_at", "updated_at"]
LEAD_KEYS = ["id", "program", "resource", "email", "referrer", "click", "consented_at", "status",
             "participant"]
DAY = 86400
CSV_HEADER = "slug,title,kind,url,collection,description,gated\n"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) kithtest"


def shopify_hmac(secret, raw):
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


class ResourceCase(KithTestCase):
    def setUp(self):
        self.shopify_secret = "shpss_" + secrets.token_hex(16)

    def program(self, **kw):
        body = {"attribution_window_days": 30, "shopify_webhook_secret": self.shopify_secret}
        body.update(kw)
        return self.s.make_program(**body)

    def resource(self, prog_id, status=201, **kw):
        body = {"program": prog_id, "slug": uid("guide"), "title": "The Leather Care Guide",
                "kind": "guide", "url": "https://shop.example/guides/leather-care"}
        body.update(kw)
        r = self.s.post("/v1/resources", {k: v for k, v in body.items() if v is not None})
        self.assertStatus(r, status)
        return r.body

    def sharer(self, prog_id, name="Jane"):
        return self.s.make_participant(prog_id, first_name=name,
                                       email=uid(name.lower()) + "@example.com")

    def visit(self, code, slug, query="", ua=BROWSER, method="GET"):
        return self.s.request(method, "/r/%s/%s%s" % (code, slug, query),
                              headers={"User-Agent": ua}, key=None)

    def click(self, code, slug, query=""):
        """A counted visit of a plain resource link -> its click id (cookie = kith_click)."""
        r = self.visit(code, slug, query)
        self.assertStatus(r, 302)
        m = re.match(r"kith_ref=([^;]+)", r.headers.get("set-cookie", ""))
        self.assertTrue(m, "no cookie: %r" % r.headers)
        return m.group(1)

    def gated_click(self, code, slug):
        r = self.visit(code, slug)
        self.assertStatus(r, 200)
        m = re.search(r'name="click_id" value="(clk_[^"]+)"', r.body)
        self.assertTrue(m, "no click id in the lead page: %s" % r.body[:2000])
        return m.group(1)

    def lead(self, click_id, email, consent=True, status=201):
        r = self.s.post("/v1/public/leads", {"click_id": click_id, "email": email,
                                             "consent": consent}, key=None)
        self.assertStatus(r, status)
        return r.body

    def leads(self, prog_id, **q):
        q["program"] = prog_id
        return self.s.list_all("/v1/leads?" + urllib.parse.urlencode(q))

    def shopify(self, prog_id, topic, payload, secret=None, domain="leather-and-co.myshopify.com"):
        raw = json.dumps(payload).encode()
        h = {"X-Shopify-Topic": topic, "X-Shopify-Event-Id": secrets.token_hex(10),
             "X-Shopify-Shop-Domain": domain,
             "X-Shopify-Hmac-Sha256": shopify_hmac(secret or self.shopify_secret, raw)}
        return self.s.post("/v1/integrations/shopify/" + prog_id, raw_body=raw, headers=h, key=None)

    def csv(self, prog_id, text, ctype="text/csv"):
        raw = text.encode() if isinstance(text, str) else text
        return self.s.post("/v1/resources/import?program=" + prog_id, raw_body=raw,
                           headers={"Content-Type": ctype})


class ResourcesTest(ResourceCase):
    # ---- resources -------------------------------------------------------------------------------
    def test_create_read_list_update_archive(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], slug="leather-care", collection="Vintage leather",
                            description="Care, restoration and storage.", gated=True,
                            share_message="Know someone who'd love {{resource_title}}? "
                                          "{{resource_url}}",
                            follow_ups=[{"after_days": 2, "subject": "Oiling {{resource_title}}",
                                         "body": "Hello {{first_name}}"}])
        self.assertKeys(res, RESOURCE_KEYS, "resource")
        self.assertEqual(res["program"], p["id"])
        self.assertEqual(res["slug"], "leather-care")
        self.assertEqual(res["kind"], "guide")
        self.assertIs(res["gated"], True)
        self.assertEqual(res["status"], "active")
        self.assertEqual(res["follow_ups"], [{"after_days": 2, "subject": "Oiling {{resource_title}}",
                                              "body": "Hello {{first_name}}"}])
        self.assertTime(res["created_at"])
        # Defaults: not gated, kind other, no follow-ups.
        plain = self.resource(p["id"], kind=None)
        self.assertIs(plain["gated"], False)
        self.assertEqual(plain["kind"], "other")
        self.assertEqual(plain["follow_ups"], [])
        # Read, list, filter.
        r = s.get("/v1/resources/leather-care?program=" + p["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.body, res)
        items = s.list_all("/v1/resources?program=" + p["id"], limit=1)
        self.assertEqual([x["slug"] for x in items], ["leather-care", plain["slug"]])
        # Update everything but the slug.
        r = s.patch("/v1/resources/leather-care?program=" + p["id"],
                    {"title": "Leather care, the complete guide", "gated": False,
                     "description": None})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["title"], "Leather care, the complete guide")
        self.assertIs(r.body["gated"], False)
        self.assertIsNone(r.body["description"])
        self.assertEqual(r.body["collection"], "Vintage leather")
        self.assertError(s.patch("/v1/resources/leather-care?program=" + p["id"], {"slug": "x"}),
                         400, "immutable_field", "slug")
        # Archive: listed as archived, not as active.
        r = s.post("/v1/resources/leather-care/archive?program=" + p["id"], {})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["status"], "archived")
        active = s.list_all("/v1/resources?status=active&program=" + p["id"])
        archived = s.list_all("/v1/resources?status=archived&program=" + p["id"])
        self.assertEqual([x["slug"] for x in active], [plain["slug"]])
        self.assertEqual([x["slug"] for x in archived], ["leather-care"])
        # The slug stays taken, archived or not: slugs are permanent.
        self.assertError(s.post("/v1/resources", {"program": p["id"], "slug": "leather-care",
                                                  "title": "t", "url": "https://x.example/"}),
                         400, "invalid_param", "slug")
        self.assertError(s.get("/v1/resources/nope?program=" + p["id"]), 404, "not_found")

    def test_resource_validation(self):
        s = self.s
        p = self.program()
        base = {"program": p["id"], "slug": "ok", "title": "A guide", "url": "https://x.example/g"}
        cases = [
            ({"slug": "Not-Lower"}, "slug"), ({"slug": "a" * 61}, "slug"), ({"slug": None}, "slug"),
            ({"slug": "sp ace"}, "slug"), ({"title": None}, "title"), ({"title": ""}, "title"),
            ({"url": None}, "url"), ({"url": "ftp://x.example/g"}, "url"),
            ({"url": "javascript:alert(1)"}, "url"), ({"kind": "ebook"}, "kind"),
            ({"gated": "yes"}, "gated"), ({"share_message": "Hi {{nope}}"}, "share_message"),
            ({"follow_ups": {"after_days": 1}}, "follow_ups"),
            ({"follow_ups": [{"after_days": 1, "subject": "s", "body": "b"}] * 6}, "follow_ups"),
            ({"follow_ups": [{"after_days": 3, "subject": "s", "body": "b"},
                             {"after_days": 1, "subject": "s", "body": "b"}]},
             "follow_ups[1].after_days"),
            ({"follow_ups": [{"after_days": 366, "subject": "s", "body": "b"}]},
             "follow_ups[0].after_days"),
            ({"follow_ups": [{"subject": "s", "body": "b"}]}, "follow_ups[0].after_days"),
            ({"follow_ups": [{"after_days": 1, "body": "b"}]}, "follow_ups[0].subject"),
            ({"follow_ups": [{"after_days": 1, "subject": "s", "body": "{{x}}"}]},
             "follow_ups[0].body"),
            ({"follow_ups": [{"after_days": 1, "subject": "s", "body": "b", "cc": "x"}]},
             "follow_ups[0].cc"),
            ({"colour": "red"}, "colour"),
        ]
        for change, param in cases:
            body = dict(base)
            body.update(change)
            body = {k: v for k, v in body.items() if v is not None}
            self.assertError(s.post("/v1/resources", body), 400, "invalid_param", param)
        self.assertEqual(s.list_all("/v1/resources?program=" + p["id"]), [])

    # ---- resource links --------------------------------------------------------------------------
    def test_plain_resource_link(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], url="https://shop.example/collections/wallets?sort=new#top")
        jane = self.sharer(p["id"])
        r = self.visit(jane["code"], res["slug"], "?ch=whatsapp")
        self.assertStatus(r, 302)
        clk = re.match(r"kith_ref=([^;]+)", r.headers["set-cookie"]).group(1)
        self.assertEqual(r.headers["location"],
                         "https://shop.example/collections/wallets?sort=new&ref=%s&kith_click=%s#top"
                         % (jane["code"], clk))
        # Codes match as on /r/{code}: any case, with or without the dash.
        r = self.visit(jane["code"].lower().replace("-", ""), res["slug"])
        self.assertStatus(r, 302)
        self.assertIn("ref=" + jane["code"], r.headers["location"])
        # The click carries the resource: a signup through it says so.
        r = s.signup(p["id"], click_id=clk)
        self.assertStatus(r, 201)
        ref = r.body["referral"]
        self.assertKeys(ref, REFERRAL_KEYS + ["resource"], "referral")
        self.assertEqual((ref["source"], ref["resource"], ref["channel"]),
                         ("cookie", res["slug"], "whatsapp"))
        self.assertEqual(s.referral(ref["id"])["resource"], res["slug"])
        # A url win backed by the same referrer's resource click keeps the resource too.
        clk2 = self.click(jane["code"], res["slug"])
        r = s.signup(p["id"], ref=jane["code"], click_id=clk2)
        self.assertEqual((r.body["referral"]["source"], r.body["referral"]["resource"]),
                         ("url", res["slug"]))
        # A plain /r/{code} link has no resource.
        r = s.signup(p["id"], click_id=s.click_id(jane["code"]))
        self.assertIsNone(r.body["referral"]["resource"])

    def test_resource_link_refusals(self):
        p = self.program()
        jane = self.sharer(p["id"])
        # A slug visited before it existed works as soon as it is created.
        self.assertStatus(self.visit(jane["code"], "early-bird"), 404)
        self.resource(p["id"], slug="early-bird")
        self.assertStatus(self.visit(jane["code"], "early-bird"), 302)
        self.assertStatus(self.visit(jane["code"], "early-csv"), 404)
        self.csv(p["id"], CSV_HEADER + "early-csv,Early,guide,https://x.example/e,,,\n")
        self.assertStatus(self.visit(jane["code"], "early-csv"), 302)
        res = self.resource(p["id"])
        for code, slug in ((jane["code"], "no-such-guide"), ("ZZZZ-0000", res["slug"]),
                           (jane["code"], "Bad_Slug")):
            r = self.visit(code, slug)
            self.assertStatus(r, 404)
            self.assertIn("text/html", r.headers["content-type"])
            self.assertNotIn("set-cookie", r.headers)
        self.s.post("/v1/resources/%s/archive?program=%s" % (res["slug"], p["id"]), {})
        r = self.visit(jane["code"], res["slug"])
        self.assertStatus(r, 404)
        self.assertNotIn("set-cookie", r.headers)
        # A blocked sharer: to the resource, without ref, cookie or page.
        other = self.resource(p["id"], gated=True)
        self.s.patch("/v1/participants/" + jane["id"], {"status": "blocked"})
        r = self.visit(jane["code"], other["slug"])
        self.assertStatus(r, 302)
        self.assertEqual(r.headers["location"], other["url"])
        self.assertNotIn("set-cookie", r.headers)

    def test_gated_lead_page(self):
        s = self.s
        p = self.program(name="Leather & Co")
        res = self.resource(p["id"], gated=True, title="Care <b>guide</b> & \"tips\"",
                            description="Oils, brushes & storage.")
        jane = self.sharer(p["id"], name="Jane")
        r = self.visit(jane["code"], res["slug"])
        self.assertStatus(r, 200)
        self.assertIn("text/html", r.headers["content-type"])
        page = r.body
        # Who shared it, what it is, escaped.
        self.assertIn("Jane", page)
        self.assertIn("Care &lt;b&gt;guide&lt;/b&gt; &amp; &quot;tips&quot;", page)
        self.assertNotIn("<b>guide</b>", page)
        self.assertIn("Oils, brushes &amp; storage.", page)
        # An e-mail field, a consent checkbox, a form to the public leads route.
        self.assertRegex(page, r'<form method="post" action="/v1/public/leads">')
        self.assertRegex(page, r'<input type="email" name="email"[^>]* required')
        self.assertRegex(page, r'<input type="checkbox" name="consent" value="true"[^>]* required')
        clk = re.search(r'name="click_id" value="(clk_[^"]+)"', page).group(1)
        # The click counts: the cookie holds the same click.
        self.assertEqual(re.match(r"kith_ref=([^;]+)", r.headers["set-cookie"]).group(1), clk)
        # Self-contained: no script at all, nothing fetched from anywhere else.
        csp = r.headers["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertNotIn("script-src", csp)
        self.assertNotIn("<script", page.lower())
        self.assertNotRegex(page, r'(src|href)="(https?:)?//')
        # HEAD and preview bots see the page; they are not counted.
        r = self.visit(jane["code"], res["slug"], method="HEAD")
        self.assertStatus(r, 200)
        self.assertNotIn("set-cookie", r.headers)
        r = self.visit(jane["code"], res["slug"], ua="facebookexternalhit/1.1")
        self.assertStatus(r, 200)
        self.assertNotIn("set-cookie", r.headers)
        self.assertNotIn("click_id", r.body)
        self.assertIn('property="og:title"', r.body)
        # The form (no JavaScript): 303 to the resource, and the lead is kept.
        email = uid("sam") + "@example.com"
        r = s.request("POST", "/v1/public/leads", key=None,
                      raw_body=urllib.parse.urlencode({"click_id": clk, "email": email,
                                                       "consent": "true"}),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertStatus(r, 303)
        self.assertEqual(r.headers["location"], res["url"])
        self.assertEqual([(x["email"], x["status"]) for x in self.leads(p["id"])],
                         [(email, "active")])
        # A form without consent: a page saying why, and nothing kept.
        r = s.request("POST", "/v1/public/leads", key=None,
                      raw_body=urllib.parse.urlencode({"click_id": clk, "email": "x@example.com"}),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertStatus(r, 400)
        self.assertIn("text/html", r.headers["content-type"])
        self.assertIn("consent", r.body)
        self.assertEqual(len(self.leads(p["id"])), 1)

    # ---- leads -----------------------------------------------------------------------------------
    def test_public_leads(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], gated=True)
        jane = self.sharer(p["id"])
        clk = self.gated_click(jane["code"], res["slug"])
        body = self.lead(clk, "Sam.Smith+guides@Gmail.com")
        self.assertEqual(set(body), {"lead", "url"})
        self.assertEqual(set(body["lead"]), {"id", "resource", "created_at"})
        self.assertTrue(body["lead"]["id"].startswith("led_"), repr(body))
        self.assertEqual(body["lead"]["resource"], res["slug"])
        self.assertEqual(body["url"], res["url"])
        # The same person and resource again, however spelt: 200 and the first lead.
        again = self.lead(self.gated_click(jane["code"], res["slug"]), "samsmith@gmail.com",
                          status=200)
        self.assertEqual(again["lead"], body["lead"])
        # Refusals.
        for payload, status, code, param in (
                ({"click_id": clk, "email": "x@example.com", "consent": False}, 400,
                 "invalid_param", "consent"),
                ({"click_id": clk, "email": "x@example.com"}, 400, "invalid_param", "consent"),
                ({"click_id": clk, "email": "not-an-email", "consent": True}, 400,
                 "invalid_param", "email"),
                ({"click_id": clk, "consent": True}, 400, "invalid_param", "email"),
                ({"click_id": "clk_nope", "email": "x@example.com", "consent": True}, 404,
                 "not_found", "click_id"),
                ({"click_id": clk, "email": "x@example.com", "consent": True, "name": "X"}, 400,
                 "invalid_param", "name")):
            self.assertError(s.post("/v1/public/leads", payload, key=None), status, code, param)
        self.assertError(s.post("/v1/public/leads", raw_body=b"{nope", key=None), 400,
                         "invalid_json")
        # A click on a plain link names no resource.
        self.assertError(s.post("/v1/public/leads", {"click_id": s.click_id(jane["code"]),
                                                     "email": "x@example.com", "consent": True},
                                key=None), 400, "invalid_param", "click_id")
        # The business sees the lead.
        leads = self.leads(p["id"], resource=res["slug"])
        self.assertEqual(len(leads), 1)
        lead = leads[0]
        self.assertKeys(lead, LEAD_KEYS, "lead")
        self.assertEqual(lead["email"], "Sam.Smith+guides@Gmail.com")
        self.assertEqual(lead["referrer"]["id"], jane["id"])
        self.assertEqual(lead["referrer"]["code"], jane["code"])
        self.assertEqual((lead["status"], lead["click"], lead["participant"]),
                         ("active", clk, None))
        self.assertTime(lead["consented_at"])
        self.assertEqual(s.get("/v1/leads/" + lead["id"]).body, lead)
        self.assertEqual(self.leads(p["id"], resource="other"), [])
        # Without a key everything else stays closed.
        self.assertError(s.get("/v1/leads?program=" + p["id"], key=None), 401, "unauthorized")
        # An archived resource takes no more leads.
        s.post("/v1/resources/%s/archive?program=%s" % (res["slug"], p["id"]), {})
        self.assertError(s.post("/v1/public/leads", {"click_id": clk, "email": "new@example.com",
                                                     "consent": True}, key=None),
                         404, "not_found", "click_id")

    def test_concurrent_leads_of_one_person_land_once(self):
        p = self.program()
        res = self.resource(p["id"], gated=True)
        jane = self.sharer(p["id"])
        clicks = [self.gated_click(jane["code"], res["slug"]) for _ in range(8)]
        out = [None] * len(clicks)

        def post(i):
            out[i] = self.s.post("/v1/public/leads", {"click_id": clicks[i], "consent": True,
                                                      "email": "Twin+%d@Example.com" % i},
                                 key=None)
        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clicks))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(r.status for r in out), [200] * 7 + [201], repr(out))
        self.assertEqual(len({r.body["lead"]["id"] for r in out}), 1)
        self.assertEqual(len(self.leads(p["id"])), 1)

    def test_lead_attributes_a_later_signup(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], gated=True)
        jane = self.sharer(p["id"])
        lead = self.lead(self.gated_click(jane["code"], res["slug"]), "sam.smith@gmail.com")
        s.clock_advance(21 * DAY)
        # Weeks later, on another device (no cookie, no ref), with the dots moved and a +tag.
        r = s.signup(p["id"], email="SamSmith+shop@gmail.com", first_name="Sam")
        self.assertStatus(r, 201)
        self.assertEqual(r.body["attribution"], {"source": "lead", "rejected": []})
        ref = r.body["referral"]
        self.assertEqual((ref["source"], ref["referrer"]["id"], ref["code"], ref["resource"]),
                         ("lead", jane["id"], jane["code"], res["slug"]))
        got = s.get("/v1/leads/" + lead["lead"]["id"]).body
        self.assertEqual((got["status"], got["participant"]),
                         ("converted", r.body["participant"]["id"]))

    def test_lead_past_the_window_is_stale(self):
        s = self.s
        p = self.program(attribution_window_days=30)
        res = self.resource(p["id"], gated=True)
        jane = self.sharer(p["id"])
        self.lead(self.gated_click(jane["code"], res["slug"]), "late@example.com")
        s.clock_advance(31 * DAY)
        r = s.signup(p["id"], email="late@example.com")
        self.assertStatus(r, 201)
        self.assertIsNone(r.body["referral"])
        self.assertEqual(r.body["attribution"],
                         {"source": "organic",
                          "rejected": [{"source": "lead", "reason": "stale_click"}]})

    def test_newer_ref_beats_a_lead(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], gated=True)
        jane, ann = self.sharer(p["id"], "Jane"), self.sharer(p["id"], "Ann")
        self.lead(self.gated_click(jane["code"], res["slug"]), "bo@example.com")
        s.clock_advance(2 * DAY)
        r = s.signup(p["id"], email="bo@example.com", ref=ann["code"])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["attribution"], {"source": "url", "rejected": []})
        self.assertEqual((r.body["referral"]["referrer"]["id"], r.body["referral"]["resource"]),
                         (ann["id"], None))
        # ... and a lead newer than a click wins over it.
        kim = "kim@example.com"
        old_click = s.click_id(ann["code"])
        s.clock_advance(DAY)
        self.lead(self.gated_click(jane["code"], res["slug"]), kim)
        r = s.signup(p["id"], email=kim, click_id=old_click)
        self.assertEqual((r.body["attribution"]["source"], r.body["referral"]["referrer"]["id"]),
                         ("lead", jane["id"]))

    def test_lead_self_referral_and_other_program(self):
        s = self.s
        p, q = self.program(), self.program()
        res = self.resource(p["id"], gated=True)
        jane = self.sharer(p["id"])
        # Jane leaves her own e-mail: her own later signup (another account) is no referral.
        self.lead(self.gated_click(jane["code"], res["slug"]), jane["email"].upper())
        r = s.signup(p["id"], email=jane["email"])
        self.assertEqual(r.body["attribution"],
                         {"source": "organic",
                          "rejected": [{"source": "lead", "reason": "self_referral"}]})
        # A lead in one program says nothing in another.
        self.lead(self.gated_click(jane["code"], res["slug"]), "pat@example.com")
        r = s.signup(q["id"], email="pat@example.com")
        self.assertEqual(r.body["attribution"], {"source": "organic", "rejected": []})

    # ---- share messages and metrics --------------------------------------------------------------
    def test_share_lists_active_resources(self):
        s = self.s
        p = self.program(name="Leather & Co")
        guide = self.resource(p["id"], slug="care-guide", title="The Care Guide")
        custom = self.resource(p["id"], slug="wallets", title="Minimal wallets", kind="collection",
                               share_message="{{first_name}} thinks you'd like {{resource_title}}:"
                                             " {{resource_url}}")
        gone = self.resource(p["id"], slug="old-thing")
        s.post("/v1/resources/old-thing/archive?program=" + p["id"], {})
        jane = self.sharer(p["id"], "Jane")
        r = s.get("/v1/participants/%s/share" % jane["id"])
        self.assertStatus(r, 200)
        items = r.body["resources"]
        self.assertEqual([x["slug"] for x in items], ["care-guide", "wallets"])
        base = "%s/r/%s/" % (s.public, jane["code"])
        for item, res in zip(items, (guide, custom)):
            self.assertKeys(item, ["slug", "title", "share_url", "messages"], "share resource")
            self.assertEqual(item["share_url"], base + res["slug"])
            self.assertEqual(item["title"], res["title"])
            self.assertEqual(set(item["messages"]), {"email", "sms", "whatsapp", "social"})
            self.assertEqual(set(item["messages"]["email"]), {"subject", "body"})
            for ch in ("sms", "whatsapp", "social"):
                self.assertIn(base + res["slug"] + "?ch=" + ch, item["messages"][ch])
            self.assertIn(base + res["slug"] + "?ch=email", item["messages"]["email"]["body"])
        self.assertEqual(items[0]["prompt"], "Know someone who'd love this guide?")
        self.assertEqual(items[1]["messages"]["sms"],
                         "Jane thinks you'd like Minimal wallets: %swallets?ch=sms" % base)
        self.assertNotIn(gone["slug"], json.dumps(r.body))
        # One collection page shows one resource: ?resource=<slug>.
        r = s.get("/v1/participants/%s/share?resource=wallets" % jane["id"])
        self.assertEqual([x["slug"] for x in r.body["resources"]], ["wallets"])
        self.assertEqual(r.body["code"], jane["code"])
        r = s.get("/v1/participants/%s/share?resource=old-thing" % jane["id"])
        self.assertEqual(r.body["resources"], [])

    def test_metrics_by_resource(self):
        s = self.s
        p = self.program(qualification={"event": "purchase", "hold_days": 0})
        plain = self.resource(p["id"], slug="wallets")
        gated = self.resource(p["id"], slug="care-guide", gated=True)
        idle = self.resource(p["id"], slug="idle")
        jane = self.sharer(p["id"])
        clicks = [self.click(jane["code"], "wallets") for _ in range(3)]
        self.lead(self.gated_click(jane["code"], "care-guide"), "a@example.com")
        self.lead(self.gated_click(jane["code"], "care-guide"), "b@example.com")
        r = s.signup(p["id"], click_id=clicks[0])
        s.signup(p["id"], email="a@example.com")
        self.assertStatus(s.event(p["id"], r.body["participant"]["external_id"]), 201)
        m = s.get("/v1/metrics?program=" + p["id"])
        self.assertStatus(m, 200)
        self.assertEqual(m.body["by_resource"], {
            "wallets": {"clicks": 3, "leads": 0, "signups": 1, "qualified": 1},
            "care-guide": {"clicks": 2, "leads": 2, "signups": 1, "qualified": 0},
            "idle": {"clicks": 0, "leads": 0, "signups": 0, "qualified": 0}})
        self.assertEqual(m.body["clicks"], 5)
        self.assertEqual((plain["slug"], gated["slug"], idle["slug"]),
                         ("wallets", "care-guide", "idle"))

    # ---- CSV import ------------------------------------------------------------------------------
    def test_import_creates_and_updates(self):
        s = self.s
        p = self.program()
        text = (CSV_HEADER +
                'leather-bags,Vintage leather bags,collection,https://shop.example/collections/'
                'leather-bags,Leather,"Bags, satchels and ""weekenders""",false\r\n'
                'care-guide,The care guide,guide,https://shop.example/care,,"Two\nlines",TRUE\r\n'
                '\r\n'
                'desk,Desk accessories,,https://shop.example/collections/desk,,,\r\n')
        r = self.csv(p["id"], text)
        self.assertStatus(r, 200)
        self.assertEqual((r.body["created"], r.body["updated"]), (3, 0))
        items = {x["slug"]: x for x in s.list_all("/v1/resources?program=" + p["id"])}
        self.assertEqual(items["leather-bags"]["description"], 'Bags, satchels and "weekenders"')
        self.assertEqual(items["leather-bags"]["collection"], "Leather")
        self.assertEqual((items["care-guide"]["gated"], items["care-guide"]["description"]),
                         (True, "Two\nlines"))
        self.assertEqual((items["desk"]["kind"], items["desk"]["gated"],
                          items["desk"]["collection"]), ("other", False, None))
        # Again, with a change and a new one; columns in another order, some left out.
        r = self.csv(p["id"], "title,url,slug\n"
                              "Vintage bags,https://shop.example/collections/leather-bags,"
                              "leather-bags\nWallets,https://shop.example/w,wallets\n")
        self.assertStatus(r, 200)
        self.assertEqual((r.body["created"], r.body["updated"]), (1, 1))
        bag = s.get("/v1/resources/leather-bags?program=" + p["id"]).body
        self.assertEqual((bag["title"], bag["collection"], bag["kind"]),
                         ("Vintage bags", "Leather", "collection"))

    def test_import_is_all_or_nothing(self):
        s = self.s
        p = self.program()
        self.resource(p["id"], slug="existing", title="Kept as it is")
        text = (CSV_HEADER +
                "good-one,Good,guide,https://shop.example/a,,,\n"       # line 2
                "bad-kind,Bad kind,ebook,https://shop.example/b,,,\n"   # line 3
                "existing,Changed,guide,https://shop.example/c,,,\n"    # line 4
                "bad-url,Bad url,guide,ftp://shop.example/d,,,\n"       # line 5
                "good-one,Twice,guide,https://shop.example/e,,,\n"      # line 6
                "short,row\n"                                           # line 7
                "Bad_Slug,Bad slug,guide,https://shop.example/f,,,\n"   # line 8
                "gated,Gated?,guide,https://shop.example/g,,,maybe\n"   # line 9
                ",No slug,guide,https://shop.example/h,,,\n"            # line 10
                "no-title,,guide,https://shop.example/i,,,\n")          # line 11
        r = self.csv(p["id"], text)
        err = self.assertError_with_errors(r)
        self.assertEqual([(e["line"], e["param"]) for e in err],
                         [(3, "kind"), (5, "url"), (6, "slug"), (7, None), (8, "slug"),
                          (9, "gated"), (10, "slug"), (11, "title")])
        for e in err:
            self.assertTrue(e["message"].strip(), repr(e))
        # Nothing written: not the good line, not the change.
        items = s.list_all("/v1/resources?program=" + p["id"])
        self.assertEqual([(x["slug"], x["title"]) for x in items], [("existing", "Kept as it is")])
        # The header itself.
        r = self.csv(p["id"], "slug,title,colour,url,slug\nx,X,red,https://x.example/,x\n")
        self.assertEqual([(e["line"], e["param"]) for e in self.assertError_with_errors(r)],
                         [(1, "colour"), (1, "slug")])
        r = self.csv(p["id"], "slug,kind\nx,guide\n")
        self.assertEqual([(e["line"], e["param"]) for e in self.assertError_with_errors(r)],
                         [(1, "title"), (1, "url")])
        # Malformed CSV: where it breaks.
        r = self.csv(p["id"], CSV_HEADER + "a,A,guide,https://x.example/,,,\n"
                                           'b,"B unclosed,guide,https://x.example/,,,\n')
        self.assertEqual([e["line"] for e in self.assertError_with_errors(r)], [3])
        r = self.csv(p["id"], CSV_HEADER + 'c,C"x,guide,https://x.example/,,,\n')
        self.assertEqual([e["line"] for e in self.assertError_with_errors(r)], [2])
        r = self.csv(p["id"], (CSV_HEADER + "d,\xe9,guide,https://x.example/,,,\n").encode("latin-1"))
        self.assertEqual([e["line"] for e in self.assertError_with_errors(r)], [2])
        self.assertEqual([e["line"] for e in self.assertError_with_errors(self.csv(p["id"], ""))],
                         [1])
        self.assertEqual(len(s.list_all("/v1/resources?program=" + p["id"])), 1)
        # Not CSV at all.
        self.assertError(self.csv(p["id"], CSV_HEADER, ctype="application/json"), 400,
                         "invalid_param", "Content-Type")

    def assertError_with_errors(self, r):
        self.assertStatus(r, 400)
        self.assertEqual(r.body["error"]["code"], "invalid_param", repr(r))
        self.assertIn("nothing was imported", r.body["error"]["message"])
        self.assertIsInstance(r.body["errors"], list)
        for e in r.body["errors"]:
            self.assertEqual(set(e), {"line", "param", "message"})
        return r.body["errors"]

    def test_import_size_limits(self):
        s = self.s
        p = self.program()
        rows = ["r%04d,Resource %d,guide,https://shop.example/r/%d,Collection %d,%s,false"
                % (i, i, i, i, "x" * 120) for i in range(700)]
        text = CSV_HEADER + "\n".join(rows) + "\n"
        self.assertGreater(len(text), 64 * 1024)   # past every other route's limit
        r = self.csv(p["id"], text)
        self.assertStatus(r, 200)
        self.assertEqual(r.body["created"], 700)
        # Over 1 MiB: 413 before the body is read, with Content-Length or chunked.
        big = (CSV_HEADER + ("y" * 1000 + "\n") * 1100).encode()
        head = (b"POST /v1/resources/import?program=" + p["id"].encode() + b" HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nAuthorization: Bearer " + s.secret.encode() +
                b"\r\nContent-Type: text/csv\r\nConnection: close\r\n")
        status, _, body = s.raw_exchange(head + b"Content-Length: %d\r\n\r\n" % len(big) + big)
        self.assertEqual(status, 413, body[:300])
        self.assertEqual(json.loads(body)["error"]["code"], "payload_too_large")
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 65536]), big[i:i + 65536])
                          for i in range(0, len(big), 65536)) + b"0\r\n\r\n"
        status, _, body = s.raw_exchange(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
        self.assertEqual(status, 413, body[:300])
        self.assertEqual(len(s.list_all("/v1/resources?program=" + p["id"])), 700)
        # Every other route keeps 64 KiB.
        r = s.post("/v1/resources", {"program": p["id"], "slug": "x", "title": "t",
                                     "url": "https://x.example/", "description": "d" * 70000})
        self.assertError(r, 413, "payload_too_large")

    # ---- Shopify ---------------------------------------------------------------------------------
    def test_shopify_collections(self):
        s = self.s
        p = self.program()
        r = self.shopify(p["id"], "collections/create",
                         {"id": 841564295, "handle": "vintage-leather-bags",
                          "title": "Vintage Leather Bags", "body_html": "<p>Hand-stitched <b>full"
                          "-grain</b> bags.</p>", "published_at": "2026-01-01T00:00:00-05:00"})
        self.assertStatus(r, 200)
        res = r.body["resource"]
        self.assertEqual((res["slug"], res["kind"], res["url"], res["title"], res["description"]),
                         ("vintage-leather-bags", "collection",
                          "https://leather-and-co.myshopify.com/collections/vintage-leather-bags",
                          "Vintage Leather Bags", "Hand-stitched full-grain bags."))
        # Update: a new title, and a new handle: the slug is permanent, the url follows.
        r = self.shopify(p["id"], "collections/update",
                         {"id": 841564295, "handle": "leather-bags", "title": "Leather Bags"})
        self.assertStatus(r, 200)
        got = s.get("/v1/resources/vintage-leather-bags?program=" + p["id"]).body
        self.assertEqual((got["title"], got["url"], got["status"]),
                         ("Leather Bags", "https://leather-and-co.myshopify.com/collections/"
                                          "leather-bags", "active"))
        # A second collection, then delete (the body carries only the id) archives its resource.
        self.shopify(p["id"], "collections/create", {"id": 77, "handle": "wallets", "title": "W"})
        r = self.shopify(p["id"], "collections/delete", {"id": 841564295})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["resource"]["status"], "archived")
        self.assertEqual(s.get("/v1/resources/wallets?program=" + p["id"]).body["status"], "active")
        r = self.shopify(p["id"], "collections/delete", {"id": 999})
        self.assertEqual(r.body, {"received": True, "ignored": "unknown_collection"})
        # Badly signed: 401, nothing changes.
        r = self.shopify(p["id"], "collections/create", {"id": 5, "handle": "forged", "title": "F"},
                         secret="shpss_wrong")
        self.assertError(r, 401, "unauthorized")
        self.assertError(s.get("/v1/resources/forged?program=" + p["id"]), 404, "not_found")
        # A collection imported earlier under its handle is adopted, not duplicated.
        self.csv(p["id"], CSV_HEADER + "belts,Belts,collection,https://shop.example/belts,,,\n")
        r = self.shopify(p["id"], "collections/create", {"id": 88, "handle": "belts",
                                                         "title": "Leather belts"})
        self.assertEqual(r.body["resource"]["title"], "Leather belts")
        self.assertEqual(len([x for x in s.list_all("/v1/resources?program=" + p["id"])
                              if x["slug"] == "belts"]), 1)
        r = self.shopify(p["id"], "collections/delete", {"id": 88})
        self.assertEqual(r.body["resource"]["slug"], "belts")

    # ---- privacy ---------------------------------------------------------------------------------
    def test_export_and_erasure(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], gated=True)
        jane = self.sharer(p["id"])
        email = uid("lead") + "@example.com"
        lead = self.lead(self.gated_click(jane["code"], res["slug"]), email)["lead"]
        # The sharer's export lists the leads of their links, without the leads' e-mails.
        ex = s.get("/v1/participants/%s/export" % jane["id"])
        self.assertStatus(ex, 200)
        self.assertEqual([(x["id"], x["resource"], x["status"]) for x in ex.body["leads_from_links"]],
                         [(lead["id"], res["slug"], "active")])
        self.assertNotIn(email, ex.raw.decode())
        # A lead who signs up finds their lead in their own export; erasing them erases it.
        r = s.signup(p["id"], email=email)
        sam = r.body["participant"]
        ex = s.get("/v1/participants/%s/export" % sam["id"]).body
        self.assertEqual([(x["id"], x["email"]) for x in ex["leads"]], [(lead["id"], email)])
        self.assertStatus(s.post("/v1/participants/%s/erase" % sam["id"], {}), 200)
        got = s.get("/v1/leads/" + lead["id"]).body
        self.assertEqual((got["email"], got["status"]), (None, "erased"))
        # And a lead erased on its own.
        other = self.lead(self.gated_click(jane["code"], res["slug"]), "own@example.com")["lead"]
        r = s.post("/v1/leads/%s/erase" % other["id"], {})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["email"], r.body["status"]), (None, "erased"))
        self.assertNotIn("own@example.com", json.dumps(self.leads(p["id"])))
        self.assertError(s.post("/v1/leads/led_nope/erase", {}), 404, "not_found")
        # E-mails never reach a log.
        self.assertNotIn(email.encode(), s.log_bytes())
        self.assertNotIn(b"own@example.com", s.log_bytes())

    # ---- follow-ups without SMTP: kept ------------------------------------------------------------
    def test_follow_ups_kept_without_smtp(self):
        s = self.s
        p = self.program(name="Leather & Co")
        res = self.resource(p["id"], gated=True, title="Care guide", follow_ups=[
            {"after_days": 1, "subject": "Your {{resource_title}}",
             "body": "From {{friend_first_name}} via {{program_name}}: {{resource_url}}"},
            {"after_days": 3, "subject": "Storing leather", "body": "Forward: {{share_url}}"}])
        jane = self.sharer(p["id"], "Jane")
        lead = self.lead(self.gated_click(jane["code"], res["slug"]), uid("k") + "@example.com")
        lid = lead["lead"]["id"]
        msgs = lambda: self.assertList(s.get("/v1/leads/%s/messages" % lid))
        self.assertEqual(msgs(), [])
        s.clock_advance(DAY)
        got = msgs()
        self.assertEqual([(m["step"], m["status"], m["subject"]) for m in got],
                         [(0, "kept", "Your Care guide")])
        self.assertEqual(got[0]["body"], "From Jane via Leather & Co: " + res["url"])
        s.clock_advance(DAY)
        self.assertEqual(len(msgs()), 1)
        s.clock_advance(5 * DAY)
        got = msgs()
        self.assertEqual([m["step"] for m in got], [0, 1])
        self.assertEqual(got[1]["body"], "Forward: %s/r/%s/%s" % (s.public, jane["code"],
                                                                    res["slug"]))
        s.clock_advance(30 * DAY)
        self.assertEqual(len(msgs()), 2)
        self.assertEqual(s.get("/v1/leads/" + lid).body["follow_ups_sent"], 2)

    def test_unknown_unsubscribe_token(self):
        r = self.s.get("/u/" + "0" * 40, key=None)
        self.assertStatus(r, 404)
        self.assertIn("text/html", r.headers["content-type"])
        self.assertStatus(self.s.get("/u/short", key=None), 404)


class FollowUpMailTest(ResourceCase):
    """Follow-ups over SMTP to a local sink; the unsubscribe link; restarts in between."""

    @classmethod
    def setUpClass(cls):
        cls.sink = SmtpSink()
        cls.server_kwargs = {"test_clock": True,
                             "env": {"KITH_SMTP_URL": "smtp://127.0.0.1:%d" % cls.sink.port,
                                     "KITH_SMTP_FROM": "hello@leather.example"}}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.sink.close()

    def mails(self, addr, n):
        got = wait_until(lambda: len(self.sink.to(addr)) >= n and self.sink.to(addr), timeout=15)
        self.assertTrue(got and len(got) >= n, "expected %d mails to %s, got %r"
                        % (n, addr, [m["raw"][:200] for m in self.sink.to(addr)]))
        return got

    def messages(self, lid):
        return self.assertList(self.s.get("/v1/leads/%s/messages" % lid))

    def restart(self):
        now = self.s.clock_now()
        self.s.restart()
        self.s.clock_set(now)   # the test clock starts again at real time

    def test_follow_ups_mailed_and_unsubscribe_stops_the_rest(self):
        s = self.s
        p = self.program(name="Leather & Co")
        res = self.resource(p["id"], gated=True, title="Care guide", follow_ups=[
            {"after_days": 1, "subject": "Step one: {{resource_title}}", "body": "One."},
            {"after_days": 2, "subject": "Step two", "body": "Two."},
            {"after_days": 4, "subject": "Step three", "body": "Three."}])
        jane = self.sharer(p["id"], "Jane")
        quits, stays = uid("quits") + "@example.com", uid("stays") + "@example.com"
        q = self.lead(self.gated_click(jane["code"], res["slug"]), quits)["lead"]["id"]
        k = self.lead(self.gated_click(jane["code"], res["slug"]), stays)["lead"]["id"]
        s.clock_advance(DAY)
        first = self.mails(quits, 1)[0]
        self.assertEqual(str(first["msg"]["Subject"]), "Step one: Care guide")
        text = mail_text(first["msg"])
        self.assertTrue(text.startswith("One."), text)
        link = re.search(r"(https?://\S+/u/([0-9a-f]{40}))", text)
        self.assertTrue(link, "no unsubscribe link in %r" % text)
        token = link.group(2)
        self.assertEqual(link.group(1), "%s/u/%s" % (s.public, token))
        self.assertTrue(wait_until(lambda: [m["status"] for m in self.messages(q)] == ["sent"]))
        # The token is stored as a digest only.
        dump = b""
        for path in s.db_files():
            with open(path, "rb") as f:
                dump += f.read()
        self.assertNotIn(token.encode(), dump)
        self.assertIn(hashlib.blake2b(token.encode(), digest_size=32).hexdigest().encode(), dump)

        # A restart: nothing is sent twice.
        self.restart()
        s.clock_advance(DAY)                  # day 2: step two for both
        self.mails(quits, 2)
        self.mails(stays, 2)
        # One click, after another restart; HEAD (a link checker) does nothing.
        self.restart()
        r = s.request("HEAD", "/u/" + token, key=None)
        self.assertStatus(r, 200)
        self.assertEqual(s.get("/v1/leads/" + q).body["status"], "active")
        r = s.get("/u/" + token, key=None)
        self.assertStatus(r, 200)
        self.assertIn("text/html", r.headers["content-type"])
        self.assertIn("Care guide", r.body)
        self.assertEqual(s.get("/v1/leads/" + q).body["status"], "unsubscribed")
        self.assertStatus(s.get("/u/" + token, key=None), 200)   # again: the same page
        self.restart()
        s.clock_advance(5 * DAY)              # day 7: step three is due for the one who stayed
        got = self.mails(stays, 3)
        self.assertEqual([str(m["msg"]["Subject"]) for m in got],
                         ["Step one: Care guide", "Step two", "Step three"])
        self.assertTrue(wait_until(lambda: [m["status"] for m in self.messages(k)]
                                   == ["sent", "sent", "sent"]))
        # The one who left: two messages ever, none written after the click.
        self.assertEqual([(m["step"], m["status"]) for m in self.messages(q)],
                         [(0, "sent"), (1, "sent")])
        self.assertEqual(len(self.sink.to(quits)), 2)
        self.assertEqual(len(self.sink.to(stays)), 3)
        lead = s.get("/v1/leads/" + q).body
        self.assertEqual((lead["status"], lead["follow_ups_sent"]), ("unsubscribed", 2))

    def test_kill9_after_queueing_skips_nothing(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], gated=True, follow_ups=[
            {"after_days": 1, "subject": "Crash one", "body": "1"},
            {"after_days": 2, "subject": "Crash two", "body": "2"}])
        jane = self.sharer(p["id"])
        addr = uid("crash") + "@example.com"
        lid = self.lead(self.gated_click(jane["code"], res["slug"]), addr)["lead"]["id"]
        s.clock_advance(DAY)   # step one is queued in the clock call's own transaction
        now = s.clock_now()
        s.kill9()              # perhaps before it was handed to SMTP, perhaps after
        s.restart()
        s.clock_set(now)
        self.assertEqual([m["step"] for m in self.messages(lid)], [0])
        # A claim the dead process held is a 30-second lease (PostgreSQL: other instances may
        # hold theirs); once it runs out the message is due again. SQLite resets at start.
        s.clock_advance(31)
        self.mails(addr, 1)
        s.clock_advance(DAY)
        self.mails(addr, 2)
        self.assertTrue(wait_until(lambda: [(m["step"], m["status"]) for m in self.messages(lid)]
                                   == [(0, "sent"), (1, "sent")]))
        # Each step was written once; the hand-off to SMTP is at least once. A transfer the kill
        # cut short (no Subject reached the sink: the message never ended with its final ".")
        # is no mail.
        self.assertEqual(sorted(set(str(m["msg"]["Subject"]) for m in self.sink.to(addr)
                                    if m["msg"]["Subject"] is not None)),
                         ["Crash one", "Crash two"])

    def test_converted_lead_gets_no_more_follow_ups(self):
        s = self.s
        p = self.program()
        res = self.resource(p["id"], gated=True, follow_ups=[
            {"after_days": 1, "subject": "One", "body": "1"},
            {"after_days": 2, "subject": "Two", "body": "2"}])
        jane = self.sharer(p["id"])
        addr = uid("conv") + "@example.com"
        lid = self.lead(self.gated_click(jane["code"], res["slug"]), addr)["lead"]["id"]
        s.clock_advance(DAY)
        self.mails(addr, 1)
        self.assertStatus(s.signup(p["id"], email=addr), 201)
        s.clock_advance(3 * DAY)
        self.assertEqual([m["step"] for m in self.messages(lid)], [0])
        self.assertEqual(s.get("/v1/leads/" + lid).body["status"], "converted")


if __name__ == "__main__":
    kithtest.main()
