"""A local stand-in for the parts of Stripe's API that reward fulfilment calls (contract
section 25), for tests/api/test_fulfilment.py.

It listens on 127.0.0.1 (kith is pointed at it with KITH_STRIPE_API_BASE) and behaves as
Stripe documents, strictly enough that a wrong request fails the way it would on Stripe:

- every request needs `Authorization: Bearer <a known key>` (else 401) and the Stripe-Version
  kith pins; POST bodies must be application/x-www-form-urlencoded, and an unknown or missing
  parameter is a 400 `parameter_unknown` / `parameter_missing`, as on Stripe;
- Idempotency-Key (docs.stripe.com/api/idempotent_requests): the first request with a key that
  starts executing has its status and body saved; a later request with the key and the same
  parameters gets that answer replayed (`Idempotent-Replayed: true`) and has no effect; other
  parameters are a 400 `idempotency_error`; the key while its first request still runs is a 409.
  An answer refused before execution (a scripted 503, say) is not saved. `effects[key]` counts
  the executions per key, which is what "never fulfilled twice" means on Stripe's side;
- objects are Stripe's own examples (tests/api/fixtures/stripe) with only what the request
  decided set: customers (with search by metadata), customer balance transactions, coupons,
  promotion codes (the 2025-09-30.clover shape: promotion.coupon) and subscriptions.

Tests script faults with fail(route, status, ...) (answered before executing, so not saved,
unless saved=True) and hold(route) (the request executes, its answer is saved, then the stand-in
waits before answering until release(): a caller killed meanwhile never hears it). Every request
is recorded (method, path, query, form, headers) so tests check exactly what kith sent.
"""

import copy
import http.server
import json
import os
import re
import secrets
import threading
import time
import urllib.parse

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "stripe")
STRIPE_VERSION = "2025-09-30.clover"
_examples = {}


def example(name):
    """A fresh copy of Stripe's example object `name` (customer, coupon, ...)."""
    if name not in _examples:
        with open(os.path.join(FIXTURES, name + ".json")) as f:
            _examples[name] = json.load(f)
    return copy.deepcopy(_examples[name])


def stripe_id(prefix):
    return prefix + secrets.token_hex(8)


