"""Moments, asks and preferences (contract section 17), walked rule by rule on the test clock.

Every test builds its own program and people at a fixed point in time (a year of its own, so
no two tests share a clock region), reports moments with POST /v1/moments and checks the
decision and its reason, the asks list and its `answered` state, the messages, the `ask`
notification and the ask.created webhook.

The policy under test is the contract's default unless a test says otherwise:
  enabled, not_before_days 3, min_days_between 14, max_per_30_days 2, stop_after_ignored 3,
  nps_min_score 9, answered_within_days 7.
"""

import datetime as dt
import json
import urllib.parse

import kithtest
from kithtest import KithTestCase, uid, parse_time, fmt_time
from test_webhooks import ALLOW_ENV, Receiver, wait_until

DAY = 86400
DEFAULTS = {"enabled": True, "not_before_days": 3, "min_days_between": 14, "max_per_30_days": 2,
            "stop_after_ignored": 3, "nps_min_score": 9, "answered_within_days": 7}
CHANNELS = ["email", "sms", "whatsapp", "social"]
REASONS = {None, "disabled", "blocked", "opted_out", "low_score", "too_soon", "cooldown",
           "cap_reached", "ignored"}
ASK_KEYS = {"id", "program", "participant", "moment", "type", "asked_at", "answer_by", "answered",
            "answered_at", "created_at"}
PRESSURE = ["hurry", "limited time", "don't miss", "act now", "last chance", "only today"]


def t(year, month=1, day=1, hour=12, minute=0, second=0):
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)


class AskCase(KithTestCase):
    server_kwargs = {"test_clock": True, "env": ALLOW_ENV}

    def at(self, when):
        self.s.clock_set(when)
        return when

    def program(self, **asks):
        policy = dict(asks) if asks else None
        body = {"id": uid("ask")}
        if policy is not None:
            body["asks"] = policy
        return self.s.make_program(**body)["id"]

    def person(self, program, first_name="Jane", **kw):
        return self.s.make_participant(program, first_name=first_name, **kw)

    def moment(self, program, person, type="purchase", status=201, **kw):
        body = {"program": program, "external_id": person["external_id"], "type": type}
        body.update(kw)
        r = self.s.post("/v1/moments", body)
        self.assertStatus(r, status)
        return r.body

    def decide(self, program, person, type="purchase", **kw):
        """The (decision, reason) of one new moment."""
        b = self.moment(program, person, type, **kw)
        self.assertEqual(set(b.keys()), {"moment", "ask"}, repr(b))
        self.assertEqual(set(b["moment"].keys()), {"id", "type", "participant", "occurred_at"})
        self.assertEqual(set(b["ask"].keys()), {"decision", "reason", "id", "messages"})
        a = b["ask"]
        self.assertIn(a["reason"], REASONS)
        if a["decision"] == "ask":
            self.assertIsNone(a["reason"])
            self.assertTrue(a["id"].startswith("ask_"), repr(a))
            self.assertIsInstance(a["messages"], dict)
        else:
            self.assertEqual(a["decision"], "skip")
            self.assertIsNone(a["id"])
            self.assertIsNone(a["messages"])
        return a["decision"], a["reason"]

    def asks(self, program=None, participant=None):
        q = {}
        if program:
            q["program"] = program
        if participant:
            q["participant"] = participant
        items = self.s.list_all("/v1/asks?" + urllib.parse.urlencode(q))
        for a in items:
            self.assertEqual(set(a.keys()), ASK_KEYS, repr(a))
        return items

    def patch_prefs(self, person, **prefs):
        r = self.s.patch("/v1/participants/" + person["id"], {"preferences": prefs})
        self.assertStatus(r, 200)
        return r.body["preferences"]


class SettingsTest(AskCase):
    def test_defaults_are_shown(self):
        self.at(t(2040))
        p = self.s.make_program(id=uid("ask"))
        self.assertEqual(p["asks"], DEFAULTS)
        r = self.s.get("/v1/programs/" + p["id"])
        self.assertEqual(r.body["asks"], DEFAULTS)

    def test_validated(self):
        self.at(t(2040))
        bad = [({"min_days_between": -1}, "asks.min_days_between"),
               ({"nps_min_score": 11}, "asks.nps_min_score"),
               ({"max_per_30_days": 0}, "asks.max_per_30_days"),
               ({"stop_after_ignored": 0}, "asks.stop_after_ignored"),
               ({"answered_within_days": 0}, "asks.answered_within_days"),
               ({"not_before_days": "3"}, "asks.not_before_days"),
               ({"enabled": "yes"}, "asks.enabled"),
               ({"often": 1}, "asks.often")]
        for asks, param in bad:
            r = self.s.post("/v1/programs", self.s.program_body(id=uid("ask"), asks=asks))
            self.assertError(r, 400, "invalid_param", param=param)
        r = self.s.post("/v1/programs", self.s.program_body(id=uid("ask"), asks=[1]))
        self.assertError(r, 400, "invalid_param", param="asks")

    def test_patch_changes_one_field(self):
        self.at(t(2040))
        pid = self.program()
        r = self.s.patch("/v1/programs/" + pid, {"asks": {"min_days_between": 21}})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["asks"], dict(DEFAULTS, min_days_between=21))
        r = self.s.patch("/v1/programs/" + pid, {"asks": {"enabled": False}})
        self.assertEqual(r.body["asks"], dict(DEFAULTS, min_days_between=21, enabled=False))
        r = self.s.patch("/v1/programs/" + pid, {"asks": {"max_per_30_days": 101}})
        self.assertError(r, 400, "invalid_param", param="asks.max_per_30_days")


    def test_a_change_applies_to_the_next_request(self):
        """Regression: on a connection pool the sweeper could cache a program's old settings
        between an update and its commit, so the next request saw the old policy for up to a
        second. Toggled many times, every moment must follow the setting just written."""
        self.at(t(2040, 6))
        pid = self.program(min_days_between=0, max_per_30_days=100, stop_after_ignored=100)
        jane = self.person(pid)
        self.at(t(2040, 7))
        for i in range(60):
            enabled = i % 2 == 0
            r = self.s.patch("/v1/programs/" + pid, {"asks": {"enabled": enabled}})
            self.assertStatus(r, 200)
            want = ("ask", None) if enabled else ("skip", "disabled")
            self.assertEqual(self.decide(pid, jane), want, "round %d" % i)


