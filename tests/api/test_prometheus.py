"""GET /metrics (contract section 9; metric names from docs/api/README.md).

A small strict parser for the Prometheus text exposition format 0.0.4 checks every line, then
the counters are driven by known traffic and their deltas asserted exactly.
"""

import math
import re
import secrets
import time
import unittest

import kithtest
from kithtest import KithTestCase, uid

BOT_UAS = {
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "google": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
}
MORE_BOT_UAS = {
    "twitter": "Twitterbot/1.0",
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "linkedin": ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient "
                 "+http://www.linkedin.com)"),
    "whatsapp": "WhatsApp/2.23.20.0 A",
    "bing": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
}
HUMAN_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


# ---- a strict parser for the text format 0.0.4 ---------------------------------------------------

class ExpositionError(AssertionError):
    pass


METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
METRIC_NAME_RE = re.compile("^" + METRIC_NAME + "$")
HELP_RE = re.compile(r"^#[ \t]+HELP[ \t]+(" + METRIC_NAME + r")(?:[ \t](.*))?$")
TYPE_RE = re.compile(r"^#[ \t]+TYPE[ \t]+(" + METRIC_NAME + r")[ \t]+(\S+)[ \t]*$")
SAMPLE_HEAD_RE = re.compile(r"^(" + METRIC_NAME + r")")
LABEL_RE = re.compile(r"(" + LABEL_NAME + r")[ \t]*=[ \t]*\"((?:[^\"\\\n]|\\[\\\"n])*)\"")
FLOAT_RE = re.compile(r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|inf|NaN)$")
TIMESTAMP_RE = re.compile(r"^-?[0-9]+$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def _unescape(s, quotes):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                raise ExpositionError("dangling backslash in %r" % s)
            n = s[i + 1]
            if n == "\\":
                out.append("\\")
            elif n == "n":
                out.append("\n")
            elif n == '"' and quotes:
                out.append('"')
            else:
                raise ExpositionError("invalid escape \\%s in %r" % (n, s))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _float(tok, line):
    if not FLOAT_RE.match(tok):
        raise ExpositionError("not a float value %r in line %r" % (tok, line))
    if tok.lstrip("+-").lower() == "inf":
        return -math.inf if tok.startswith("-") else math.inf
    return float(tok)


class Exposition:
    """The parsed scrape: families {name: {"type", "help", "samples": [(name, labels, value)]}}."""

    def __init__(self, text):
        self.text = text
        self.families = {}
        self.samples = {}  # (sample name, frozenset(labels.items())) -> value
        self._parse(text)

    def _family_of(self, name):
        """The TYPE'd family a sample name belongs to, or None."""
        f = self.families.get(name)
        if f and f["type"] in ("counter", "gauge", "untyped", "summary"):
            return name, ""
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix):
                base = name[:-len(suffix)]
                fb = self.families.get(base)
                if fb and fb["type"] == "histogram":
                    return base, suffix
                if fb and fb["type"] == "summary" and suffix != "_bucket":
                    return base, suffix
        if f and f["type"] == "histogram":
            raise ExpositionError("histogram %s has a bare sample" % name)
        return None

    def _parse(self, text):
        if text and not text.endswith("\n"):
            raise ExpositionError("the exposition must end with a newline")
        done = set()      # families whose group of lines has ended
        current = None    # the family the last line belonged to
        for lineno, line in enumerate(text.split("\n")[:-1], 1):
            where = "line %d %r" % (lineno, line)
            if line.strip() == "":
                continue
            if "\r" in line:
                raise ExpositionError("carriage return in %s" % where)
            if line.startswith("#"):
                m = HELP_RE.match(line)
                if line.split()[1:2] == ["HELP"]:
                    if not m:
                        raise ExpositionError("malformed HELP: %s" % where)
                    name = m.group(1)
                    fam = self._open(name, done, current, where)
                    if fam.get("help") is not None:
                        raise ExpositionError("second HELP for %s: %s" % (name, where))
                    fam["help"] = _unescape(m.group(2) or "", quotes=False)
                    current = name
                    continue
                if line.split()[1:2] == ["TYPE"]:
                    m = TYPE_RE.match(line)
                    if not m:
                        raise ExpositionError("malformed TYPE: %s" % where)
                    name, typ = m.group(1), m.group(2)
                    if typ not in TYPES:
                        raise ExpositionError("unknown type %r: %s" % (typ, where))
                    fam = self._open(name, done, current, where)
                    if fam.get("type") is not None:
                        raise ExpositionError("second TYPE for %s: %s" % (name, where))
                    if fam["samples"]:
                        raise ExpositionError("TYPE after samples of %s: %s" % (name, where))
                    fam["type"] = typ
                    current = name
                    continue
                continue  # any other comment
            name, labels, value = self._sample(line, where)
            fam_of = self._family_of(name)
            if fam_of is None:
                raise ExpositionError("sample without a TYPE line: %s" % where)
            base, suffix = fam_of
            if base != current:
                if base in done or base in self.families and self.families[base]["samples"]:
                    raise ExpositionError("lines of %s are not grouped together: %s"
                                          % (base, where))
                if current is not None:
                    done.add(current)
                current = base
            fam = self.families[base]
            key = (name, frozenset(labels.items()))
            if key in self.samples:
                raise ExpositionError("duplicate series: %s" % where)
            self.samples[key] = value
            fam["samples"].append((name, labels, value))
            typ = fam["type"]
            if typ == "histogram" and suffix == "_bucket" and "le" not in labels:
                raise ExpositionError("bucket without le: %s" % where)
            if typ == "summary" and suffix == "" and "quantile" not in labels:
                raise ExpositionError("summary sample without quantile: %s" % where)
            if typ == "counter" and (math.isnan(value) or value < 0):
                raise ExpositionError("counter with a negative or NaN value: %s" % where)
        for name, fam in self.families.items():
            if fam.get("type") is None:
                raise ExpositionError("family %s has a HELP but no TYPE" % name)
            if fam["type"] == "histogram":
                self._check_histogram(name, fam)

    def _open(self, name, done, current, where):
        if name in done or (name != current and name in self.families
                            and self.families[name]["samples"]):
            raise ExpositionError("metadata for %s after its samples ended: %s" % (name, where))
        if current is not None and current != name:
            done.add(current)
        return self.families.setdefault(name, {"type": None, "help": None, "samples": []})

    @staticmethod
    def _sample(line, where):
        m = SAMPLE_HEAD_RE.match(line)
        if not m:
            raise ExpositionError("bad metric name: %s" % where)
        name = m.group(1)
        rest = line[m.end():]
        labels = {}
        if rest.startswith("{"):
            i = 1
            first = True
            while True:
                while i < len(rest) and rest[i] in " \t":
                    i += 1
                if i < len(rest) and rest[i] == "}":
                    i += 1
                    break
                if not first:
                    if i >= len(rest) or rest[i] != ",":
                        raise ExpositionError("expected ',' or '}' in labels: %s" % where)
                    i += 1
                    while i < len(rest) and rest[i] in " \t":
                        i += 1
                    if i < len(rest) and rest[i] == "}":  # trailing comma
                        i += 1
                        break
                lm = LABEL_RE.match(rest, i)
                if not lm:
                    raise ExpositionError("malformed label at column %d: %s"
                                          % (len(name) + i, where))
                lname = lm.group(1)
                if lname.startswith("__"):
                    raise ExpositionError("reserved label name %s: %s" % (lname, where))
                if lname in labels:
                    raise ExpositionError("label %s twice: %s" % (lname, where))
                labels[lname] = _unescape(lm.group(2), quotes=True)
                i = lm.end()
                first = False
            rest = rest[i:]
        if not rest or rest[0] not in " \t":
            raise ExpositionError("no blank before the value: %s" % where)
        toks = rest.split()
        if len(toks) not in (1, 2):
            raise ExpositionError("expected value [timestamp]: %s" % where)
        value = _float(toks[0], where)
        if len(toks) == 2 and not TIMESTAMP_RE.match(toks[1]):
            raise ExpositionError("bad timestamp: %s" % where)
        return name, labels, value

    @staticmethod
    def _check_histogram(name, fam):
        groups = {}
        for sname, labels, value in fam["samples"]:
            rest = frozenset((k, v) for k, v in labels.items() if k != "le")
            groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            g = groups[rest]
            if sname == name + "_bucket":
                le = labels["le"]
                bound = _float(le, "le=%r of %s" % (le, name))
                g["buckets"].append((bound, value))
            elif sname == name + "_sum":
                g["sum"] = value
            elif sname == name + "_count":
                g["count"] = value
        for rest, g in groups.items():
            b = sorted(g["buckets"])
            if not b or b[-1][0] != math.inf:
                raise ExpositionError("histogram %s%s lacks le=\"+Inf\"" % (name, dict(rest)))
            if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
                raise ExpositionError("histogram %s%s buckets are not cumulative"
                                      % (name, dict(rest)))
            if g["count"] is None or g["sum"] is None:
                raise ExpositionError("histogram %s%s lacks _sum or _count" % (name, dict(rest)))
            if g["count"] != b[-1][1]:
                raise ExpositionError("histogram %s%s: _count != +Inf bucket" % (name, dict(rest)))

    # ---- reading values -----------------------------------------------------------------------
    def value(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name):
        """[(labels, value)] of one sample name."""
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == name]


