"""Notifications and share messages (contract section 13): who is told at which stage, the
notification.created webhook, e-mail through KITH_SMTP_URL (a local SMTP sink written here),
templates and their variables, template and header injection, and the share endpoint.
"""

import email
import email.policy
import re
import secrets
import socket
import threading

import kithtest
from kithtest import KithTestCase, Server, parse_time, uid
from test_webhooks import ALLOW_ENV, Barrier, Receiver, wait_until

STAGES = {"referral_created", "referral_qualified", "referral_rewarded", "reward_issued"}
NOTIFICATION_KEYS = ["id", "program", "participant", "stage", "referral", "reward", "subject", "body",
                     "status", "created_at", "sent_at"]
PRESSURE = ["hurry", "limited time", "don't miss", "dont miss", "don\u2019t miss", "act now",
            "last chance"]
CHANNELS = ["email", "sms", "whatsapp", "social"]
VARS = ["first_name", "code", "share_url", "friend_first_name", "reward", "program_name"]
HOLD_DAYS = 7


class SmtpSink:
    """A minimal SMTP server: 220, EHLO/HELO 250, MAIL 250, RCPT 250, DATA 354, "." 250, QUIT 221.
    Records every transaction: (mail_from, [rcpt], raw message bytes) plus the raw command lines."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.commands = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(30)
        f = c.makefile("rb")

        def send(line):
            c.sendall(line.encode() + b"\r\n")
        try:
            send("220 sink.local ESMTP kithtest")
            mail_from, rcpts = None, []
            while True:
                line = f.readline()
                if not line:
                    return
                with self.lock:
                    self.commands.append(line)
                cmd = line.strip().decode("latin-1")
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    c.sendall(b"250-sink.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                elif verb == "HELO":
                    send("250 sink.local")
                elif verb == "MAIL":
                    mail_from, rcpts = cmd, []
                    send("250 OK")
                elif verb == "RCPT":
                    rcpts.append(cmd)
                    send("250 OK")
                elif verb == "DATA":
                    send("354 go ahead")
                    data = []
                    while True:
                        l = f.readline()
                        if not l or l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b".."):
                            l = l[1:]
                        data.append(l)
                    with self.lock:
                        self.messages.append((mail_from, rcpts, b"".join(data)))
                    send("250 OK queued")
                    mail_from, rcpts = None, []
                elif verb in ("RSET", "NOOP"):
                    send("250 OK")
                elif verb == "QUIT":
                    send("221 bye")
                    return
                else:
                    send("502 not implemented")
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def mails(self):
        with self.lock:
            msgs = list(self.messages)
        out = []
        for mail_from, rcpts, raw in msgs:
            m = email.message_from_bytes(raw, policy=email.policy.default)
            out.append({"from_cmd": mail_from, "rcpt": rcpts, "raw": raw, "msg": m})
        return out

    def to(self, addr):
        return [m for m in self.mails() if any(addr.lower() in r.lower() for r in m["rcpt"])]

    def close(self):
        self.closed = True
        self.sock.close()


def mail_text(m):
    part = m.get_body(preferencelist=("plain",)) or m
    return part.get_content().replace("\r\n", "\n")


class NotifyCase(KithTestCase):
    def notes(self, pid, server=None):
        s = server or self.s
        r = s.get("/v1/participants/%s/notifications" % pid)
        items = self.assertList(r)
        for n in items:
            self.assertKeys(n, NOTIFICATION_KEYS, "notification")
            self.assertIn(n["stage"], STAGES, repr(n))
            self.assertEqual(n["participant"], pid)
            self.assertTime(n["created_at"])
        return items

    def stages(self, pid, server=None):
        return sorted(n["stage"] for n in self.notes(pid, server))

    def program(self, **kw):
        return self.s.make_program(**kw)

    def pair(self, prog_id, referrer_name="Ann", friend_name="Bob", server=None, **signup):
        s = server or self.s
        a = s.make_participant(prog_id, first_name=referrer_name, email=uid("ann") + "@example.com")
        r = s.signup(prog_id, code=a["code"], first_name=friend_name, email=uid("bob") + "@example.com", **signup)
        self.assertStatus(r, 201)
        return a, r.body["participant"], r.body["referral"]

    def assertWarm(self, text, what):
        low = text.lower()
        for w in PRESSURE:
            self.assertNotIn(w, low, "%s uses pressure (%r): %r" % (what, w, text))


class StagesTest(NotifyCase):
    server_kwargs = {"test_clock": True, "env": ALLOW_ENV}

    @classmethod
    def setUpClass(cls):
        cls.rcv = Receiver()
        super().setUpClass()
        cls.barrier = Barrier(cls.server, cls.rcv)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rcv.close()

    def test_no_hold_created_rewarded_issued(self):
        s = self.s
        prog = self.program()
        a, b, ref = self.pair(prog["id"])
        self.assertEqual(ref["status"], "pending")
        self.assertEqual(self.stages(a["id"]), ["referral_created"])
        self.assertEqual(self.stages(b["id"]), ["referral_created"])
        for n in self.notes(a["id"]) + self.notes(b["id"]):
            self.assertEqual(n["referral"], ref["id"])
            self.assertEqual(n["program"], prog["id"])
            self.assertEqual(n["status"], "kept")
            self.assertIsNone(n["sent_at"])
            self.assertTrue(n["subject"].strip() and n["body"].strip(), repr(n))
            self.assertNotIn("{{", n["subject"] + n["body"])
            self.assertWarm(n["subject"] + "\n" + n["body"], "default notification")
        e = s.event(prog["id"], b["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "rewarded")
        mine = {rw["to"]: rw for rw in e.body["rewards"]}
        # no hold: no "qualified" notification, the reward is there at once
        self.assertEqual(self.stages(a["id"]), ["referral_created", "referral_rewarded"])
        self.assertEqual(self.stages(b["id"]), ["referral_created", "reward_issued"])
        issued = [n for n in self.notes(b["id"]) if n["stage"] == "reward_issued"][0]
        self.assertEqual(issued["reward"], mine["referred"]["id"])
        self.assertEqual(issued["referral"], ref["id"])
        rewarded = [n for n in self.notes(a["id"]) if n["stage"] == "referral_rewarded"][0]
        self.assertEqual(rewarded["referral"], ref["id"])
        # the referrer's rewarded note is about the referral; naming the reward too is optional
        self.assertIn(rewarded["reward"], (None, mine["referrer"]["id"]))
        # more events change nothing
        self.assertStatus(s.event(prog["id"], b["external_id"]), 201)
        self.assertStatus(s.event(prog["id"], b["external_id"], type="refund", amount=100, currency="USD"), 201)
        self.assertEqual(len(self.notes(a["id"])), 2)
        self.assertEqual(len(self.notes(b["id"])), 2)

    def test_hold_qualified_then_rewarded(self):
        s = self.s
        prog = self.program(qualification={"hold_days": HOLD_DAYS})
        a, b, ref = self.pair(prog["id"])
        e = s.event(prog["id"], b["external_id"])
        self.assertStatus(e, 201)
        self.assertEqual(e.body["referral"]["status"], "qualified")
        self.assertEqual(self.stages(a["id"]), ["referral_created", "referral_qualified"])
        self.assertEqual(self.stages(b["id"]), ["referral_created"])
        s.clock_advance(HOLD_DAYS * 86400 + 60)
        self.assertEqual(s.referral(ref["id"])["status"], "rewarded")
        self.assertEqual(self.stages(a["id"]), ["referral_created", "referral_qualified", "referral_rewarded"])
        self.assertEqual(self.stages(b["id"]), ["referral_created", "reward_issued"])
        rw = [x for x in s.rewards(program=prog["id"]) if x["to"] == "referred"][0]
        self.assertEqual([n["reward"] for n in self.notes(b["id"]) if n["stage"] == "reward_issued"], [rw["id"]])

    def test_refund_in_hold_no_reward_notifications(self):
        s = self.s
        prog = self.program(qualification={"hold_days": HOLD_DAYS})
        a, b, ref = self.pair(prog["id"])
        self.assertStatus(s.event(prog["id"], b["external_id"]), 201)
        self.assertStatus(s.event(prog["id"], b["external_id"], type="refund", amount=12000, currency="USD"), 201)
        s.clock_advance(HOLD_DAYS * 86400 + 60)
        self.assertEqual(s.referral(ref["id"])["status"], "pending")
        self.assertNotIn("referral_rewarded", self.stages(a["id"]))
        self.assertNotIn("reward_issued", self.stages(b["id"]))

    def test_review_and_rejected_get_none(self):
        s = self.s
        # every fresh referrer carries new_referrer (score 1)
        rev = self.program(fraud={"review_at": 1, "reject_at": 4})
        a, b, ref = self.pair(rev["id"])
        self.assertEqual(ref["status"], "review", repr(ref))
        self.assertEqual(self.notes(a["id"]), [])
        self.assertEqual(self.notes(b["id"]), [])
        rej = self.program(fraud={"review_at": 1, "reject_at": 1})
        a2, b2, ref2 = self.pair(rej["id"])
        self.assertEqual(ref2["status"], "rejected", repr(ref2))
        self.assertEqual(self.notes(a2["id"]), [])
        self.assertEqual(self.notes(b2["id"]), [])
        # a referral rejected by hand after its purchase is never rewarded nor notified as such
        self.assertStatus(s.event(rej["id"], b2["external_id"]), 201)
        self.assertEqual(self.notes(a2["id"]), [])
        self.assertEqual(self.notes(b2["id"]), [])

    def test_unknown_participant(self):
        self.assertError(self.s.get("/v1/participants/par_nope/notifications"), 404, "not_found")
        self.assertError(self.s.get("/v1/participants/par_nope/share"), 404, "not_found")

    def test_notification_created_webhooks(self):
        s = self.s
        path = self.rcv.new_path()
        r = s.post("/v1/webhook_endpoints", {"url": self.rcv.url(path), "events": ["notification.created"]})
        self.assertStatus(r, 201)
        with self.rcv.lock:
            self.rcv.secrets[path] = r.body["secret"]
        prog = self.program()
        a, b, ref = self.pair(prog["id"])
        self.assertStatus(s.event(prog["id"], b["external_id"]), 201)
        notes = self.notes(a["id"]) + self.notes(b["id"])
        self.assertEqual(len(notes), 4)
        self.assertEqual(len(self.rcv.wait(path, n=4)), 4, repr(self.rcv.got(path)))
        self.barrier.settle()  # a fifth (duplicate or stray) webhook would have arrived by now
        got = self.rcv.got(path)
        for d in got:
            self.assertIsNone(d.sig_error, d.sig_error)
            self.assertEqual(d.type, "notification.created")
        by_id = {}
        for d in got:
            by_id.setdefault(d.json["data"]["id"], []).append(d)
        self.assertEqual(set(by_id), {n["id"] for n in notes}, "one webhook per notification: %r" % got)
        for n in notes:
            self.assertEqual(len({d.msg_id for d in by_id[n["id"]]}), 1)
            data = by_id[n["id"]][0].json["data"]
            for k in ("participant", "stage", "referral", "reward", "subject", "body", "program"):
                self.assertEqual(data.get(k), n[k], "notification.created data.%s" % k)


class TemplatesTest(NotifyCase):
    def test_custom_templates_and_variables(self):
        s = self.s
        prog = self.program(name="Green Grocer")
        tpl = {}
        for name in ("referral_created_referrer", "referral_created_referred",
                     "referral_qualified_referrer", "referral_rewarded_referrer",
                     "reward_issued_referred", "share_email"):
            tpl[name] = {"subject": "S:%s:{{first_name}}" % name,
                         "body": "B:%s|" % name + "|".join("%s=[{{%s}}]" % (v, v) for v in VARS)}
        for name in ("share_sms", "share_whatsapp", "share_social"):
            tpl[name] = {"body": "B:%s|" % name + "|".join("%s=[{{%s}}]" % (v, v) for v in VARS)}
        r = s.patch("/v1/programs/" + prog["id"], {"templates": tpl,
                                                   "qualification": {"hold_days": 3}})
        self.assertStatus(r, 200)
        g = s.get("/v1/programs/" + prog["id"])
        self.assertEqual(g.body["templates"]["referral_rewarded_referrer"], tpl["referral_rewarded_referrer"])
        a, b, ref = self.pair(prog["id"], referrer_name="Ann", friend_name="Bob")
        self.assertStatus(s.event(prog["id"], b["external_id"]), 201)
        s.clock_advance(3 * 86400 + 60)

        def fields(body):
            return dict(re.findall(r"(\w+)=\[([^\]]*)\]", body))
        na = {n["stage"]: n for n in self.notes(a["id"])}
        nb = {n["stage"]: n for n in self.notes(b["id"])}
        self.assertEqual(set(na), {"referral_created", "referral_qualified", "referral_rewarded"})
        self.assertEqual(set(nb), {"referral_created", "reward_issued"})
        for stage, tname in (("referral_created", "referral_created_referrer"),
                             ("referral_qualified", "referral_qualified_referrer"),
                             ("referral_rewarded", "referral_rewarded_referrer")):
            n = na[stage]
            self.assertEqual(n["subject"], "S:%s:Ann" % tname)
            self.assertTrue(n["body"].startswith("B:%s|" % tname), repr(n))
            f = fields(n["body"])
            self.assertEqual(f["first_name"], "Ann")
            self.assertEqual(f["friend_first_name"], "Bob")
            self.assertEqual(f["code"], a["code"])
            self.assertEqual(f["share_url"], a["share_url"])
            self.assertEqual(f["program_name"], "Green Grocer")
        self.assertIn("25", fields(na["referral_rewarded"]["body"])["reward"],
                      "the referrer's 2500 USD credit: %r" % na["referral_rewarded"]["body"])
        for stage, tname in (("referral_created", "referral_created_referred"),
                             ("reward_issued", "reward_issued_referred")):
            n = nb[stage]
            self.assertEqual(n["subject"], "S:%s:Bob" % tname)
            f = fields(n["body"])
            self.assertEqual(f["first_name"], "Bob")
            self.assertEqual(f["friend_first_name"], "Ann")
            self.assertEqual(f["code"], b["code"])
            self.assertEqual(f["share_url"], b["share_url"])
        self.assertIn("first month", fields(nb["reward_issued"]["body"])["reward"].lower(),
                      "the referred's free month: %r" % nb["reward_issued"]["body"])
        # share messages use the share templates, each with its own tracked link
        sh = s.get("/v1/participants/%s/share" % a["id"])
        self.assertStatus(sh, 200)
        self.assertEqual(sh.body["messages"]["email"]["subject"], "S:share_email:Ann")
        for ch in CHANNELS:
            text = sh.body["messages"][ch]["body"] if ch == "email" else sh.body["messages"][ch]
            self.assertTrue(text.startswith("B:share_%s|" % ch), text)
            f = fields(text)
            self.assertEqual(f["first_name"], "Ann")
            self.assertEqual(f["code"], a["code"])
            self.assertEqual(f["program_name"], "Green Grocer")
            self.assertEqual(f["share_url"], "%s?ch=%s" % (a["share_url"], ch),
                             "share_%s: {{share_url}} should be the tracked link" % ch)

    def test_template_validation(self):
        s = self.s
        prog = self.program()
        pid = prog["id"]
        good = {"subject": "Hi {{first_name}}", "body": "Thanks, {{first_name}}"}
        self.assertStatus(s.patch("/v1/programs/" + pid, {"templates": {"referral_created_referrer": good}}), 200)
        bad = [
            {"referral_rewarded_referrer": {"subject": "x", "body": "{{reward}} {{nope}}"}},
            {"referral_rewarded_referrer": {"subject": "{{FIRST_NAME}}", "body": "x"}},
            {"referral_rewarded_referrer": {"subject": "x", "body": "{{ first_name }}{{email}}"}},
            {"referral_rewarded_referrer": {"subject": "x", "body": "{{api_key}}"}},
            {"no_such_template": {"subject": "x", "body": "y"}},
            {"share_sms": {"subject": "x", "body": "{{share_url}}"}},
            {"share_whatsapp": {"subject": "x", "body": "{{share_url}}"}},
            {"share_social": {"subject": "x", "body": "{{share_url}}"}},
            {"referral_created_referrer": {"subject": 5, "body": "x"}},
            {"referral_created_referrer": "just a string"},
            {"referral_created_referrer": {"subject": "x", "body": "y", "footer": "z"}},
        ]
        for t in bad:
            r = s.patch("/v1/programs/" + pid, {"templates": t})
            err = self.assertError(r, 400, "invalid_param")
            self.assertTrue((err["param"] or "").startswith("templates"), repr(r))
        self.assertError(s.post("/v1/programs", s.program_body(templates={"share_sms": {"body": "{{bogus}}"}})),
                         400, "invalid_param")
        # nothing refused was stored
        g = s.get("/v1/programs/" + pid).body["templates"]
        self.assertEqual(g.get("referral_created_referrer"), good)
        self.assertNotIn("referral_rewarded_referrer", g)

    def test_template_injection_stays_literal(self):
        s = self.s
        prog = self.program()
        pid = prog["id"]
        self.assertStatus(s.patch("/v1/programs/" + pid, {"templates": {
            "referral_created_referrer": {"subject": "New: {{friend_first_name}}",
                                          "body": "Hi {{first_name}}, {{friend_first_name}} joined. Link: {{share_url}}"},
            "share_sms": {"body": "From {{first_name}}: {{share_url}}"}}}), 200)
        a = s.make_participant(pid, first_name="{{share_url}}", email=uid("i") + "@example.com")
        r = s.signup(pid, code=a["code"], first_name="{{code}}{{program_name}}")
        self.assertStatus(r, 201)
        n = self.notes(a["id"])
        self.assertEqual(len(n), 1, repr(n))
        self.assertEqual(n[0]["subject"], "New: {{code}}{{program_name}}")
        self.assertEqual(n[0]["body"], "Hi {{share_url}}, {{code}}{{program_name}} joined. Link: %s" % a["share_url"])
        sh = s.get("/v1/participants/%s/share" % a["id"]).body
        self.assertEqual(sh["messages"]["sms"], "From {{share_url}}: %s?ch=sms" % a["share_url"])
        # nested braces built from two values do not form a placeholder either
        a2 = s.make_participant(pid, first_name="{{", email=uid("j") + "@example.com")
        r = s.signup(pid, code=a2["code"], first_name="share_url}}")
        n = self.notes(a2["id"])
        self.assertEqual(n[0]["body"], "Hi {{, share_url}} joined. Link: %s" % a2["share_url"])

    def test_header_and_control_characters(self):
        s = self.s
        prog = self.program()
        pid = prog["id"]
        self.assertStatus(s.patch("/v1/programs/" + pid, {"templates": {
            "referral_created_referrer": {"subject": "{{friend_first_name}} joined",
                                          "body": "Hi {{first_name}}, {{friend_first_name}} joined."}}}), 200)
        a = s.make_participant(pid, first_name="Al\x07\x1b\x7fice", email=uid("k") + "@example.com")
        r = s.signup(pid, code=a["code"], first_name="Bob\r\nBcc: evil@example.org")
        self.assertStatus(r, 201)
        n = self.notes(a["id"])[0]
        self.assertNotIn("\r", n["subject"])
        self.assertNotIn("\n", n["subject"])
        self.assertTrue(n["subject"].startswith("Bob"), repr(n["subject"]))
        self.assertTrue(n["subject"].endswith(" joined"), repr(n["subject"]))
        for ch in n["subject"] + n["body"]:
            self.assertFalse(ord(ch) < 0x20 and ch != "\n" or ord(ch) == 0x7f,
                             "control character %r rendered: %r" % (ch, n))
        self.assertIn("Hi Alice,", n["body"])
        self.assertNotIn("\nBcc:", n["body"])


class ShareTest(NotifyCase):
    def test_share_shape_and_defaults(self):
        s = self.s
        prog = self.program(name="Bright Yoga")
        a = s.make_participant(prog["id"], first_name="Jane")
        r = s.get("/v1/participants/%s/share" % a["id"])
        self.assertStatus(r, 200)
        sh = r.body
        self.assertKeys(sh, ["code", "share_url", "messages", "links"], "share")
        self.assertEqual(sh["code"], a["code"])
        self.assertEqual(sh["share_url"], a["share_url"])
        self.assertEqual(set(sh["messages"]), set(CHANNELS))
        self.assertEqual(set(sh["links"]), set(CHANNELS))
        self.assertIsInstance(sh["messages"]["email"], dict)
        self.assertKeys(sh["messages"]["email"], ["subject", "body"], "email message")
        for ch in CHANNELS:
            link = "%s?ch=%s" % (a["share_url"], ch)
            self.assertEqual(sh["links"][ch], link)
            msg = sh["messages"][ch]
            text = msg["subject"] + "\n" + msg["body"] if ch == "email" else msg
            self.assertIsInstance(text, str)
            self.assertIn(link, text, "%s message lacks its own link" % ch)
            for other in CHANNELS:
                if other != ch:
                    self.assertNotIn("?ch=" + other, text)
            self.assertNotIn("{{", text)
            self.assertWarm(text, "default %s share message" % ch)
        self.assertNotIn("\n", sh["messages"]["email"]["subject"])
        # each link works and carries its channel
        for ch in CHANNELS:
            c = s.click(a["code"], query="?ch=" + ch)
            self.assertStatus(c, 302)

    def test_defaults_for_every_program_are_warm(self):
        s = self.s
        for name in ("Acme", "Zen Studio"):
            prog = self.program(name=name)
            a = s.make_participant(prog["id"], first_name="Kim")
            sh = s.get("/v1/participants/%s/share" % a["id"]).body
            blob = sh["messages"]["email"]["subject"] + sh["messages"]["email"]["body"] + \
                sh["messages"]["sms"] + sh["messages"]["whatsapp"] + sh["messages"]["social"]
            self.assertWarm(blob, "default share messages")
            self.assertNotIn("!!", blob)


class SmtpTest(NotifyCase):
    FROM = "Referrals <referrals@kith.test>"

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

    def wait_sent(self, pid, n):
        def done():
            notes = self.notes(pid)
            return len(notes) >= n and all(x["status"] == "sent" for x in notes) and notes
        got = wait_until(done, timeout=10)
        self.assertTrue(got, "notifications not sent: %r" % self.notes(pid))
        return got

    def test_emails_arrive_and_are_marked_sent(self):
        s = self.s
        prog = self.program(name="Bright Yoga")
        a, b, ref = self.pair(prog["id"])
        self.assertStatus(s.event(prog["id"], b["external_id"]), 201)
        for p in (a, b):
            notes = self.wait_sent(p["id"], 2)
            self.assertEqual(len(notes), 2, repr(notes))
            mails = wait_until(lambda: len(self.sink.to(p["email"])) >= 2 and self.sink.to(p["email"]))
            self.assertTrue(mails, "no e-mail for %s" % p["email"])
            self.assertEqual(len(mails), 2, "one e-mail per notification: %r" % [m["raw"][:300] for m in mails])
            by_subject = {str(m["msg"]["Subject"]): m for m in mails}
            for n in notes:
                self.assertEqual(n["status"], "sent", repr(n))
                sent = parse_time(n["sent_at"])
                self.assertGreaterEqual(sent, parse_time(n["created_at"]))
                self.assertIn(n["subject"], by_subject, "subject %r not among %r" % (n["subject"], list(by_subject)))
                m = by_subject[n["subject"]]
                msg = m["msg"]
                self.assertEqual(msg["To"].addresses[0].addr_spec.lower(), p["email"].lower())
                self.assertEqual(msg["From"].addresses[0].addr_spec, "referrals@kith.test")
                self.assertIn("referrals@kith.test", m["from_cmd"])
                self.assertEqual(len(m["rcpt"]), 1, repr(m["rcpt"]))
                self.assertEqual(mail_text(msg).strip(), n["body"].replace("\r\n", "\n").strip())
                self.assertIsNotNone(msg["Date"])
                self.assertIsNotNone(msg["Message-ID"])
        self.assertEqual(s.referral(ref["id"])["status"], "rewarded")

    def test_header_injection(self):
        s = self.s
        prog = self.program()
        pid = prog["id"]
        self.assertStatus(s.patch("/v1/programs/" + pid, {"templates": {
            "referral_created_referrer": {"subject": "{{friend_first_name}} joined via {{first_name}}",
                                          "body": "{{friend_first_name}} joined."}}}), 200)
        a = s.make_participant(pid, first_name="Ann\r\nBcc: evil1@example.org", email=uid("hi") + "@example.com")
        r = s.signup(pid, code=a["code"], first_name="Bob\r\nBcc: evil2@example.org\r\n\r\nfake body",
                     email=uid("hb") + "@example.com")
        self.assertStatus(r, 201)
        self.wait_sent(a["id"], 1)
        mails = wait_until(lambda: self.sink.to(a["email"]))
        self.assertEqual(len(mails), 1)
        m = mails[0]
        raw = m["raw"]
        self.assertEqual(len(m["rcpt"]), 1, repr(m["rcpt"]))
        self.assertIsNone(m["msg"]["Bcc"], raw[:800])
        self.assertNotIn(b"\nBcc:", raw)
        self.assertNotIn(b"\r\nBcc:", raw)
        subj = str(m["msg"]["Subject"])
        self.assertNotIn("\n", subj)
        self.assertTrue(subj.startswith("Bob"), subj)
        with self.sink.lock:
            cmds = b"".join(self.sink.commands)
        self.assertNotIn(b"evil", cmds, "an injected address reached the SMTP envelope")
        note = self.notes(a["id"])[0]
        self.assertNotIn("\n", note["subject"])

    def test_participant_without_email(self):
        s = self.s
        prog = self.program()
        a = s.make_participant(prog["id"], first_name="NoMail")
        r = s.signup(prog["id"], code=a["code"], email=uid("w") + "@example.com")
        self.assertStatus(r, 201)
        notes = self.notes(a["id"])
        self.assertEqual(len(notes), 1)
        # The friend's note was made in the same transaction and is sent: had the referrer's
        # been queued too, kith would have claimed it with the friend's (oldest first), and once
        # the sender and the store are idle its outcome is recorded.
        self.wait_sent(r.body["participant"]["id"], 1)
        s.settle_sender()
        notes = self.notes(a["id"])
        self.assertNotEqual(notes[0]["status"], "sent", "sent without an address: %r" % notes)
        self.assertEqual(len(self.sink.to(r.body["participant"]["email"])), 1)


if __name__ == "__main__":
    kithtest.main()