class MomentInputTest(AskCase):
    def test_refusals(self):
        self.at(t(2041))
        pid = self.program()
        jane = self.person(pid)
        base = {"program": pid, "external_id": jane["external_id"], "type": "purchase"}
        cases = [(dict(base, colour="red"), "colour"),
                 ({k: v for k, v in base.items() if k != "type"}, "type"),
                 (dict(base, type="Trial-End"), "type"),
                 (dict(base, type="nps"), "score"),
                 (dict(base, type="nps", score=11), "score"),
                 (dict(base, type="nps", score=-1), "score"),
                 (dict(base, score=9), "score"),
                 (dict(base, occurred_at="yesterday"), "occurred_at"),
                 ({k: v for k, v in base.items() if k != "external_id"}, "external_id")]
        for body, param in cases:
            self.assertError(self.s.post("/v1/moments", body), 400, "invalid_param", param=param)
        r = self.s.post("/v1/moments", dict(base, external_id="nobody"))
        self.assertError(r, 404, "not_found", param="external_id")
        r = self.s.post("/v1/moments", dict(base, program="no-such-program"))
        self.assertError(r, 404, "not_found")
        self.assertEqual(self.asks(pid), [])

    def test_publishable_key_refused(self):
        r = self.s.post("/v1/moments", {"type": "purchase", "external_id": "x"}, key=None)
        self.assertError(r, 401, "unauthorized")

    def test_custom_types(self):
        self.at(t(2041, 3))
        pid = self.program()
        jane = self.person(pid)
        self.at(t(2041, 3, 10))
        b = self.moment(pid, jane, "class.completed")
        self.assertEqual(b["moment"]["type"], "class.completed")
        self.assertEqual(b["ask"]["decision"], "ask")
        self.assertEqual(b["moment"]["participant"], jane["id"])
        self.assertEqual(b["moment"]["occurred_at"], "2041-03-10T12:00:00Z")
        self.assertTrue(b["moment"]["id"].startswith("mom_"))

    def test_id_dedupes(self):
        self.at(t(2041, 5))
        pid = self.program()
        jane = self.person(pid)
        self.at(t(2041, 5, 10))
        first = self.s.post("/v1/moments", {"program": pid, "external_id": jane["external_id"],
                                            "type": "purchase", "id": "order_1"})
        self.assertStatus(first, 201)
        again = self.s.post("/v1/moments", {"program": pid, "external_id": jane["external_id"],
                                            "type": "purchase", "id": "order_1"})
        self.assertStatus(again, 200)
        self.assertEqual(again.body, first.body)
        self.assertEqual(len(self.asks(pid)), 1)
        # Another id is another moment (in the cooldown of the first ask).
        self.assertEqual(self.decide(pid, jane, id="order_2"), ("skip", "cooldown"))
        # The same id in another program is not the same moment.
        other = self.program()
        sam = self.person(other, "Sam")
        self.at(t(2041, 5, 20))
        self.assertEqual(self.decide(other, sam, id="order_1"), ("ask", None))


