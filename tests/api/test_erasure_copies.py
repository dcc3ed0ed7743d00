"""Erasure reaches every copy of a person (contract section 6b), including the ones that quote
them without naming their id: the *referrer's* notification "Xanthippe joined through you", its
notification.created webhook payload, and that webhook's pending retries. Proved with a byte
search of every database file (SQLite) or a dump (PostgreSQL) while deliveries are pending, and
by what the receiver gets once it answers again."""
import json
import sys
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KithTestCase, uid  # noqa: E402
from test_webhooks import ALLOW_ENV, Receiver  # noqa: E402

FIRST = "Xanthippe"
REFERRER = "Philomena"


class ErasureQuotesTest(KithTestCase):
    server_kwargs = {"test_clock": True, "env": ALLOW_ENV}

    @classmethod
    def setUpClass(cls):
        cls.rcv = Receiver()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rcv.close()

    def haystacks(self):
        """Every byte kith keeps: the database files, or a dump of the PostgreSQL database."""
        s = self.s
        out = []
        for path in s.db_files():
            with open(path, "rb") as f:
                out.append((path.rsplit("/", 1)[-1], f.read()))
        return out

    def run_story(self, erase_referrer):
        s = self.s
        pid = s.make_program()["id"]
        path = self.rcv.new_path()
        self.rcv.set_answer(path, 503)  # every attempt fails: deliveries stay pending with retries
        r = s.post("/v1/webhook_endpoints", {"url": self.rcv.url(path),
                                             "events": ["notification.created"]})
        self.assertStatus(r, 201)
        eid = r.body["id"]
        referrer_name = REFERRER + uid("")[-4:].upper().replace("_", "")
        friend_name = FIRST + uid("")[-4:].upper().replace("_", "")
        jane = s.make_participant(pid, first_name=referrer_name, email=uid("p") + "@example.com")
        s.clock_advance(25 * 3600)
        r = s.signup(pid, code=jane["code"], first_name=friend_name,
                     email=uid("x") + "@example.com")
        self.assertStatus(r, 201)
        friend = r.body["participant"]
        self.assertEqual(r.body["referral"]["status"], "pending", repr(r))
        # The referrer is told, quoting the friend's first name; the friend is welcomed, quoting
        # the referrer's.
        notes = s.get("/v1/participants/%s/notifications" % jane["id"])
        self.assertStatus(notes, 200)
        self.assertTrue(any(friend_name in (n["body"] or "") + (n["subject"] or "")
                            for n in notes.body["data"]), repr(notes.body))
        # At least one attempt was made and failed, so deliveries are pending with a retry due.
        self.rcv.wait(path, n=2)  # both first attempts (the referrer's and the friend's note) are in
        s.settle_sender()  # ... and recorded: the receiver sees an attempt before kith logs it
        items = s.list_all("/v1/webhook_endpoints/%s/deliveries" % eid)
        self.assertTrue(items, "no deliveries")
        self.assertTrue(all(d["status_code"] == 503 for d in items), repr(items))
        erased, needle = (jane, referrer_name) if erase_referrer else (friend, friend_name)
        needle_b = needle.encode()
        before = [name for name, data in self.haystacks() if needle_b in data]
        self.assertTrue(before, "the story never wrote %s anywhere: the test proves nothing" % needle)
        r = s.post("/v1/participants/%s/erase" % erased["id"], {})
        self.assertStatus(r, 200)
        found = [(name, data.count(needle_b)) for name, data in self.haystacks() if needle_b in data]
        self.assertEqual(found, [], "%s survives erasure in %r" % (needle, found))
        # The feeds of both people no longer quote the erased one.
        for who in (jane, friend):
            notes = s.get("/v1/participants/%s/notifications" % who["id"])
            self.assertStatus(notes, 200)
            self.assertNotIn(needle, json.dumps(notes.body))
        # The receiver answers again: the pending retries go out without the name.
        n_before = len(self.rcv.got(path))
        self.rcv.set_answer(path, 200)
        s.clock_advance(3 * 24 * 3600)
        got = self.rcv.wait(path, n=n_before + 1)
        for d in got[n_before:]:
            self.assertNotIn(needle_b, d.body, "a retry sent %s: %r" % (needle, d.body[:300]))
        self.assertTrue(any(d.type == "notification.created" for d in got[n_before:]), repr(got))

    def test_erasing_the_friend_reaches_the_referrers_notification_and_its_retries(self):
        self.run_story(erase_referrer=False)

    def test_erasing_the_referrer_reaches_the_friends_notification_and_its_retries(self):
        self.run_story(erase_referrer=True)


if __name__ == "__main__":
    unittest.main()
