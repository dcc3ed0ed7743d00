"""The dashboard's live template preview (POST /v1/programs/{id}/templates/preview, contract
sections 13 and 21), black-box: the same renderer and variables as notifications, drafts,
the program's own text, errors, and which dashboard roles may call it. Also the reviewer's
refusals on the owner-only writes the dashboard's new screens hide (section 21)."""

import subprocess

import kithtest
from kithtest import KITH_BIN, KithTestCase, uid

PASSWORD = "correct horse battery"
PREVIEW = "/v1/programs/%s/templates/preview"


class TemplatePreviewTest(KithTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prog = cls.server.make_program(name="Wellness Circle")
        cls.reviewer = uid("rev") + "@example.com"
        env = cls.server._env()
        env.pop("KITH_SECRET_KEY", None)
        env["KITH_ADMIN_PASSWORD"] = PASSWORD
        subprocess.run([KITH_BIN, "admin", "create", "--email", cls.reviewer, "--role",
                        "reviewer", "--db", cls.server.db], stdin=subprocess.DEVNULL,
                       capture_output=True, env=env, cwd=cls.server.dir, timeout=120, check=True)

    def preview(self, body, pid=None):
        return self.s.post(PREVIEW % (pid or self.prog["id"]), body)

    def test_default_text_renders_with_example_values(self):
        r = self.preview({"name": "referral_rewarded_referrer"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["subject"], "A thank-you from Wellness Circle")
        self.assertIn("Because of you, Sam is now part of Wellness Circle", r.body["body"])
        self.assertIn("a 25.00 USD credit is yours", r.body["body"])
        self.assertIn(self.server.public + "/r/JANE-2847", r.body["body"])
        self.assertFalse(r.body["customised"])
        self.assertEqual(r.body["template"]["subject"], "A thank-you from {{program_name}}")
        self.assertEqual(r.body["variables"]["first_name"], "Jane")

    def test_referred_side_names_the_friends_reward(self):
        r = self.preview({"name": "reward_issued_referred"})
        self.assertStatus(r, 200)
        self.assertIn("Your welcome gift is ready: Your first month on us.", r.body["body"])

    def test_draft_text_and_the_programs_own(self):
        r = self.preview({"name": "share_sms", "body": "Hi from {{first_name}}: {{code}}"})
        self.assertStatus(r, 200)
        self.assertIsNone(r.body["subject"])
        self.assertEqual(r.body["body"], "Hi from Jane: JANE-2847")
        prog = self.s.make_program(templates={"share_sms": {"body": "Mine: {{share_url}}"}})
        r = self.preview({"name": "share_sms"}, prog["id"])
        self.assertStatus(r, 200)
        self.assertTrue(r.body["customised"])
        self.assertEqual(r.body["body"], "Mine: %s/r/JANE-2847" % self.server.public)

    def test_single_pass_and_clean_subject(self):
        r = self.preview({"name": "share_email", "subject": "A\nB {{first_name}}"})
        self.assertStatus(r, 200)
        self.assertEqual(r.body["subject"], "AB Jane")

    def test_errors(self):
        self.assertError(self.preview({"name": "nope"}), 400, "invalid_param", param="name")
        r = self.preview({"name": "share_sms", "body": "x {{bogus}}"})
        self.assertError(r, 400, "invalid_param", param="body")
        r = self.preview({"name": "share_sms", "subject": "x"})
        self.assertError(r, 400, "invalid_param", param="subject")
        r = self.preview({"name": "share_sms", "extra": 1})
        self.assertError(r, 400, "invalid_param", param="extra")
        self.assertError(self.preview({}), 400, "invalid_param", param="name")
        r = self.preview({"name": "share_sms"}, "no-such-program")
        self.assertError(r, 404, "not_found")

    def session(self, email):
        r = self.s.post("/admin/login", {"email": email, "password": PASSWORD}, key=None)
        self.assertStatus(r, 200)
        return r.headers["set-cookie"].split(";")[0], r.body["csrf"]

    def test_reviewer_may_preview_but_not_write_what_the_dashboard_hides(self):
        cookie, csrf = self.session(self.reviewer)
        h = {"Cookie": cookie, "X-Kith-CSRF": csrf}
        r = self.s.request("POST", PREVIEW % self.prog["id"], body={"name": "ask"}, headers=h,
                           key=None)
        self.assertStatus(r, 200)
        pid = self.prog["id"]
        par = self.s.make_participant(pid, "Rose")
        writes = [
            ("PATCH", "/v1/programs/" + pid, {"name": "x"}),
            ("POST", "/v1/resources", {"program": pid, "slug": "g", "title": "G",
                                       "kind": "guide", "url": "https://example.com/g"}),
            ("POST", "/v1/spotlights", {"program": pid, "period": "2026-11"}),
            ("POST", "/v1/participants/%s/roles" % par["id"], {"role": "guide"}),
            ("POST", "/v1/webhook_endpoints", {"url": "https://example.com/hook"}),
            ("POST", "/v1/payouts/mark_paid", {"rewards": ["rwd_x"]}),
            ("POST", "/v1/rewards/rwd_x/fulfilment/retry", {}),
            ("POST", "/v1/rewards/rwd_x/fulfilment/delivered", {}),
            ("POST", "/v1/rewards/rwd_x/void", {}),
        ]
        for method, path, body in writes:
            r = self.s.request(method, path, body=body, headers=h, key=None)
            self.assertStatus(r, 403, "%s %s" % (method, path))
            self.assertEqual(r.body["error"]["code"], "forbidden")
        r = self.s.request("GET", "/v1/payouts.csv?program=" + pid, headers=h, key=None)
        self.assertStatus(r, 200)


if __name__ == "__main__":
    kithtest.main()