class RulesTest(AskCase):
    """One test per rule, with its boundary, and the order between neighbours."""

    def test_disabled_first(self):
        self.at(t(2042, 1))
        pid = self.program(enabled=False)
        jane = self.person(pid)
        self.at(t(2042, 1, 10))
        self.assertEqual(self.decide(pid, jane), ("skip", "disabled"))
        # Before blocked: a blocked person in a program without asks hears "disabled".
        self.s.patch("/v1/participants/" + jane["id"], {"status": "blocked"})
        self.assertEqual(self.decide(pid, jane), ("skip", "disabled"))
        self.s.patch("/v1/programs/" + pid, {"asks": {"enabled": True}})
        self.assertEqual(self.decide(pid, jane), ("skip", "blocked"))
        self.assertEqual(self.asks(pid), [])

    def test_blocked_and_erased(self):
        self.at(t(2042, 2))
        pid = self.program()
        ann, bob = self.person(pid, "Ann"), self.person(pid, "Bob")
        self.at(t(2042, 2, 10))
        self.s.patch("/v1/participants/" + ann["id"], {"status": "blocked"})
        self.patch_prefs(ann, asks="never")
        self.assertEqual(self.decide(pid, ann), ("skip", "blocked"))  # before opted_out
        self.assertStatus(self.s.post("/v1/participants/%s/erase" % bob["id"]), 200)
        self.assertEqual(self.decide(pid, bob), ("skip", "blocked"))

    def test_opted_out(self):
        self.at(t(2042, 3))
        pid = self.program()
        jane = self.person(pid)
        self.at(t(2042, 3, 10))
        self.patch_prefs(jane, asks="never")
        self.assertEqual(self.decide(pid, jane), ("skip", "opted_out"))
        # Before low_score.
        self.assertEqual(self.decide(pid, jane, "nps", score=2), ("skip", "opted_out"))
        self.patch_prefs(jane, asks="normal")
        self.assertEqual(self.decide(pid, jane), ("ask", None))

    def test_low_score(self):
        self.at(t(2042, 4))
        pid = self.program()
        jane, sam = self.person(pid), self.person(pid, "Sam")
        self.at(t(2042, 4, 1, 13))
        # Before too_soon (joined an hour ago).
        self.assertEqual(self.decide(pid, jane, "nps", score=8), ("skip", "low_score"))
        self.at(t(2042, 4, 10))
        self.assertEqual(self.decide(pid, jane, "nps", score=8), ("skip", "low_score"))
        self.assertEqual(self.decide(pid, jane, "nps", score=0), ("skip", "low_score"))
        self.assertEqual(self.decide(pid, jane, "nps", score=9), ("ask", None))
        self.assertEqual(self.decide(pid, sam, "nps", score=10), ("ask", None))
        # The threshold is the program's.
        other = self.program(nps_min_score=6)
        ann = self.person(other, "Ann", external_id=uid("ann"))
        self.at(t(2042, 4, 20))
        self.assertEqual(self.decide(other, ann, "nps", score=6), ("ask", None))

    def test_too_soon(self):
        self.at(t(2042, 5))
        pid = self.program()
        jane = self.person(pid)
        self.at(t(2042, 5, 4, 11, 59, 59))
        self.assertEqual(self.decide(pid, jane), ("skip", "too_soon"))
        # A moment dated exactly three days after joining may ask.
        self.assertEqual(self.decide(pid, jane, occurred_at="2042-05-04T12:00:00Z"), ("ask", None))
        # A moment before joining is too soon.
        sam = self.person(pid, "Sam")
        self.assertEqual(self.decide(pid, sam, occurred_at="2042-05-01T00:00:00Z"),
                         ("skip", "too_soon"))

    def test_cooldown_and_fewer(self):
        self.at(t(2042, 6))
        pid = self.program()
        jane, sam = self.person(pid), self.person(pid, "Sam")
        self.patch_prefs(sam, asks="fewer")
        self.at(t(2042, 6, 5))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        self.assertEqual(self.decide(pid, sam), ("ask", None))
        self.at(t(2042, 6, 19, 11, 59, 59))
        self.assertEqual(self.decide(pid, jane), ("skip", "cooldown"))
        self.at(t(2042, 6, 19))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        # "fewer": twice min_days_between.
        self.assertEqual(self.decide(pid, sam), ("skip", "cooldown"))
        self.at(t(2042, 7, 3, 11, 59, 59))
        self.assertEqual(self.decide(pid, sam), ("skip", "cooldown"))
        self.at(t(2042, 7, 3))
        self.assertEqual(self.decide(pid, sam), ("ask", None))
        self.assertEqual(len(self.asks(pid, jane["id"])), 2)
        self.assertEqual(len(self.asks(pid, sam["id"])), 2)

    def test_cap_reached(self):
        self.at(t(2042, 8))
        pid = self.program(min_days_between=0)
        jane = self.person(pid)
        self.at(t(2042, 8, 5))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        self.at(t(2042, 8, 6))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        self.assertEqual(self.decide(pid, jane), ("skip", "cap_reached"))
        # The first ask leaves the 30-day window exactly 30 days later.
        self.at(t(2042, 9, 4, 11, 59, 59))
        self.assertEqual(self.decide(pid, jane), ("skip", "cap_reached"))
        self.at(t(2042, 9, 4))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        # Cooldown comes before the cap.
        self.s.patch("/v1/programs/" + pid, {"asks": {"min_days_between": 1}})
        self.assertEqual(self.decide(pid, jane), ("skip", "cooldown"))

    def ignored_world(self, year):
        """Two asks nobody answered (stop_after_ignored 2, cooldown 3 days, window 7 days):
        Jan 5 (window until Jan 12) and Jan 13 (until Jan 20)."""
        self.at(t(year, 1))
        pid = self.program(stop_after_ignored=2, min_days_between=3, max_per_30_days=10)
        jane = self.person(pid)
        self.at(t(year, 1, 5))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        self.at(t(year, 1, 13))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        return pid, jane

    def test_ignored(self):
        pid, jane = self.ignored_world(2043)
        # While the second ask's window is open, the two are not both ignored.
        self.at(t(2043, 1, 17))
        self.assertEqual([x["answered"] for x in self.asks(pid, jane["id"])], [False, None])
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        # The third ask's window closes on Jan 24 at noon: from then on the last two are ignored.
        self.at(t(2043, 1, 24, 11, 59, 59))
        self.assertEqual([x["answered"] for x in self.asks(pid, jane["id"])],
                         [False, False, None])
        self.at(t(2043, 1, 24))
        self.assertEqual([x["answered"] for x in self.asks(pid, jane["id"])],
                         [False, False, False])
        self.assertEqual(self.decide(pid, jane), ("skip", "ignored"))
        # Cap and cooldown come first.
        self.s.patch("/v1/programs/" + pid, {"asks": {"max_per_30_days": 3}})
        self.assertEqual(self.decide(pid, jane), ("skip", "cap_reached"))
        self.s.patch("/v1/programs/" + pid, {"asks": {"min_days_between": 8}})
        self.assertEqual(self.decide(pid, jane), ("skip", "cooldown"))

    def test_a_new_click_lifts_ignored(self):
        pid, jane = self.ignored_world(2044)
        self.at(t(2044, 1, 21))
        self.assertEqual(self.decide(pid, jane), ("skip", "ignored"))
        self.s.click_id(jane["code"])
        # The click came after the window: both asks stay ignored, yet the rule is lifted.
        self.assertEqual([x["answered"] for x in self.asks(pid, jane["id"])], [False, False])
        self.assertEqual(self.decide(pid, jane), ("ask", None))

    def test_an_answered_ask_lifts_ignored(self):
        pid, jane = self.ignored_world(2045)
        self.at(t(2045, 1, 21))
        self.assertEqual(self.decide(pid, jane), ("skip", "ignored"))
        # Ask again after a fresh start: answered within its window.
        self.s.click_id(jane["code"])
        self.at(t(2045, 1, 22))
        self.assertEqual(self.decide(pid, jane), ("ask", None))
        self.at(t(2045, 1, 23))
        self.s.click_id(jane["code"])
        self.at(t(2045, 1, 31))
        a = self.asks(pid, jane["id"])
        self.assertEqual([x["answered"] for x in a], [False, False, True])
        self.assertEqual(a[2]["answered_at"], "2045-01-23T12:00:00Z")
        self.assertEqual(self.decide(pid, jane), ("ask", None))


