"""The API reference (docs/api/openapi.json, OpenAPI 3.1) against the code and the running server.

- Every row of the route table (src/app/routes.c, read with a regex) is an operation of the
  document, and every operation of the document is a row: nothing is routed undocumented and
  nothing is documented unrouted.
- The document is well formed where tools rely on it: unique operationIds, every `{param}` of a
  path declared, every $ref resolving, at least one example per operation, and every JSON example
  valid against its own schema.
- Black box: a realistic flow (program, participant, click, signup, event, rewards, webhook
  endpoint and its deliveries, metrics, leaderboard, resources, leads, hub, activities, errors)
  runs against the real server, and each JSON answer is validated against the schema the
  document gives for that operation and status, with the small JSON-Schema validator below
  (types, nullable via type arrays, required, properties, additionalProperties, enums, items,
  bounds, patterns, anyOf, $ref). A status the document does not list for the operation fails.
  Program health, the forecast and experiments (sections 22, 23) are checked with weeks of data
  in them, so that their figures and each variant's results are numbers, not nulls.
- GET /openapi.json is public and serves the committed document byte for byte, with an ETag.
"""

import http.server
import json
import os
import re
import threading
import unittest
import urllib.parse

from kithtest import KithTestCase, uid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(ROOT, "docs", "api", "openapi.json")
ROUTES_C = os.path.join(ROOT, "src", "app", "routes.c")
METHODS = ("get", "post", "patch", "put", "delete", "options", "head")
ROW_RE = re.compile(r'\{KITH_HTTP_([A-Z]+),\s*"([^"]+)",\s*"([^"]+)"')

with open(DOC_PATH, "rb") as _f:
    DOC_BYTES = _f.read()
DOC = json.loads(DOC_BYTES.decode("utf-8"))