# ---- the parser, on its own ----------------------------------------------------------------------

class ParserSelfTest(unittest.TestCase):
    GOOD = ('# HELP a_total A \\\\ counter\\nwith two lines.\n'
            '# TYPE a_total counter\n'
            'a_total{route="x",status="200"} 3\n'
            'a_total{route="y \\"q\\" \\\\ \\n",status="404",} 1.5e3\n'
            '# some comment\n'
            '\n'
            '# TYPE g gauge\n'
            'g -0.5 1700000000000\n'
            '# TYPE h histogram\n'
            'h_bucket{le="0.1"} 1\n'
            'h_bucket{le="+Inf"} 2\n'
            'h_sum 0.3\n'
            'h_count 2\n'
            '# TYPE s summary\n'
            's{quantile="0.5"} NaN\n'
            's_sum 0\n'
            's_count 0\n')

    def test_good(self):
        e = Exposition(self.GOOD)
        self.assertEqual(e.value("a_total", route="x", status="200"), 3)
        self.assertEqual(e.value("a_total", route='y "q" \\ \n', status="404"), 1500)
        self.assertEqual(e.families["a_total"]["help"], "A \\ counter\nwith two lines.")
        self.assertEqual(e.value("g"), -0.5)
        self.assertEqual(e.value("h_count"), 2)

    def test_bad(self):
        bad = [
            "a 1",                                          # no trailing newline
            "a 1\n",                                        # no TYPE
            "# TYPE a counter\na 1\n",                      # fine as a format...
            "# TYPE 1a gauge\n1a 1\n",                      # bad name
            "# TYPE a gauge\na{b=\"c} 1\n",                 # unterminated value
            "# TYPE a gauge\na{b=\"\\x\"} 1\n",             # bad escape
            "# TYPE a gauge\na{b=\"1\",b=\"2\"} 1\n",       # label twice
            "# TYPE a gauge\na{__b=\"1\"} 1\n",             # reserved label
            "# TYPE a gauge\na one\n",                      # bad value
            "# TYPE a gauge\na 1 2 3\n",                    # too many tokens
            "# TYPE a gauge\na 1\na 2\n",                   # duplicate series
            "# TYPE a gauge\n# TYPE a gauge\na 1\n",        # TYPE twice
            "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 1\n",  # not grouped
            "# TYPE a frobnicator\na 1\n",                  # unknown type
            "# TYPE a gauge\na{b=\"1\" c=\"2\"} 1\n",       # missing comma
            "# TYPE a gauge\na{b=\"1\"}1\n",                # no blank before value
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  # no +Inf
            "# TYPE a counter\na -1\n",                     # negative counter
            "# HELP a x\na 1\n",                            # HELP without TYPE
        ]
        for text in bad:
            if text == "# TYPE a counter\na 1\n":
                Exposition(text)  # parses; the _total rule is checked separately
                continue
            with self.assertRaises(ExpositionError, msg=repr(text)):
                Exposition(text)