class AnsweredTest(AskCase):
    def test_window(self):
        self.at(t(2046, 1))
        pid = self.program()
        jane, sam, ann = self.person(pid), self.person(pid, "Sam"), self.person(pid, "Ann")
        self.at(t(2046, 1, 10))
        self.s.click_id(sam["code"])  # before the ask: does not answer it
        self.at(t(2046, 1, 10, 13))
        for p in (jane, sam, ann):
            self.assertEqual(self.decide(pid, p), ("ask", None))
        for a in self.asks(pid):
            self.assertIsNone(a["answered"])
            self.assertEqual(a["asked_at"], "2046-01-10T13:00:00Z")
            self.assertEqual(a["answer_by"], "2046-01-17T13:00:00Z")
            self.assertIsNone(a["answered_at"])
        # Jane clicks inside the window (the last second of it), Ann a second too late.
        self.at(t(2046, 1, 17, 12, 59, 59))
        self.s.click_id(jane["code"], query="?ch=sms")
        by = {a["participant"]: a for a in self.asks(pid)}
        self.assertTrue(by[jane["id"]]["answered"])
        self.assertEqual(by[jane["id"]]["answered_at"], "2046-01-17T12:59:59Z")
        self.assertIsNone(by[sam["id"]]["answered"])
        self.at(t(2046, 1, 17, 13))
        self.s.click_id(ann["code"])
        by = {a["participant"]: a for a in self.asks(pid)}
        self.assertTrue(by[jane["id"]]["answered"])
        self.assertFalse(by[sam["id"]]["answered"])
        self.assertFalse(by[ann["id"]]["answered"])
        self.assertIsNone(by[ann["id"]]["answered_at"])
        # Filters.
        self.assertEqual([a["participant"] for a in self.asks(pid, jane["id"])], [jane["id"]])
        self.assertEqual(self.asks(participant="par_nobody"), [])
        self.assertError(self.s.get("/v1/asks?answered=true"), 400, "invalid_param",
                         param="answered")

    def test_moment_reported_late_matches_clicks_already_recorded(self):
        self.at(t(2046, 3))
        pid = self.program()
        jane = self.person(pid)
        self.at(t(2046, 3, 10))
        self.s.click_id(jane["code"])
        self.at(t(2046, 3, 12))
        b = self.moment(pid, jane, occurred_at="2046-03-09T12:00:00Z")
        self.assertEqual(b["ask"]["decision"], "ask")
        a = self.asks(pid)[0]
        self.assertTrue(a["answered"])
        self.assertEqual(a["answered_at"], "2046-03-10T12:00:00Z")