def metadata_of(form):
    return {k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")}


class Request:
    def __init__(self, method, path, query, form, headers, raw):
        self.method = method
        self.path = path
        self.query = query        # {name: value} (each given once)
        self.form = form          # {name: value} for POST
        self.headers = headers    # lower-cased names
        self.raw = raw
        self.idem_key = headers.get("idempotency-key")
        self.status = None        # what the stand-in answered (None while held)
        self.replayed = False

    @property
    def route(self):
        return "%s %s" % (self.method, self.path)

    def __repr__(self):
        return "<%s %s q=%r form=%r key=%s -> %s%s>" % (
            self.method, self.path, self.query, self.form, self.idem_key, self.status,
            " (replayed)" if self.replayed else "")


class ApiError(Exception):
    def __init__(self, status, type_, message, code=None, param=None):
        self.status = status
        self.body = {"error": {"type": type_, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def unknown(form, allowed):
    for k in form:
        base = k.split("[")[0] + ("[" if "[" in k else "")
        if k not in allowed and base not in allowed:
            raise ApiError(400, "invalid_request_error", "Received unknown parameter: %s" % k,
                           "parameter_unknown", k)


def need(form, name):
    if name not in form or form[name] == "":
        raise ApiError(400, "invalid_request_error", "Missing required param: %s." % name,
                       "parameter_missing", name)
    return form[name]


def integer(form, name):
    v = form.get(name)
    if v is None:
        return None
    if not re.fullmatch(r"-?[0-9]+", v):
        raise ApiError(400, "invalid_request_error", "Invalid integer: %s" % v, "parameter_invalid_integer", name)
    return int(v)


class StripeStandIn:
    def __init__(self, api_keys):
        self.api_keys = set(api_keys)
        self.lock = threading.Lock()
        self.requests = []
        self.effects = {}          # Idempotency-Key -> executions
        self.saved = {}            # key -> (fingerprint, status, body)
        self.running = set()       # keys whose first request is executing
        self.customers = {}
        self.balance = {}          # customer -> [transactions], newest first
        self.coupons = []          # newest first
        self.promotion_codes = []  # newest first
        self.subscriptions = {}
        self.faults = []           # [route regex, status, body, headers, saved]
        self.holds = {}            # route regex -> threading.Event
        self.held = []             # requests waiting in a hold
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                standin._serve(self, "GET")

            def do_POST(self):
                standin._serve(self, "POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        self.release_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- what tests set up and read ---------------------------------------------------------
    def add_customer(self, external_id=None, cid=None):
        c = example("customer")
        c.update({"id": cid or stripe_id("cus_"), "created": int(time.time()), "balance": 0,
                   "metadata": {"kith_external_id": external_id} if external_id else {},
                   "discount": None})
        with self.lock:
            self.customers[c["id"]] = c
            self.balance.setdefault(c["id"], [])
        return c["id"]

    def add_subscription(self, customer, period_end, trial_end=None, status="active"):
        s = example("subscription")
        sid = stripe_id("sub_")
        s.update({"id": sid, "customer": customer, "status": status, "trial_end": trial_end,
                  "metadata": {}, "cancel_at": None, "canceled_at": None, "ended_at": None})
        for item in s["items"]["data"]:
            item["subscription"] = sid
            item["current_period_start"] = period_end - 30 * 86400
            item["current_period_end"] = period_end
        s["items"]["url"] = "/v1/subscription_items?subscription=" + sid
        with self.lock:
            self.subscriptions[sid] = s
        return sid

    def fail(self, route, status, times=1, message="Stripe is having a moment", code=None,
             headers=None, saved=False, drop=False):
        """The next `times` requests matching route ("POST /v1/coupons", a regex) are answered
        with status before executing (not saved under their key), or after executing when
        saved=True (Stripe saved that answer: a replay gets it again); drop=True breaks the
        connection in the middle of an answer instead (before executing)."""
        err = {"error": {"type": "api_error" if status >= 500 else "invalid_request_error",
                         "message": message}}
        if code:
            err["error"]["code"] = code
        with self.lock:
            for _ in range(times):
                self.faults.append([re.compile(route + "$"), status, err, headers or {}, saved,
                                    drop])

    def hold(self, route):
        with self.lock:
            self.holds[route] = threading.Event()

    def reset(self):
        """Forgets scripted faults and lets held requests go."""
        with self.lock:
            self.faults = []
        self.release_all()

    def release_all(self):
        with self.lock:
            evs = list(self.holds.values())
            self.holds = {}
        for e in evs:
            e.set()

    def got(self, route=None):
        with self.lock:
            reqs = list(self.requests)
        if route is None:
            return reqs
        rx = re.compile(route + "$")
        return [r for r in reqs if rx.match(r.route)]

    def effects_total(self):
        with self.lock:
            return sum(self.effects.values())

    def wait_for(self, fn, timeout=20.0, what="requests"):
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v or time.monotonic() > deadline:
                if not v:
                    raise AssertionError("stand-in: timed out waiting for %s; saw %r"
                                         % (what, self.got()))
                return v
            time.sleep(0.05)

    # ---- serving ----------------------------------------------------------------------------
    def _send(self, h, status, body, extra=None):
        data = json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.send_header("Request-Id", stripe_id("req_"))
            for k, v in (extra or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the caller went away (killed mid-call)

    def _serve(self, h, method):
        split = urllib.parse.urlsplit(h.path)
        headers = {k.lower(): v for k, v in h.headers.items()}
        raw = b""
        if method == "POST":
            raw = h.rfile.read(int(headers.get("content-length", "0") or 0))
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True,
                                            strict_parsing=bool(split.query)))
        form = {}
        if raw:
            pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                                           strict_parsing=True)
            form = dict(pairs)
            if len(form) != len(pairs):
                self._send(h, 400, {"error": {"type": "invalid_request_error",
                                              "message": "a parameter was given twice"}})
                return
        req = Request(method, split.path, query, form, headers, raw)
        with self.lock:
            self.requests.append(req)
        status, body, extra = self._answer(req)
        req.status = status
        if status is None:
            h.close_connection = True  # held: the connection closes unanswered
            return
        if status == "drop":
            # The connection breaks in the middle of the answer: the caller got something, so
            # no HTTP client takes it for a stale kept-alive connection and silently resends.
            try:
                h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 400\r\n\r\n{\"id\": ")
                h.wfile.flush()
            except OSError:
                pass
            h.close_connection = True
            return
        self._send(h, status, body, extra)

    def _answer(self, req):
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.api_keys:
            return 401, {"error": {"type": "invalid_request_error",
                                   "message": "Invalid API Key provided"}}, {}
        if req.headers.get("stripe-version") != STRIPE_VERSION:
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "kith must pin Stripe-Version %s" % STRIPE_VERSION}}, {}
        if req.method == "POST" and not req.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "form-encoded bodies only"}}, {}
        if req.method == "GET" and req.idem_key:
            return 400, {"error": {"type": "invalid_request_error",
                                   "message": "kith sends no Idempotency-Key on a GET"}}, {}
        fault = None
        with self.lock:
            for f in self.faults:
                if f[0].match(req.route):
                    fault = f
                    self.faults.remove(f)
                    break
        if fault and not fault[4]:
            if fault[5]:
                return "drop", None, None
            return fault[1], fault[2], fault[3]
        key = req.idem_key
        fingerprint = (req.route, sorted(req.form.items()))
        if req.method == "POST" and key:
            with self.lock:
                if key in self.running:
                    return 409, {"error": {"type": "idempotency_error",
                                           "code": "idempotency_key_in_use",
                                           "message": "There is currently another in-progress "
                                                      "request using this Idempotent Key"}}, {}
                if key in self.saved:
                    fp, status, body = self.saved[key]
                    if fp != fingerprint:
                        return 400, {"error": {"type": "idempotency_error",
                                               "message": "Keys for idempotent requests can only "
                                                          "be used with the same parameters they "
                                                          "were first used with."}}, {}
                    req.replayed = True
                    return status, body, {"Idempotent-Replayed": "true",
                                          "Idempotency-Key": key}
                self.running.add(key)
        ev = None
        try:
            try:
                status, body = 200, self._execute(req)
                if req.method == "POST":
                    with self.lock:
                        self.effects[key] = self.effects.get(key, 0) + 1
            except ApiError as e:
                status, body = e.status, e.body
            if fault:  # executed, then answered with the saved fault
                status, body = fault[1], fault[2]
            with self.lock:
                if req.method == "POST" and key:
                    self.saved[key] = (fingerprint, status, body)
                for route, e in self.holds.items():
                    if re.match(route + "$", req.route):
                        ev = e
                if ev is not None:
                    self.held.append(req)
        finally:
            with self.lock:
                self.running.discard(key)
        if ev is not None:
            ev.wait(120)
            return None, None, None  # whoever called is gone; nobody hears this answer
        extra = {"Idempotency-Key": key} if key else {}
        if fault:
            extra.update(fault[3])
        return status, body, extra

    # ---- the API ------------------------------------------------------------------------------
    def _execute(self, req):
        p, q, f = req.path, req.query, req.form
        m = re.fullmatch(r"/v1/customers/search", p)
        if m and req.method == "GET":
            unknown(q, {"query", "limit", "page", "expand["})
            qm = re.fullmatch(r"metadata\['kith_external_id'\]:'((?:[^'\\]|\\.)*)'", q.get("query", ""))
            if not qm:
                raise ApiError(400, "invalid_request_error", "unsupported search query: %r" % q.get("query"))
            want = re.sub(r"\\(.)", r"\1", qm.group(1))
            with self.lock:
                found = [c for c in self.customers.values()
                         if c["metadata"].get("kith_external_id") == want]
            return {"object": "search_result", "url": "/v1/customers/search",
                    "has_more": False, "data": found, "next_page": None}
        m = re.fullmatch(r"/v1/customers/([^/]+)/balance_transactions", p)
        if m:
            cus = urllib.parse.unquote(m.group(1))
            with self.lock:
                if cus not in self.customers:
                    raise ApiError(404, "invalid_request_error", "No such customer: '%s'" % cus,
                                   "resource_missing", "customer")
            if req.method == "GET":
                unknown(q, {"limit", "starting_after", "ending_before"})
                with self.lock:
                    return self._page(self.balance[cus], q, "/v1/customers/%s/balance_transactions" % cus)
            unknown(f, {"amount", "currency", "description", "metadata[", "expand["})
            amount = integer(f, "amount")
            need(f, "amount")
            cur = need(f, "currency")
            if not re.fullmatch(r"[a-z]{3}", cur):
                raise ApiError(400, "invalid_request_error", "Invalid currency: %s" % cur)
            t = example("customer_balance_transaction")
            with self.lock:
                before = self.customers[cus]["balance"]
                t.update({"id": stripe_id("cbtxn_"), "amount": amount, "currency": cur,
                          "customer": cus, "description": f.get("description"),
                          "metadata": metadata_of(f), "created": int(time.time()),
                          "ending_balance": before + amount, "type": "adjustment"})
                self.customers[cus]["balance"] = before + amount
                self.balance[cus].insert(0, t)
            return t
        if p == "/v1/coupons":
            if req.method == "GET":
                unknown(q, {"limit", "starting_after", "ending_before", "created"})
                with self.lock:
                    return self._page(self.coupons, q, "/v1/coupons")
            unknown(f, {"duration", "amount_off", "currency", "percent_off", "max_redemptions",
                        "name", "metadata[", "id", "redeem_by", "duration_in_months"})
            duration = need(f, "duration")
            if duration not in ("once", "repeating", "forever"):
                raise ApiError(400, "invalid_request_error", "Invalid duration")
            if ("amount_off" in f) == ("percent_off" in f):
                raise ApiError(400, "invalid_request_error",
                               "Exactly one of amount_off or percent_off is required")
            if "amount_off" in f:
                need(f, "currency")
            c = example("coupon")
            c.update({"id": f.get("id") or secrets.token_hex(4).upper(), "duration": duration,
                      "duration_in_months": None, "amount_off": integer(f, "amount_off"),
                      "currency": f.get("currency"),
                      "percent_off": float(f["percent_off"]) if "percent_off" in f else None,
                      "max_redemptions": integer(f, "max_redemptions"), "name": f.get("name"),
                      "metadata": metadata_of(f), "created": int(time.time()), "redeem_by": None,
                      "times_redeemed": 0, "valid": True})
            with self.lock:
                self.coupons.insert(0, c)
            return c
        if p == "/v1/promotion_codes":
            if req.method == "GET":
                unknown(q, {"coupon", "code", "limit", "starting_after", "active", "customer"})
                with self.lock:
                    items = [x for x in self.promotion_codes
                             if "coupon" not in q or x["promotion"]["coupon"] == q["coupon"]]
                    return self._page(items, q, "/v1/promotion_codes")
            unknown(f, {"promotion[type]", "promotion[coupon]", "code", "max_redemptions",
                        "metadata[", "active", "customer", "expires_at", "restrictions["})
            if need(f, "promotion[type]") != "coupon":
                raise ApiError(400, "invalid_request_error", "promotion[type] must be coupon")
            coupon = need(f, "promotion[coupon]")
            code = f.get("code") or secrets.token_hex(4).upper()
            if not re.fullmatch(r"[a-zA-Z0-9]{1,500}", code):
                raise ApiError(400, "invalid_request_error", "Invalid code", "parameter_invalid", "code")
            with self.lock:
                if not any(c["id"] == coupon for c in self.coupons):
                    raise ApiError(400, "invalid_request_error", "No such coupon: '%s'" % coupon,
                                   "resource_missing", "promotion[coupon]")
                if any(x["code"].lower() == code.lower() and x["active"]
                       for x in self.promotion_codes):
                    raise ApiError(400, "invalid_request_error",
                                   "An active promotion code with `code: %s` already exists." % code)
            pc = example("promotion_code")
            pc.update({"id": stripe_id("promo_"), "code": code, "active": True,
                       "max_redemptions": integer(f, "max_redemptions"),
                       "metadata": metadata_of(f), "created": int(time.time()),
                       "expires_at": None, "promotion": {"type": "coupon", "coupon": coupon}})
            with self.lock:
                self.promotion_codes.insert(0, pc)
            return pc
        m = re.fullmatch(r"/v1/subscriptions/([^/]+)", p)
        if m:
            sid = urllib.parse.unquote(m.group(1))
            with self.lock:
                sub = self.subscriptions.get(sid)
                if sub is None:
                    raise ApiError(404, "invalid_request_error", "No such subscription: '%s'" % sid,
                                   "resource_missing", "id")
                if req.method == "GET":
                    unknown(q, {"expand["})
                    return copy.deepcopy(sub)
                unknown(f, {"trial_end", "proration_behavior", "metadata[", "cancel_at_period_end",
                            "items[", "trial_from_plan"})
                trial_end = integer(f, "trial_end")
                if trial_end is None or trial_end <= int(time.time()):
                    raise ApiError(400, "invalid_request_error", "trial_end must be in the future")
                if f.get("proration_behavior") not in (None, "none", "create_prorations",
                                                       "always_invoice"):
                    raise ApiError(400, "invalid_request_error", "Invalid proration_behavior")
                sub["trial_end"] = trial_end
                sub["status"] = "trialing"
                sub["metadata"].update(metadata_of(f))
                return copy.deepcopy(sub)
        raise ApiError(404, "invalid_request_error", "Unrecognized request URL (%s: %s)"
                       % (req.method, p))

    @staticmethod
    def _page(items, q, url):
        limit = int(q.get("limit", "10"))
        start = 0
        if "starting_after" in q:
            ids = [x["id"] for x in items]
            if q["starting_after"] not in ids:
                raise ApiError(400, "invalid_request_error", "No such object: starting_after")
            start = ids.index(q["starting_after"]) + 1
        page = items[start:start + limit]
        return {"object": "list", "url": url, "has_more": start + limit < len(items),
                "data": copy.deepcopy(page)}
