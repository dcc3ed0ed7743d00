"""The public program page as HTML, GET /programs/{id} (contract section 18): only with
public_page true; the rules in words, totals, opted-in recognition only; no email, external id
or script; a strict Content-Security-Policy."""
import sys
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KithTestCase, uid  # noqa: E402


class ProgramPageTest(KithTestCase):
    def test_page(self):
        s = self.s
        pid = s.make_program(name="Wellness Circle")["id"]
        r = s.get("/programs/%s" % pid, key=None)
        self.assertStatus(r, 404)
        self.assertIn("text/html", r.headers["content-type"])
        self.assertStatus(s.patch("/v1/programs/%s" % pid, {"public_page": True}), 200)
        shown = s.make_participant(pid, first_name="Philippa", email=uid("p") + "@example.com",
                                   leaderboard_opt_in=True)
        hidden = s.make_participant(pid, first_name="Quentin", email=uid("q") + "@example.com")
        s.clock_advance(25 * 3600)
        for who in (shown, hidden):
            f = s.signup(pid, code=who["code"], first_name="Friend", email=uid("f") + "@example.com")
            self.assertStatus(f, 201)
            self.assertStatus(s.event(pid, f.body["participant"]["external_id"]), 201)
        r = s.get("/programs/%s" % pid, key=None)
        self.assertStatus(r, 200)
        html = r.raw.decode()
        self.assertIn("Wellness Circle", html)
        self.assertIn("Philippa", html, "an opted-in referrer is recognised")
        self.assertNotIn("Quentin", html, "someone who did not opt in is not named")
        self.assertIn("25.00 USD", html, "the referrer's reward in words")
        for secret in (shown["email"], hidden["email"], shown["external_id"]):
            self.assertNotIn(secret, html)
        self.assertNotIn("<script", html)
        csp = r.headers["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertStatus(s.get("/programs/nope-not-here", key=None), 404)


if __name__ == "__main__":
    unittest.main()