class MessagesTest(AskCase):
    def assertMessages(self, messages, person, contains=None):
        self.assertEqual(set(messages.keys()), set(CHANNELS))
        self.assertEqual(set(messages["email"].keys()), {"subject", "body"})
        for ch in CHANNELS:
            text = messages[ch]["body"] if ch == "email" else messages[ch]
            self.assertIsInstance(text, str)
            self.assertIn("%s?ch=%s" % (person["share_url"], ch), text, ch)
            for other in CHANNELS:
                if other != ch:
                    self.assertNotIn("?ch=" + other, text)
            low = text.lower()
            for word in PRESSURE:
                self.assertNotIn(word, low)
            if contains:
                self.assertIn(contains, text)

    def test_default_templates_per_moment(self):
        self.at(t(2047, 1))
        pid = self.program(min_days_between=0, max_per_30_days=100)
        jane = self.person(pid)
        self.at(t(2047, 1, 10))
        subjects = {}
        for type, extra in [("purchase", {}), ("milestone", {}), ("nps", {"score": 10}),
                            ("review", {}), ("support_resolved", {}), ("anniversary", {})]:
            b = self.moment(pid, jane, type, **extra)
            self.assertEqual(b["ask"]["decision"], "ask", type)
            self.assertMessages(b["ask"]["messages"], jane, "Jane")
            subjects[type] = b["ask"]["messages"]["email"]["subject"]
        self.assertEqual(len(set(subjects.values())), 6, subjects)
        self.assertEqual(subjects["purchase"], "Thank you for your order, Jane")
        self.assertEqual(subjects["anniversary"], "Thank you, Jane")  # the general `ask`

    def test_templates_are_editable(self):
        self.at(t(2047, 2))
        pid = self.program(min_days_between=0, max_per_30_days=100)
        r = self.s.patch("/v1/programs/" + pid, {"templates": {
            "ask": {"subject": "A note for {{first_name}}", "body": "General {{share_url}}"},
            "ask_purchase": {"body": "Bought! {{share_url}} ({{program_name}})"},
            "ask_class.completed": {"subject": "Class done", "body": "Class {{share_url}}"}}})
        self.assertStatus(r, 200)
        jane = self.person(pid)
        self.at(t(2047, 2, 10))
        m = self.moment(pid, jane, "purchase")["ask"]["messages"]
        self.assertEqual(m["email"]["subject"], "Thank you for your order, Jane")  # default kept
        self.assertEqual(m["email"]["body"],
                         "Bought! %s?ch=email (Test Program)" % jane["share_url"])
        self.assertEqual(m["sms"], "Bought! %s?ch=sms (Test Program)" % jane["share_url"])
        m = self.moment(pid, jane, "class.completed")["ask"]["messages"]
        self.assertEqual(m["email"], {"subject": "Class done",
                                      "body": "Class %s?ch=email" % jane["share_url"]})
        m = self.moment(pid, jane, "renewal")["ask"]["messages"]
        self.assertEqual(m["email"], {"subject": "A note for Jane",
                                      "body": "General %s?ch=email" % jane["share_url"]})
        self.assertEqual(m["whatsapp"], "General %s?ch=whatsapp" % jane["share_url"])
        # The shipped moment templates stand although `ask` changed.
        m = self.moment(pid, jane, "review")["ask"]["messages"]
        self.assertEqual(m["email"]["subject"], "Thank you for your review")
        for bad, param in [({"ask_Class": {"body": "x"}}, "templates.ask_Class"),
                           ({"ask_review": {"body": "{{discount}}"}}, "templates.ask_review"),
                           ({"ask_nps": {"title": "x"}}, "templates.ask_nps.title")]:
            r = self.s.patch("/v1/programs/" + pid, {"templates": bad})
            self.assertError(r, 400, "invalid_param", param=param)


class NotifyTest(AskCase):
    def test_notification_and_webhook(self):
        rcv = Receiver()
        try:
            path = rcv.new_path()
            r = self.s.post("/v1/webhook_endpoints", {"url": rcv.url(path),
                                                      "events": ["ask.created",
                                                                 "notification.created"]})
            self.assertStatus(r, 201)
            rcv.secrets[path] = r.body["secret"]
            self.at(t(2048, 1))
            pid = self.program()
            jane = self.person(pid)
            self.at(t(2048, 1, 10))
            b = self.moment(pid, jane, "milestone")
            ask_id = b["ask"]["id"]
            notes = self.s.list_all("/v1/participants/%s/notifications" % jane["id"])
            asks = [n for n in notes if n["stage"] == "ask"]
            self.assertEqual(len(asks), 1, notes)
            self.assertEqual(asks[0]["subject"], "Look how far you have come, Jane")
            self.assertIn(jane["share_url"], asks[0]["body"])
            got = rcv.wait(path, 1, type="ask.created")
            self.assertEqual(len(got), 1)
            self.assertIsNone(got[0].sig_error)
            data = got[0].json["data"]
            self.assertEqual(data["id"], ask_id)
            self.assertEqual(data["participant"], jane["id"])
            self.assertEqual(data["type"], "milestone")
            self.assertIsNone(data["answered"])
            self.assertTrue(rcv.wait(path, 1, type="notification.created"))
            # A skip notifies nobody and emits nothing.
            self.assertEqual(self.decide(pid, jane), ("skip", "cooldown"))
            notes = self.s.list_all("/v1/participants/%s/notifications" % jane["id"])
            self.assertEqual(len([n for n in notes if n["stage"] == "ask"]), 1)
            self.assertEqual(len(rcv.got(path, type="ask.created")), 1)
        finally:
            rcv.close()