def route_rows():
    with open(ROUTES_C, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # a row in a comment is no row
    return [(m.group(1).lower(), m.group(2), m.group(3)) for m in ROW_RE.finditer(text)]


def operations():
    for path, item in DOC["paths"].items():
        for m in METHODS:
            if m in item:
                yield path, m, item[m]


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        cur = DOC
        for part in ref[2:].split("/"):
            cur = cur[part]
        node = cur
    return node


# ---- a small JSON-Schema validator (the subset the document uses) ---------------------------------
def _type_ok(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    raise AssertionError("unknown type in schema: %r" % t)


def validate(schema, v, where="$"):
    """Returns a list of faults (strings); empty when v conforms."""
    schema = resolve(schema)
    faults = []
    if "anyOf" in schema:
        if not any(not validate(s, v, where) for s in schema["anyOf"]):
            faults.append("%s: matches none of anyOf (%r)" % (where, v if not isinstance(v, (dict, list)) else type(v).__name__))
        return faults
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(t, v) for t in types):
            return ["%s: %r is not of type %s" % (where, v if not isinstance(v, (dict, list)) else type(v).__name__, types)]
    if "enum" in schema and v not in schema["enum"]:
        faults.append("%s: %r not in enum %r" % (where, v, schema["enum"]))
    if isinstance(v, str):
        if "minLength" in schema and len(v) < schema["minLength"]:
            faults.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            faults.append("%s: longer than %d" % (where, schema["maxLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], v):
            faults.append("%s: %r does not match %s" % (where, v, schema["pattern"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            faults.append("%s: %r below %r" % (where, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            faults.append("%s: %r above %r" % (where, v, schema["maximum"]))
    if isinstance(v, list):
        if "maxItems" in schema and len(v) > schema["maxItems"]:
            faults.append("%s: more than %d items" % (where, schema["maxItems"]))
        if "minItems" in schema and len(v) < schema["minItems"]:
            faults.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "items" in schema:
            for i, x in enumerate(v):
                faults += validate(schema["items"], x, "%s[%d]" % (where, i))
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in v:
                faults.append("%s: required field %r missing" % (where, k))
        extra = schema.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                faults += validate(props[k], x, "%s.%s" % (where, k))
            elif extra is False:
                faults.append("%s: field %r is not in the schema" % (where, k))
            elif isinstance(extra, dict):
                faults += validate(extra, x, "%s.%s" % (where, k))
    return faults


def find_operation(method, path):
    """The document's (template, operation) for a concrete request path; literal segments win."""
    path = urllib.parse.urlsplit(path).path
    found = []
    for template, item in DOC["paths"].items():
        if method not in item:
            continue
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(rx, path):
            found.append((template.count("{"), template, item[method]))
    if not found:
        return None, None
    found.sort()
    return found[0][1], found[0][2]


class DocumentShape(unittest.TestCase):
    def test_route_table_and_document_agree(self):
        rows = route_rows()
        self.assertGreater(len(rows), 50, "the route table regex found too few rows")
        routed = {(m, p) for m, p, _ in rows}
        documented = {(m, p) for p, m, _ in operations()}
        self.assertEqual(sorted(routed - documented), [], "routed but not in docs/api/openapi.json")
        self.assertEqual(sorted(documented - routed), [], "in docs/api/openapi.json but not routed")
        names = {(m, p): n for m, p, n in rows}
        for p, m, o in operations():
            self.assertEqual(o.get("x-kith-route"), names[(m, p)],
                             "%s %s: x-kith-route is not the route's name" % (m.upper(), p))

    def test_well_formed(self):
        self.assertEqual(DOC["openapi"], "3.1.0")
        ids = [o["operationId"] for _, _, o in operations()]
        self.assertEqual(len(ids), len(set(ids)), "operationIds are not unique")
        schemes = DOC["components"]["securitySchemes"]
        for p, m, o in operations():
            where = "%s %s" % (m.upper(), p)
            declared = {resolve(x)["name"] for x in o.get("parameters", []) if resolve(x)["in"] == "path"}
            self.assertEqual(declared, set(re.findall(r"\{([^}]+)\}", p)), where + ": path parameters")
            for s in o.get("security", DOC["security"]):
                for name in s:
                    self.assertIn(name, schemes, where)
            self.assertTrue(o.get("responses"), where + ": no responses")
            examples = 0
            contents = list(o.get("requestBody", {}).get("content", {}).items())
            for r in o["responses"].values():
                contents += list(resolve(r).get("content", {}).items())
            for ctype, c in contents:
                if "example" in c:
                    examples += 1
                    if ctype == "application/json" and "schema" in c:
                        faults = validate(c["schema"], c["example"])
                        self.assertEqual(faults, [], where + ": its example does not fit its schema")
            self.assertGreater(examples, 0, where + ": no example")

        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    resolve(node)
                for x in node.values():
                    walk(x)
            elif isinstance(node, list):
                for x in node:
                    walk(x)
        walk(DOC)

    def test_error_codes_of_the_contract(self):
        codes = DOC["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
        for c in ("invalid_json", "invalid_param", "immutable_field", "unauthorized", "forbidden",
                  "not_found", "invalid_state", "code_taken", "idempotency_key_in_use",
                  "idempotency_key_reused", "payload_too_large", "rate_limited", "unavailable"):
            self.assertIn(c, codes)


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


class Served(KithTestCase):
    """The flow, each answer checked against the document."""

    server_kwargs = {"test_clock": True, "env": {"KITH_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8"}}
    checked = set()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.shutdown()
        super().tearDownClass()

    def check(self, r, status=None):
        """r fits the document's answer for its operation and status; returns its body."""
        if status is not None:
            self.assertStatus(r, status)
        template, o = find_operation(r.method.lower(), r.path)
        self.assertIsNotNone(o, "%s %s is not in the document" % (r.method, r.path))
        resp = o["responses"].get(str(r.status)) or o["responses"].get("default")
        self.assertIsNotNone(resp, "%s %s answered %d, which the document does not list: %r"
                             % (r.method, template, r.status, r))
        resp = resolve(resp)
        content = resp.get("content", {})
        ctype = r.headers.get("content-type", "").split(";")[0].strip()
        if content:
            self.assertIn(ctype, content, "%s %s %d: Content-Type %r not documented"
                          % (r.method, template, r.status, ctype))
            if ctype == "application/json":
                faults = validate(content[ctype]["schema"], r.body)
                self.assertEqual(faults, [], "%s %s %d: the answer does not fit the document: %s"
                                 % (r.method, template, r.status, json.dumps(r.body)[:2000]))
        type(self).checked.add((r.method.lower(), template))
        return r.body

    def test_flow(self):
        s = self.s
        c = self.check
        # programs
        pid = uid("p")
        prog = c(s.post("/v1/programs", s.program_body(id=pid, qualification={"event": "purchase", "hold_days": 0})), 201)
        c(s.get("/v1/programs"), 200)
        c(s.get("/v1/programs/" + pid), 200)
        c(s.patch("/v1/programs/" + pid, {"cookie_days": 45, "tracks": [
            {"id": "storyteller", "counts": "activity:testimonial",
             "levels": [{"id": "teller", "at": 1, "grants": [{"kind": "role", "role": "teller"}]},
                        {"id": "bard", "at": 5, "approval": "owner"}]}]}), 200)
        c(s.get("/v1/programs/nope"), 404)
        c(s.post("/v1/programs", {"id": "bad id", "name": "x", "destination_url": "https://e.com"}), 400)
        c(s.request("POST", "/v1/programs", raw_body=b"{nope"), 400)
        c(s.get("/v1/programs", key=None), 401)
        # participants
        jane = c(s.post("/v1/participants", {"program": pid, "external_id": uid("u"), "first_name": "Jane",
                                              "email": "jane@example.com", "leaderboard_opt_in": True}), 201)
        c(s.post("/v1/participants", {"program": pid, "external_id": jane["external_id"]}), 200)
        c(s.get("/v1/participants?program=%s&limit=2" % pid), 200)
        c(s.get("/v1/participants/" + jane["id"]), 200)
        c(s.patch("/v1/participants/" + jane["id"], {"first_name": "Janet"}), 200)
        c(s.patch("/v1/participants/" + jane["id"], {"code": "X"}), 400)
        c(s.post("/v1/participants/%s/codes" % jane["id"], {"code": uid("J")[:9].upper().replace("_", "-")}))
        c(s.get("/v1/participants?limit=501"), 400)
        # click, signup, event
        click = s.click_id(jane["code"], query="?ch=email")
        c(s.click(jane["code"]), 302)
        c(s.click("NOPE-0000"), 404)
        sam = c(s.post("/v1/signups", {"program": pid, "external_id": uid("s"), "first_name": "Sam",
                                        "email": "sam@example.com", "click_id": click}), 201)
        self.assertIsNotNone(sam["referral"])
        c(s.post("/v1/signups", {"program": pid, "external_id": sam["participant"]["external_id"]}), 200)
        org = c(s.post("/v1/signups", {"program": pid, "external_id": uid("o"), "ref": "NOPE-0000"}), 201)
        ev = c(s.post("/v1/events", {"program": pid, "type": "purchase", "external_id": sam["participant"]["external_id"],
                                      "amount": 12000, "currency": "USD", "id": uid("in")}), 201)
        self.assertTrue(ev["rewards"])
        c(s.post("/v1/events", {"program": pid, "type": "nope!", "external_id": "x"}), 400)
        # referrals and review
        rid = sam["referral"]["id"]
        c(s.get("/v1/referrals?program=%s&status=rewarded" % pid), 200)
        c(s.get("/v1/referrals/" + rid), 200)
        c(s.post("/v1/referrals/%s/approve" % rid, {}), 409)
        c(s.post("/v1/referrals/%s/reject" % rid, {"reason": "late"}), 409)
        # rewards
        rw = c(s.get("/v1/rewards?program=%s" % pid), 200)["data"]
        c(s.get("/v1/rewards/" + rw[0]["id"]), 200)
        c(s.post("/v1/rewards/%s/redeem" % rw[0]["id"], {}), 200)
        c(s.post("/v1/rewards/%s/redeem" % rw[0]["id"], {}), 409)
        c(s.post("/v1/rewards/%s/void" % rw[1]["id"], {}), 200)
        # notifications, share
        c(s.get("/v1/participants/%s/notifications" % jane["id"]), 200)
        c(s.get("/v1/participants/%s/share" % jane["id"]), 200)
        # webhooks: a local receiver gets the deliveries
        url = "http://127.0.0.1:%d/hook" % self.receiver.server_address[1]
        whe = c(s.post("/v1/webhook_endpoints", {"url": url, "description": "test"}), 201)
        c(s.post("/v1/webhook_endpoints", {"url": "ftp://x"}), 400)
        c(s.get("/v1/webhook_endpoints"), 200)
        c(s.get("/v1/webhook_endpoints/" + whe["id"]), 200)
        c(s.post("/v1/participants", {"program": pid, "external_id": uid("w"), "first_name": "Wes"}), 201)
        atts = []
        for _ in range(200):
            atts = c(s.get("/v1/webhook_endpoints/%s/deliveries" % whe["id"]), 200)["data"]
            if atts:
                break
            import time
            time.sleep(0.05)
        self.assertTrue(atts, "no delivery attempt was recorded")
        c(s.post("/v1/webhook_endpoints/%s/deliveries/%s/retry" % (whe["id"], atts[0]["message"]), {}))
        c(s.post("/v1/webhook_endpoints/%s/deliveries/msg_nope/retry" % whe["id"], {}), 404)
        c(s.patch("/v1/webhook_endpoints/" + whe["id"], {"status": "disabled"}), 200)
        c(s.delete("/v1/webhook_endpoints/" + whe["id"]), 200)
        # providers: no secret configured, or a bad signature
        c(s.request("POST", "/v1/integrations/stripe/" + pid, raw_body=b"{}", key=None,
                    headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"}))
        c(s.request("POST", "/v1/integrations/shopify/" + pid, raw_body=b"{}", key=None,
                    headers={"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": "AA=="}))
        # metrics, leaderboard
        c(s.get("/v1/metrics?program=" + pid), 200)
        c(s.get("/v1/metrics?program=%s&from=nope" % pid), 400)
        c(s.get("/v1/leaderboard?program=%s&limit=5" % pid), 200)
        c(s.get("/v1/leaderboard?program=%s&limit=101" % pid), 400)
        pk = s.keys_create(publishable=True)
        c(s.get("/v1/leaderboard?program=" + pid, key=pk), 200)
        c(s.get("/v1/programs", key=pk), 403)
        # activities, roles, levels
        act = c(s.post("/v1/activities", {"program": pid, "external_id": jane["external_id"],
                                           "type": "testimonial", "id": uid("t"), "note": "kind words"}), 201)
        c(s.get("/v1/activities?program=" + pid), 200)
        c(s.get("/v1/activities/" + act["activity"]["id"]), 200)
        c(s.post("/v1/activities/%s/void" % act["activity"]["id"], {"reason": "dup"}), 200)
        c(s.post("/v1/activities", {"program": pid, "external_id": "nobody", "type": "testimonial", "id": "z"}), 404)
        c(s.post("/v1/participants/%s/roles" % jane["id"], {"role": "helper"}), 201)
        c(s.delete("/v1/participants/%s/roles/helper" % jane["id"]), 200)
        c(s.delete("/v1/participants/%s/roles/helper" % jane["id"]), 404)
        c(s.post("/v1/participants/%s/levels/storyteller/approve" % jane["id"], {}), 409)
        c(s.post("/v1/participants/%s/levels/nope/decline" % jane["id"], {}), 404)
        # resources and leads
        c(s.post("/v1/resources", {"program": pid, "slug": "guide", "title": "The guide", "kind": "guide",
                                   "url": "https://example.com/guide", "gated": True,
                                   "follow_ups": [{"after_days": 1, "subject": "Hi", "body": "Hello {{first_name}}"}]}), 201)
        c(s.get("/v1/resources?program=" + pid), 200)
        c(s.get("/v1/resources/guide?program=" + pid), 200)
        c(s.patch("/v1/resources/guide?program=" + pid, {"title": "The better guide"}), 200)
        c(s.request("POST", "/v1/resources/import?program=" + pid, headers={"Content-Type": "text/csv"},
                    raw_body=b"slug,title,url\nshoes,Shoes,https://example.com/shoes\n"), 200)
        c(s.request("POST", "/v1/resources/import?program=" + pid, headers={"Content-Type": "text/csv"},
                    raw_body=b"slug,title,url\nBAD SLUG,Shoes,https://example.com/shoes\n"), 400)
        page = s.request("GET", "/r/%s/guide" % jane["code"], key=None,
                         headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) kithtest"})
        c(page, 200)
        cookie = page.headers.get("set-cookie", "")
        lead_click = re.match(r"kith_ref=([^;]+)", cookie).group(1)
        lead = c(s.post("/v1/public/leads", {"click_id": lead_click, "email": "kim@example.com", "consent": True},
                        key=None), 201)
        c(s.post("/v1/public/leads", {"click_id": lead_click, "email": "kim@example.com", "consent": False},
                 key=None), 400)
        lid = lead["lead"]["id"]
        c(s.get("/v1/leads?program=" + pid), 200)
        c(s.get("/v1/leads/" + lid), 200)
        s.clock_advance(2 * 86400)
        c(s.get("/v1/leads/%s/messages" % lid), 200)
        c(s.post("/v1/leads/%s/erase" % lid, {}), 200)
        c(s.post("/v1/resources/shoes/archive?program=" + pid, {}), 200)
        # the share hub
        link = c(s.post("/v1/participants/%s/hub_link" % jane["id"], {"expires_in_days": 7}), 201)
        token = link["url"].rsplit("/", 1)[1]
        hub = {"Authorization": "Hub " + token}
        c(s.get("/v1/hub/me", key=None, headers=hub), 200)
        c(s.patch("/v1/hub/me", {"leaderboard_opt_in": False}, key=None, headers=hub), 200)
        c(s.get("/v1/hub/export", key=None, headers=hub), 200)
        c(s.get("/v1/hub/me", key=None), 401)
        c(s.post("/v1/public/hub_login", {"program": pid, "email": "jane@example.com"}, key=None), 202)
        c(s.get("/p/" + token, key=None), 200)
        c(s.get("/p/hub_nope", key=None), 404)
        c(s.request("OPTIONS", "/v1/hub/me", key=None,
                    headers={"Origin": "https://example.com", "Access-Control-Request-Method": "GET"}))
        # privacy
        c(s.get("/v1/participants/%s/export" % jane["id"]), 200)
        c(s.post("/v1/hub/erase", {"confirm": False}, key=None, headers=hub), 400)
        c(s.post("/v1/hub/erase", {"confirm": True}, key=None, headers=hub), 200)
        c(s.post("/v1/participants/%s/erase" % org["participant"]["id"], {}), 200)
        # operations, assets, the clock
        c(s.get("/healthz", key=None), 200)
        c(s.get("/metrics", key=None), 200)
        c(s.get("/kith.js", key=None), 200)
        c(s.get("/assets/kith.css", key=None), 200)
        c(s.get("/assets/nope.css", key=None), 404)
        c(s.get("/favicon.svg", key=None), 200)
        c(s.get("/favicon.ico", key=None), 200)
        c(s.get("/v1/test/clock"), 200)
        c(s.post("/v1/test/clock", {"advance_seconds": 60}), 200)
        c(s.get("/openapi.json", key=None), 200)
        self.assertGreaterEqual(len(type(self).checked), 60, "the flow checked too few operations")

    def test_later_sections(self):
        """Sections that arrive with their own branches: checked once their routes are routed."""
        s, c = self.s, self.check
        routed = {(m, p) for m, p, _ in route_rows()}
        pid = uid("q")
        c(s.post("/v1/programs", s.program_body(id=pid)), 201)
        jane = c(s.post("/v1/participants", {"program": pid, "external_id": uid("u"), "first_name": "Jane",
                                              "email": "jane@example.com"}), 201)
        if ("post", "/v1/moments") in routed:
            c(s.post("/v1/moments", {"program": pid, "external_id": jane["external_id"], "type": "nps",
                                     "score": 10, "id": uid("m")}), 201)
            c(s.get("/v1/asks?program=" + pid), 200)
            c(s.post("/v1/spotlights", {"program": pid, "period": "2026-11"}))
            c(s.get("/v1/spotlights?program=" + pid), 200)
            c(s.get("/v1/public/programs/" + pid, key=None), 404)
        if ("get", "/programs/{id}") in routed:
            c(s.get("/programs/" + pid, key=None), 404)
            c(s.patch("/v1/programs/" + pid, {"public_page": True}), 200)
            c(s.get("/programs/" + pid, key=None), 200)
            c(s.get("/v1/public/programs/" + pid, key=None), 200)
        if ("get", "/v1/metrics/health") in routed:
            c(s.get("/v1/metrics/health?program=" + pid), 200)
            c(s.get("/v1/forecast?program=" + pid))
            exp = c(s.post("/v1/experiments", {"program": pid, "id": "give40", "name": "More",
                                               "variants": [{"id": "control", "weight": 50},
                                                            {"id": "give40", "weight": 50}],
                                               "metric": "qualified_per_referrer"}), 201)
            c(s.get("/v1/experiments?program=" + pid), 200)
            c(s.get("/v1/experiments/" + exp["id"]), 200)
            c(s.post("/v1/experiments/%s/start" % exp["id"], {}), 200)
            c(s.post("/v1/experiments/%s/stop" % exp["id"], {}), 200)
        if ("get", "/v1/payouts.csv") in routed:
            c(s.get("/v1/payouts.csv?program=" + pid), 200)
            # reward fulfilment (section 25): a claim and a payout, answered as documented
            fid = uid("f")
            c(s.post("/v1/programs", s.program_body(id=fid, rewards=[
                {"to": "referrer", "kind": "gift", "description": "A tote bag"},
                {"to": "referred", "kind": "cash", "amount": 500, "currency": "USD"}],
                fulfilment={"gift": "claim", "cash": "payout"},
                claim_form={"gift": [{"name": "size", "type": "choice", "choices": ["S", "M"],
                                      "required": True}]})), 201)
            ann = c(s.post("/v1/participants", {"program": fid, "external_id": uid("u"),
                                                 "first_name": "Ann", "email": "ann@example.com",
                                                 "stripe_customer_id": "cus_QXg1o8vcGmoR32"}), 201)
            sam = c(s.post("/v1/signups", {"program": fid, "external_id": uid("s"),
                                            "email": "sam@example.com", "ref": ann["code"]}), 201)
            ev = c(s.post("/v1/events", {"program": fid, "type": "purchase", "amount": 5000,
                                          "currency": "USD",
                                          "external_id": sam["participant"]["external_id"]}), 201)
            by = {r["to"]: r["id"] for r in ev["rewards"]}
            c(s.get("/v1/rewards/" + by["referrer"]), 200)
            c(s.get("/v1/rewards/%s/claim" % by["referrer"]), 200)
            c(s.post("/v1/rewards/%s/claim" % by["referrer"], {"answers": {"size": "XL"}}), 400)
            c(s.post("/v1/rewards/%s/claim" % by["referrer"], {"answers": {"size": "M"}}), 200)
            link = c(s.post("/v1/participants/%s/hub_link" % ann["id"], {"expires_in_days": 7}), 201)
            hub = {"Authorization": "Hub " + link["url"].rsplit("/", 1)[1]}
            c(s.get("/v1/hub/rewards/%s/claim" % by["referrer"], key=None, headers=hub), 200)
            c(s.post("/v1/hub/rewards/%s/claim" % by["referrer"], {"answers": {"size": "S"}},
                     key=None, headers=hub), 200)
            c(s.get("/v1/hub/rewards/%s/claim" % by["referred"], key=None, headers=hub), 404)
            c(s.get("/v1/hub/me", key=None, headers=hub), 200)
            c(s.post("/v1/rewards/%s/fulfilment/delivered" % by["referrer"], {}), 200)
            c(s.post("/v1/rewards/%s/fulfilment/retry" % by["referrer"], {}), 409)
            c(s.get("/v1/payouts.csv?program=%s&status=pending" % fid), 200)
            c(s.post("/v1/payouts/mark_paid", {"rewards": [by["referred"]]}), 200)
            c(s.post("/v1/payouts/mark_paid", {"rewards": ["rwd_nope"]}), 404)
            c(s.request("OPTIONS", "/v1/hub/rewards/%s/claim" % by["referrer"], key=None,
                        headers={"Origin": "https://example.com",
                                 "Access-Control-Request-Method": "POST"}))
        if ("get", "/v1/api_keys") in routed:
            c(s.get("/v1/api_keys"), 200)
            key = c(s.post("/v1/api_keys", {"kind": "publishable", "name": "site"}), 201)
            c(s.delete("/v1/api_keys/" + key["id"]), 200)
            c(s.get("/v1/exports/participants.csv?program=" + pid), 200)
            c(s.post("/admin/login", {"email": "nobody@example.com", "password": "x" * 12}, key=None), 401)
            c(s.get("/admin", key=None), 200)
        if ("get", "/v1/exports/{file}") in routed:
            c(s.get("/v1/exports/referrals.csv?program=" + pid), 200)

    def test_sections_22_23(self):
        """Program health, the forecast and experiments with data in them: every figure and
        every variant's results filled in, each answer (and each error the routes give) checked
        against the document. Named to run last in the class: it moves the test clock weeks on."""
        s, c = self.s, self.check
        if ("get", "/v1/metrics/health") not in {(m, p) for m, p, _ in route_rows()}:
            self.skipTest("sections 22 and 23 are not routed")
        pid = uid("g")
        c(s.post("/v1/programs", s.program_body(
            id=pid, qualification={"event": "purchase", "hold_days": 0},
            fraud={"review_at": 1, "reject_at": 2, "new_account_hours": 0, "velocity_per_day": 1000},
            average_customer_value=100000, currency="USD")), 201)
        r = c(s.get("/v1/forecast?program=" + pid), 409)
        self.assertEqual(r["error"]["code"], "invalid_state")
        c(s.get("/v1/forecast?program=%s&months=25" % pid), 400)
        exp = c(s.post("/v1/experiments", {
            "program": pid, "id": uid("x"), "name": "Reward levels",
            "variants": [{"id": "control", "weight": 50},
                         {"id": "give30", "weight": 50, "rewards": [
                             {"to": "referrer", "kind": "credit", "amount": 3000, "currency": "USD"},
                             {"to": "referred", "kind": "credit", "amount": 1500, "currency": "USD"}]}],
            "metric": "qualification_rate", "max_days": 56,
            "guardrails": {"max_cost_per_qualified": {"USD": 1000}, "max_review_rate": 0.1}}), 201)
        eid = exp["id"]
        c(s.post("/v1/experiments", {"program": pid, "id": "bad", "name": "n",
                                     "variants": [{"id": "a", "weight": 0}, {"id": "b", "weight": 1}]}), 400)
        c(s.get("/v1/experiments/exp_nope"), 404)
        c(s.post("/v1/experiments/%s/stop" % eid, {}), 409)
        c(s.post("/v1/experiments/%s/start" % eid, {}), 200)
        c(s.post("/v1/experiments/%s/start" % eid, {}), 409)
        # five weeks of referrals, purchases and clicks, one from the referrer's own address
        people = []
        for week in range(5):
            ref = c(s.post("/v1/participants", {"program": pid, "external_id": uid("r"),
                                                 "first_name": "Ref", "ip": "192.0.2.%d" % (10 + week)}), 201)
            self.assertIn(eid, c(s.get("/v1/participants/" + ref["id"]), 200)["experiments"])
            s.click_id(ref["code"])
            for i in range(3):
                kw = {"ip": "192.0.2.%d" % (10 + week)} if i == 2 else {}
                sam = c(s.post("/v1/signups", dict({"program": pid, "external_id": uid("s"),
                                                    "ref": ref["code"]}, **kw)), 201)
                if i == 0:
                    c(s.post("/v1/events", {"program": pid, "type": "purchase", "amount": 12000,
                                            "currency": "USD",
                                            "external_id": sam["participant"]["external_id"]}), 201)
            people.append(ref)
            s.settle_clicks()
            s.clock_advance(7 * 86400)
        h = c(s.get("/v1/metrics/health?program=" + pid), 200)
        self.assertIsNotNone(h["activation"])
        self.assertIsNotNone(h["fraud_pressure"]["review_rate"])
        self.assertTrue(h["series"])
        c(s.get("/v1/metrics/health?program=%s&from=2020-01-01T00:00:00Z&to=2020-01-09T12:00:00Z" % pid), 200)
        c(s.get("/v1/metrics/health?program=%s&from=nope" % pid), 400)
        c(s.get("/v1/metrics/health?program=nope_" + pid), 404)
        f = c(s.get("/v1/forecast?program=%s&months=2" % pid), 200)
        self.assertEqual(len(f["months"]), 2)
        got = c(s.get("/v1/experiments/" + eid), 200)
        self.assertTrue(any(v["signups"] for v in got["variants"]))
        self.assertTrue(got["guardrails_breached"])
        c(s.get("/v1/experiments?program=%s&status=running" % pid), 200)
        c(s.get("/v1/participants/%s/export" % people[0]["id"]), 200)
        c(s.post("/v1/experiments/%s/promote" % eid, {"variant": "nope"}), 400)
        c(s.post("/v1/experiments/%s/stop" % eid, {}), 200)
        c(s.post("/v1/experiments/%s/promote" % eid, {"variant": "give30"}), 200)
        c(s.post("/v1/experiments/%s/promote" % eid, {"variant": "give30"}), 409)

    def test_openapi_json_is_the_committed_document(self):
        r = self.s.get("/openapi.json", key=None)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0], "application/json")
        self.assertEqual(r.raw, DOC_BYTES, "GET /openapi.json is not docs/api/openapi.json")
        etag = r.headers.get("etag")
        self.assertTrue(etag and etag.startswith('"'), "no ETag: %r" % r.headers)
        again = self.s.get("/openapi.json", key=None, headers={"If-None-Match": etag})
        self.assertStatus(again, 304)
        self.assertEqual(again.raw, b"")


if __name__ == "__main__":
    unittest.main()