# ---- the server's /metrics -----------------------------------------------------------------------

class PromAsserts:
    def scrape(self):
        r = self.s.get("/metrics", key=None)
        self.assertStatus(r, 200)
        self.assertIsInstance(r.body, str)
        try:
            return Exposition(r.body)
        except ExpositionError as e:
            self.fail("GET /metrics is not valid text format 0.0.4: %s\n--- scrape ---\n%s"
                      % (e, r.body[:6000]))

    def counter(self, exp, name, **labels):
        v = exp.value(name, **labels)
        return 0 if v is None else v

    def scrape_until(self, pred, timeout=3.0):
        """Re-scrapes until pred(exposition) holds (counters may lag a request); returns the
        last scrape."""
        deadline = time.monotonic() + timeout
        while True:
            e = self.scrape()
            if pred(e) or time.monotonic() > deadline:
                return e
            time.sleep(0.1)

    def settle(self):
        """The scrape once every click answered so far is written (clicks are written in batches:
        kith_clicks_buffered counts those still waiting), so click counters are final."""
        self.s.settle_clicks()
        return self.scrape()


class PrometheusTest(PromAsserts, KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.program = s.make_program()
        cls.pid = cls.program["id"]
        cls.jane = s.make_participant(cls.pid, "Jane")

    def drive_traffic(self):
        s = self.s
        s.get("/healthz", key=None)
        s.get("/v1/participants/par_doesnotexist")
        s.get("/v1/programs", key=None)
        s.post("/v1/programs", {"name": 5})
        s.click(self.jane["code"], query="?ch=email")
        s.click(self.jane["code"], ua=BOT_UAS["google"])
        s.click("NOPE-0000")
        s.request("HEAD", "/r/" + self.jane["code"], key=None)
        s.get("/v1/metrics?program=" + self.pid)

    def test_content_type_and_public(self):
        r = self.s.get("/metrics", key=None)
        self.assertStatus(r, 200)
        ctype = r.headers.get("content-type", "")
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        params = {p.strip().split("=", 1)[0]: p.strip().split("=", 1)[-1]
                  for p in ctype.split(";")[1:]}
        self.assertEqual(params.get("version"), "0.0.4", ctype)

    def test_every_line_parses(self):
        self.drive_traffic()
        e = self.scrape()
        self.assertTrue(e.families, "no metric families at all")
        for name, fam in e.families.items():
            self.assertIsNotNone(fam["type"], name)
            if fam["type"] == "counter":
                self.assertTrue(name.endswith("_total"), "counter %s does not end in _total" % name)
            self.assertFalse(name.endswith("_total") and fam["type"] != "counter",
                             "%s ends in _total but is a %s" % (name, fam["type"]))
        for name in ("kith_http_responses_total", "kith_clicks_recorded_total",
                     "kith_clicks_lost_total", "kith_bot_visits_total", "kith_store_errors_total"):
            self.assertIn(name, e.families)
            self.assertEqual(e.families[name]["type"], "counter", name)
        for name in ("kith_store_queue_depth", "kith_link_cache_entries"):
            self.assertIn(name, e.families)
            self.assertEqual(e.families[name]["type"], "gauge", name)
            self.assertGreaterEqual(e.value(name), 0, name)
        for labels, _ in e.series("kith_http_responses_total"):
            self.assertEqual(set(labels), {"route", "status"}, labels)
            self.assertRegex(labels["status"], r"^[1-5][0-9][0-9]$", labels)
            self.assertTrue(labels["route"], labels)
        self.assertEqual(e.value("kith_clicks_lost_total"), 0)
        self.assertEqual(e.value("kith_store_errors_total"), 0)

    def test_counters_never_go_down(self):
        a = self.scrape()
        self.drive_traffic()
        b = self.scrape()
        for (name, labels), v in a.samples.items():
            fam = a.families.get(name)
            if fam and fam["type"] == "counter":
                self.assertGreaterEqual(b.samples.get((name, labels), 0), v,
                                        "%s%s went down" % (name, dict(labels)))

    def test_http_responses_total_counts_each_response(self):
        s = self.s
        before = self.scrape()
        code = self.jane["code"]
        for _ in range(3):
            self.assertStatus(s.get("/v1/participants/par_doesnotexist"), 404)
        for _ in range(2):
            self.assertStatus(s.post("/v1/programs", s.program_body()), 201)
        for _ in range(5):
            self.assertStatus(s.click(code), 302)
        self.assertStatus(s.get("/v1/participants/" + self.jane["id"]), 200)
        for _ in range(4):
            self.assertStatus(s.get("/v1/participants/" + self.jane["id"], key="sk_bogus"), 401)

        def deltas(e):
            out = {}
            for labels, v in e.series("kith_http_responses_total"):
                d = v - self.counter(before, "kith_http_responses_total", **labels)
                if d:
                    out[(labels["route"], labels["status"])] = d
            return out

        def by_status(d, status):
            return {k: v for k, v in d.items() if k[1] == status}

        want = {"404": [3], "201": [2], "302": [5], "401": [4]}
        after = self.scrape_until(
            lambda e: all(sorted(by_status(deltas(e), st).values()) == w
                          for st, w in want.items()))
        d = deltas(after)
        for status, w in want.items():
            self.assertEqual(sorted(by_status(d, status).values()), w,
                             "status %s deltas; all deltas: %r" % (status, d))
        # 200s: the participant read, and perhaps the first scrape itself
        ok = by_status(d, "200")
        self.assertIn(sum(ok.values()), (1, 2), "200 deltas: %r" % d)
        expected_keys = {k for st in want for k in by_status(d, st)} | set(ok)
        self.assertEqual(set(d) - expected_keys, set(), "unexpected series moved: %r" % d)
        # one route for a participant read, whatever its status
        route_404 = list(by_status(d, "404"))[0][0]
        route_401 = list(by_status(d, "401"))[0][0]
        self.assertEqual(route_404, route_401, d)
        self.assertIn((route_404, "200"), d, "the 200 read of a participant: %r" % d)
        self.assertEqual(len({k[0] for st in want for k in by_status(d, st)}), 3,
                         "creating a program, reading a participant and following a link are "
                         "three routes: %r" % d)

    def test_labels_carry_no_paths_or_ids(self):
        s = self.s
        junk = "zz" + secrets.token_hex(6)
        s.get("/v1/" + junk)
        s.get("/" + junk)
        s.get("/v1/participants/par_" + junk)
        s.click(("Q" + junk[:3]).upper() + "-0000")
        s.click(self.jane["code"], query="?ch=" + junk[:10])
        e = self.scrape()
        self.assertNotIn(junk, e.text)
        self.assertNotIn(junk[:10], e.text)
        self.assertNotIn(self.jane["code"], e.text)
        self.assertNotIn(self.jane["id"], e.text)
        self.assertNotIn("127.0.0.1", e.text)

    def test_clicks_recorded_and_bots(self):
        s = self.s
        p = s.make_participant(self.pid, "Kim")
        before = self.settle()
        rec0 = self.counter(before, "kith_clicks_recorded_total")
        bot0 = self.counter(before, "kith_bot_visits_total")
        # 4 people: counted
        for q in ("", "?ch=email", "?ch=sms", ""):
            self.assertStatus(s.click(p["code"], ua=HUMAN_UA, query=q), 302)
        # 2 bots (redirected, not counted), HEAD (not counted), an unknown code (404)
        for ua in BOT_UAS.values():
            r = s.click(p["code"], ua=ua)
            self.assertStatus(r, 302)
            self.assertNotIn("set-cookie", r.headers, "a bot got a cookie: %r" % r)
        r = s.click(p["code"], ua=HUMAN_UA, method="HEAD")
        self.assertStatus(r, 302)
        self.assertStatus(s.click("NOPE-0000"), 404)
        after = self.settle()  # a wrongly counted bot or HEAD visit would be in the count now
        self.assertEqual(self.counter(after, "kith_clicks_recorded_total") - rec0, 4)
        self.assertEqual(self.counter(after, "kith_bot_visits_total") - bot0, 2)
        self.assertEqual(s.participant(p["id"])["stats"]["clicks"], 4)
        self.assertEqual(self.counter(after, "kith_clicks_lost_total"), 0)

    def test_recorded_total_matches_v1_metrics(self):
        s = self.s
        prog = s.make_program()
        ps = [s.make_participant(prog["id"], n) for n in ("Lea", "Max")]
        before = self.settle()
        rec0 = self.counter(before, "kith_clicks_recorded_total")
        for i in range(7):
            s.click(ps[i % 2]["code"], ua=HUMAN_UA, query="?ch=qr")
        s.click(ps[0]["code"], ua=BOT_UAS["facebook"])
        after = self.settle()
        self.assertEqual(self.counter(after, "kith_clicks_recorded_total") - rec0, 7)
        m = s.get("/v1/metrics?program=" + prog["id"])
        self.assertStatus(m, 200)
        self.assertEqual(m.body["clicks"], 7, repr(m))

    def test_well_known_preview_bots(self):
        """Link-preview bots of the big chat and social apps are redirected, not counted."""
        s = self.s
        p = s.make_participant(self.pid, "Noa")
        before = self.settle()
        rec0 = self.counter(before, "kith_clicks_recorded_total")
        bot0 = self.counter(before, "kith_bot_visits_total")
        counted = []
        for name, ua in MORE_BOT_UAS.items():
            r = s.click(p["code"], ua=ua)
            self.assertStatus(r, 302)
            if "set-cookie" in r.headers:
                counted.append(name)
        after = self.settle()
        self.assertEqual(counted, [], "treated as people (got a cookie): %s" % counted)
        self.assertEqual(self.counter(after, "kith_clicks_recorded_total") - rec0, 0)
        self.assertEqual(self.counter(after, "kith_bot_visits_total") - bot0, len(MORE_BOT_UAS))


class PrometheusContractFamiliesTest(PromAsserts, KithTestCase):
    """Contract section 9 names what /metrics exposes: requests, latencies, referrals by
    status, store errors. Metric names are the server's choice; the families must exist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        prog = s.make_program()
        pid = prog["id"]
        jo = s.make_participant(pid, "Jo")
        rs = [s.signup(pid, ref=jo["code"]) for _ in range(3)]
        s.event(pid, rs[0].body["participant"]["external_id"])  # hold 0: rewarded
        s.get("/healthz", key=None)

    def test_latencies(self):
        e = self.scrape()
        fams = [n for n, f in e.families.items() if f["type"] in ("histogram", "summary")]
        self.assertTrue(fams, "no request latency histogram or summary in /metrics; families: %s"
                        % sorted(e.families))

    def test_referrals_by_status(self):
        e = self.scrape()
        fams = [n for n, f in e.families.items() if "referral" in n
                and any("status" in labels for _, labels, _ in f["samples"])]
        self.assertTrue(fams, "no referrals-by-status family in /metrics; families: %s"
                        % sorted(e.families))
        name = fams[0]
        fam = e.families[name]
        vals = {labels["status"]: v for _, labels, v in fam["samples"] if "status" in labels}
        # "referrals by status" may be a gauge (how many are in each status now: kith's
        # kith_referrals, docs/api/README.md) or a counter of transitions; only a gauge's values
        # are fixed by this world
        if fam["type"] == "gauge":
            self.assertEqual(vals.get("pending"), 2, vals)
            self.assertEqual(vals.get("rewarded"), 1, vals)
        else:
            self.assertGreaterEqual(vals.get("pending", 0), 1, vals)

    def test_store_errors(self):
        e = self.scrape()
        self.assertIn("kith_store_errors_total", e.families)
        self.assertEqual(e.value("kith_store_errors_total"), 0)


if __name__ == "__main__":
    kithtest.main()