class PreferencesTest(AskCase):
    def test_defaults_and_patch(self):
        self.at(t(2049, 1))
        pid = self.program()
        jane = self.person(pid)
        self.assertEqual(jane["preferences"],
                         {"asks": "normal", "digest": True, "spotlight_opt_in": False})
        self.assertEqual(self.s.participant(jane["id"])["preferences"], jane["preferences"])
        self.assertEqual(self.patch_prefs(jane, asks="fewer"),
                         {"asks": "fewer", "digest": True, "spotlight_opt_in": False})
        self.assertEqual(self.patch_prefs(jane, digest=False, spotlight_opt_in=True),
                         {"asks": "fewer", "digest": False, "spotlight_opt_in": True})
        r = self.s.patch("/v1/participants/" + jane["id"], {"first_name": "Janet"})
        self.assertEqual(r.body["preferences"]["asks"], "fewer")
        listed = self.s.list_all("/v1/participants?program=" + pid)
        self.assertEqual(listed[0]["preferences"]["spotlight_opt_in"], True)
        for body, param in [({"preferences": {"asks": "sometimes"}}, "preferences.asks"),
                            ({"preferences": {"asks": 1}}, "preferences.asks"),
                            ({"preferences": {"digest": "no"}}, "preferences.digest"),
                            ({"preferences": {"spotlight_opt_in": 1}},
                             "preferences.spotlight_opt_in"),
                            ({"preferences": {"sms": True}}, "preferences.sms"),
                            ({"preferences": "never"}, "preferences")]:
            r = self.s.patch("/v1/participants/" + jane["id"], body)
            self.assertError(r, 400, "invalid_param", param=param)
        self.assertEqual(self.s.participant(jane["id"])["preferences"]["asks"], "fewer")

    def test_changes_are_recorded_and_exported(self):
        self.at(t(2049, 2))
        pid = self.program()
        jane = self.person(pid)
        self.at(t(2049, 2, 3))
        self.patch_prefs(jane, asks="fewer")
        self.patch_prefs(jane, asks="fewer")  # no change, no record
        self.at(t(2049, 2, 4))
        self.patch_prefs(jane, asks="never")
        self.at(t(2049, 2, 5))
        self.decide(pid, jane)
        ex = self.s.get("/v1/participants/%s/export" % jane["id"]).body
        self.assertEqual(ex["preference_changes"], [
            {"field": "asks", "from_value": "normal", "to_value": "fewer",
             "created_at": "2049-02-03T12:00:00Z"},
            {"field": "asks", "from_value": "fewer", "to_value": "never",
             "created_at": "2049-02-04T12:00:00Z"}])
        self.assertEqual(ex["participant"]["preferences"]["asks"], "never")
        self.assertEqual(len(ex["moments"]), 1)
        self.assertEqual(ex["moments"][0]["reason"], "opted_out")
        self.assertEqual(ex["moments"][0]["occurred_at"], "2049-02-05T12:00:00Z")
        self.assertEqual(ex["asks"], [])

    def test_export_and_erasure(self):
        self.at(t(2049, 3))
        pid = self.program()
        jane = self.person(pid, email="jane@example.com")
        self.at(t(2049, 3, 10))
        b = self.moment(pid, jane, id="evt-9")
        ex = self.s.get("/v1/participants/%s/export" % jane["id"]).body
        self.assertEqual([a["id"] for a in ex["asks"]], [b["ask"]["id"]])
        self.assertEqual(ex["moments"][0]["id"], b["moment"]["id"])
        self.assertEqual(ex["moments"][0]["decision"], "ask")
        r = self.s.post("/v1/participants/%s/erase" % jane["id"])
        self.assertStatus(r, 200)
        self.assertError(self.s.patch("/v1/participants/" + jane["id"],
                                      {"preferences": {"asks": "normal"}}), 409, "invalid_state")
        # The ledger of asks stays, pseudonymous; the person is never asked again.
        self.assertEqual(len(self.asks(pid)), 1)
        self.at(t(2049, 5))
        self.assertEqual(self.decide(pid, jane), ("skip", "blocked"))
        notes = self.s.list_all("/v1/participants/%s/notifications" % jane["id"])
        for n in notes:
            self.assertIsNone(n["body"])


class WellnessCoachExample(AskCase):
    """docs/examples/wellness-coach.md ("Asks at natural moments"), replayed: its tables must stay true. The program
    is the coach's of docs/examples/wellness-coach.md (its tracks and activities count only
    where this build has them, sections 15 and 16), with the ask policy and rituals below."""

    ASKS = {"enabled": True, "not_before_days": 14, "min_days_between": 21, "max_per_30_days": 1,
            "stop_after_ignored": 2, "nps_min_score": 9, "answered_within_days": 10}
    RITUALS = {"rotation_periods": 3, "auto_draft": True, "digest": True,
               "spotlight_reward": {"kind": "experience",
                                    "description": "A walk-and-talk session with your coach"}}
    TRACKS = [
        {"id": "connector", "name": "Connector", "counts": "qualified_referrals",
         "downgrade_grace_days": 60, "levels": [
             {"id": "friend", "name": "Friend of the Circle", "at": 1, "grants": [
                 {"kind": "recognition", "description": "A handwritten thank-you from your coach"}]},
             {"id": "advocate", "name": "Circle Advocate", "at": 3, "grants": [
                 {"kind": "access", "description": "Early access to new workshops and retreats"}]},
             {"id": "guide", "name": "Community Guide", "at": 6, "approval": "owner", "grants": [
                 {"kind": "role", "role": "community_guide",
                  "description": "Welcome new members at the monthly circle"}]}]},
        {"id": "storyteller", "name": "Storyteller", "counts": "activity:testimonial",
         "window_days": 180, "downgrade_grace_days": 30, "levels": [
             {"id": "voice", "name": "Voice of the Circle", "at": 1, "grants": [
                 {"kind": "recognition",
                  "description": "Your story in our community letter, with your permission"}]},
             {"id": "storykeeper", "name": "Storykeeper", "at": 3, "grants": [
                 {"kind": "role", "role": "story_circle_host",
                  "description": "Host the seasonal story circle"}]}]},
        {"id": "host", "name": "Host", "counts": "activity:event_hosted", "window_days": 90,
         "downgrade_grace_days": 30, "levels": [
             {"id": "host", "name": "Circle Host", "at": 1, "grants": [
                 {"kind": "role", "role": "circle_host",
                  "description": "Host community walks and circles"}]},
             {"id": "steward", "name": "Community Steward", "at": 4, "approval": "owner",
              "grants": [{"kind": "role", "role": "community_steward",
                          "description": "Help shape the community calendar"}]}]}]

    # (day, who, moment, extra, decision, reason); every moment at 18:00 UTC.
    TABLE = [("01-06", "Jane", "purchase", {}, "skip", "too_soon"),
             ("01-08", "Priya", "purchase", {}, "skip", "too_soon"),
             ("01-18", "Jane", "milestone", {}, "ask", None),
             ("01-20", "Jane", "review", {}, "skip", "cooldown"),
             ("01-20", "Sam", "milestone", {}, "ask", None),
             ("01-25", "Priya", "nps", {"score": 8}, "skip", "low_score"),
             ("02-08", "Priya", "milestone", {}, "ask", None),
             ("02-10", "Jane", "milestone", {}, "skip", "cap_reached"),
             ("02-10", "Tom", "purchase", {}, "skip", "too_soon"),
             ("02-19", "Jane", "support_resolved", {}, "ask", None),
             ("02-20", "Sam", "review", {}, "ask", None),
             ("02-24", "Aiko", "nps", {"score": 10}, "skip", "too_soon"),
             ("03-05", "Priya", "purchase", {}, "skip", "cooldown"),
             ("03-10", "Tom", "milestone", {}, "ask", None),
             ("03-12", "Lee", "purchase", {}, "skip", "opted_out"),
             ("03-20", "Jane", "nps", {"score": 10}, "skip", "cap_reached"),
             ("03-25", "Sam", "purchase", {}, "skip", "ignored"),
             ("03-25", "Jane", "milestone", {}, "ask", None),
             ("03-28", "Sam", "milestone", {}, "ask", None),
             ("03-28", "Aiko", "milestone", {}, "ask", None)]

    def test_three_months(self):
        s = self.s
        self.at("2027-01-02T09:00:00Z")
        r = s.post("/v1/programs", {
            "id": "wellness", "name": "Wellness Circle",
            "destination_url": "https://coach.example.com/welcome",
            "qualification": {"event": "purchase", "min_amount": 0, "hold_days": 14,
                              "within_days": 90},
            "rewards": [{"to": "referrer", "kind": "experience",
                         "description": "A complimentary one-to-one check-in session"},
                        {"to": "referred", "kind": "experience",
                         "description": "Your first community circle, on us"}],
            "average_customer_value": 120000, "currency": "USD",
            "asks": self.ASKS, "rituals": self.RITUALS, "public_page": True})
        self.assertStatus(r, 201)
        self.tracks = s.patch("/v1/programs/wellness", {"tracks": self.TRACKS}).status == 200
        self.who = {}
        self.at("2027-01-04T09:00:00Z")
        for name in ("Jane", "Lee", "Sam"):
            self.who[name] = s.make_participant("wellness", first_name=name,
                                                external_id="client_" + name.lower())
        self.patch_prefs(self.who["Jane"], spotlight_opt_in=True)
        self.patch_prefs(self.who["Lee"], asks="never")
        self.digests = {}
        steps = {"01-08": lambda: self.friend("Priya", "01-08"),
                 "01-19": lambda: self.click("Jane", "01-19T07:30:00"),
                 "01-20": lambda: self.activity("testimonial", "story-2027-01", "01-20T17:00:00"),
                 "02-01": lambda: self.first_day("02-01"),
                 "02-03": lambda: self.friend("Tom", "02-03"),
                 "02-09": lambda: self.patch_prefs(self.who["Priya"], asks="fewer"),
                 "02-10": lambda: self.activity("event_hosted", "walk-02-10", "02-10T08:00:00"),
                 "02-14": lambda: self.friend("Aiko", "02-14"),
                 "02-28": lambda: self.at("2027-02-28T12:00:00Z"),  # Aiko's hold ends
                 "03-01": lambda: self.first_day("03-01"),
                 "03-03": lambda: self.activity("event_hosted", "walk-03-03", "03-03T08:00:00"),
                 "03-10": lambda: self.activity("event_hosted", "walk-03-10", "03-10T08:00:00"),
                 "03-24": lambda: self.activity("event_hosted", "walk-03-24", "03-24T08:00:00"),
                 "03-25": self.steward,
                 "03-27": lambda: self.click("Sam", "03-27T12:00:00")}
        for day, name, type, extra, decision, reason in self.TABLE:
            for d in sorted(steps):
                if d <= day:
                    steps.pop(d)()
            self.at("2027-%sT18:00:00Z" % day)
            self.assertEqual(self.decide("wellness", self.who[name], type, **extra),
                             (decision, reason), "%s %s %s" % (day, name, type))
        answered = [(a["asked_at"][5:10], a["answered"]) for a in self.asks("wellness")]
        self.assertEqual(answered, [("01-18", True), ("01-20", False), ("02-08", False),
                                    ("02-19", False), ("02-20", False), ("03-10", False),
                                    ("03-25", None), ("03-28", None), ("03-28", None)])
        self.first_day("04-01")
        jan, feb, mar = self.digests["02-01"], self.digests["03-01"], self.digests["04-01"]
        self.assertEqual(sorted(jan), ["Jane"])
        self.assertEqual(sorted(feb), ["Jane"])
        self.assertEqual(sorted(mar), ["Jane", "Sam"] if self.tracks else ["Sam"])
        self.assertIn("January 2027: Your link was opened 1 time. 1 friend joined through you. "
                      "1 friend you invited is now fully on board.", jan["Jane"])
        self.assertIn("February 2027: 2 friends joined through you. 2 friends you invited are "
                      "now fully on board.", feb["Jane"])
        self.assertIn("March 2027: Your link was opened 1 time.", mar["Sam"])
        if self.tracks:
            self.assertIn("You reached 2 new levels. So far 1 friend has come through you. On "
                          "Connector you are Friend of the Circle, 2 away from Circle Advocate. "
                          "On Storyteller you are Voice of the Circle, 2 away from "
                          "Storykeeper.", jan["Jane"])
            self.assertIn("You reached 2 new levels. So far 3 friends have come through you. On "
                          "Connector you are Circle Advocate, 3 away from Community Guide. On "
                          "Storyteller you are Voice of the Circle, 2 away from Storykeeper. On "
                          "Host you are Circle Host, 3 away from Community Steward.", feb["Jane"])
            self.assertIn("March 2027: You reached 1 new level. So far 3 friends have come "
                          "through you. On Connector you are Circle Advocate, 3 away from "
                          "Community Guide. On Storyteller you are Voice of the Circle, 2 away "
                          "from Storykeeper. On Host you are Community Steward.", mar["Jane"])
        self.assertTrue(mar["Sam"].split("\n\n")[2].endswith("opened 1 time."), mar["Sam"])
        spots = s.list_all("/v1/spotlights?program=wellness")
        self.assertEqual([(x["period"], x["status"]) for x in spots],
                         [("2027-01", "published"), ("2027-02", "draft"), ("2027-03", "draft")])
        self.assertEqual(spots[1]["candidates"],
                         {"most_qualified": [], "rising": [], "storyteller": []})
        gifts = [x for x in s.rewards(participant=self.who["Jane"]["id"])
                 if x["source"] == {"spotlight": spots[0]["id"]}]
        self.assertEqual(len(gifts), 1)
        page = s.get("/v1/public/programs/wellness", key=None).body
        self.assertEqual(page["spotlight"]["winners"][0]["first_name"], "Jane")
        self.assertEqual(page["totals"]["qualified_referrals"], 3)

    def friend(self, name, day):
        self.at("2027-%sT10:00:00Z" % day)
        r = self.s.signup("wellness", external_id="client_" + name.lower(), first_name=name,
                          code=self.who["Jane"]["code"])
        self.assertStatus(r, 201)
        self.who[name] = r.body["participant"]
        self.assertStatus(self.s.event("wellness", "client_" + name.lower()), 201)

    def steward(self):
        """The coach confirms Jane as Community Steward (section 15), where the build has it."""
        self.at("2027-03-25T10:00:00Z")
        self.s.post("/v1/participants/%s/levels/host/approve" % self.who["Jane"]["id"], {})

    def click(self, name, when):
        self.at("2027-%sZ" % when)
        self.s.click_id(self.who[name]["code"])

    def activity(self, type, id, when):
        self.at("2027-%sZ" % when)
        self.s.post("/v1/activities", {"program": "wellness", "external_id": "client_jane",
                                       "type": type, "id": id})

    def first_day(self, day):
        self.at("2027-%sT00:00:00Z" % day)
        got = {}
        for name, p in self.who.items():
            for n in self.s.list_all("/v1/participants/%s/notifications" % p["id"]):
                if n["stage"] == "digest" and n["created_at"].startswith("2027-" + day):
                    got[name] = n["body"]
        self.digests[day] = got
        if day == "02-01":
            spot = self.s.list_all("/v1/spotlights?program=wellness")
            self.assertEqual(len(spot), 1)
            cands = spot[0]["candidates"]
            self.assertEqual([c["first_name"] for c in cands["most_qualified"]], ["Jane"])
            self.assertEqual([c["first_name"] for c in cands["rising"]], ["Jane"])
            category = "storyteller" if cands["storyteller"] else "rising"
            r = self.s.post("/v1/spotlights/%s/publish" % spot[0]["id"], {"winners": [
                {"category": category, "participant": self.who["Jane"]["id"],
                 "note": "Six weeks in, Jane sleeps through the night again, and said so."}]})
            self.assertStatus(r, 200)


if __name__ == "__main__":
    kithtest.main()
