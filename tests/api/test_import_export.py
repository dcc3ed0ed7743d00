"""Moving in and out (issue 16; contract sections 3, 5, 21 and 24; docs/api/README.md, "Moving in"
and "CSV exports"): `kith import participants FILE.csv` keeps every advocate's code exactly and
records who referred whom, all or nothing with the line of every mistake; GET
/v1/exports/{participants|referrals|rewards}.csv gives the program back as RFC 4180 files with a
header row and the formula-injection guard. Runs on SQLite and on PostgreSQL (the import names
the server's own database with --db, while the server runs)."""
import csv
import io
import os
import random
import string
import subprocess
import sys
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KITH_BIN, KithTestCase, Server, uid  # noqa: E402

HEADER = "external_id,email,first_name,code,referred_by"
PARTICIPANT_COLUMNS = ["id", "program", "external_id", "email", "first_name", "code", "codes",
                       "share_url", "referred_by", "referrer_code", "status", "leaderboard_opt_in",
                       "erased", "created_at", "clicks", "signups", "qualified", "rewarded"]
REFERRAL_COLUMNS = ["id", "program", "referrer_id", "referrer_first_name", "referrer_code",
                    "referred_id", "referred_first_name", "code", "source", "channel", "status",
                    "fraud_score", "fraud_flags", "created_at", "qualified_at", "rewarded_at",
                    "expires_at"]
REWARD_COLUMNS = ["id", "program", "participant", "referral", "to", "kind", "amount", "currency",
                  "description", "status", "created_at", "issued_at", "redeemed_at", "expires_at"]


def vanity():
    """A vanity code no other test of this class uses: QX + 5 letters and digits."""
    return "QX" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(5))


def zoe_code():
    return "ZOE-%04d" % random.randrange(10000)


class ImportCase(KithTestCase):
    def run_import(self, text, *args, name="people.csv"):
        path = os.path.join(self.s.dir, uid("f") + "-" + name)
        with open(path, "w", newline="") as f:
            f.write(text)
        env = dict(self.s._env())
        env.pop("KITH_SECRET_KEY", None)
        p = subprocess.run([KITH_BIN, "import", "participants", path, "--db", self.s.db] + list(args),
                           capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=300)
        return p.returncode, p.stdout.decode(), p.stderr.decode(), path

    def by_external(self, pid, ext):
        r = self.s.get("/v1/participants?program=%s&external_id=%s" % (pid, ext))
        data = self.assertList(r)
        self.assertEqual(len(data), 1, "participant %s: %r" % (ext, r))
        return data[0]

    def count(self, pid):
        return len(self.s.list_all("/v1/participants?program=" + pid))


class ImportTest(ImportCase):
    def test_codes_kept_referrals_made_and_they_work(self):
        s = self.s
        pid = s.make_program()["id"]
        old_advocate = s.make_participant(pid, first_name="Olga", email=uid("o") + "@example.com")
        jane, vip, late = zoe_code(), vanity(), vanity()
        text = (HEADER + "\r\n"
                "u-zoe,zoe@example.com,Zoe,%s,\r\n"           # a code kept exactly
                "u-sam,sam@example.com,Sam,,%s\r\n"           # referred by Zoe, typed loosely
                "u-vip, vip@example.com , Vi ,%s,\r\n"        # a vanity code, lower case, spaces
                "u-kid,kid@example.com,Kid,,%s\r\n"           # referred by someone further down
                "u-late,late@example.com,Late,%s,%s\r\n"      # referred by an existing advocate
                ) % (jane, jane.lower().replace("-", " "), vip.lower(), late, late,
                     old_advocate["code"])
        rc, out, err, _ = self.run_import(text, "--program", pid)
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"imported 5 participants into %s \(3 kept the code they bring, 2 got "
                              r"a new one\) and 3 referrals" % pid)
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual(rows[0], ["external_id", "id", "code"])
        self.assertEqual([r[0] for r in rows[1:]], ["u-zoe", "u-sam", "u-vip", "u-kid", "u-late"])

        zoe = self.by_external(pid, "u-zoe")
        self.assertEqual(zoe["code"], jane)
        self.assertEqual(zoe["codes"], [jane])
        self.assertEqual((zoe["email"], zoe["first_name"], zoe["status"]), ("zoe@example.com", "Zoe", "active"))
        self.assertIsNone(zoe["referred_by"])
        self.assertEqual(rows[1], ["u-zoe", zoe["id"], jane])
        v = self.by_external(pid, "u-vip")
        self.assertEqual((v["code"], v["email"], v["first_name"]), (vip, "vip@example.com", "Vi"))
        sam = self.by_external(pid, "u-sam")
        self.assertRegex(sam["code"], r"^SAM-[0-9]{4}$", "an empty code gets a new one")
        self.assertEqual(rows[2], ["u-sam", sam["id"], sam["code"]])

        # Sam's referral: pending, source "code", Zoe's code, and Sam's referred_by names it.
        ref = s.referral(sam["referred_by"])
        self.assertEqual(ref["status"], "pending")
        self.assertEqual(ref["source"], "code")
        self.assertEqual(ref["code"], jane)
        self.assertEqual(ref["referrer"], {"id": zoe["id"], "first_name": "Zoe", "code": jane})
        self.assertEqual(ref["referred"], {"id": sam["id"], "first_name": "Sam"})
        self.assertEqual(ref["fraud"], {"score": 0, "flags": []})
        self.assertIsNone(ref["channel"])
        kid = self.by_external(pid, "u-kid")
        self.assertEqual(s.referral(kid["referred_by"])["referrer"]["code"], late)
        lt = self.by_external(pid, "u-late")
        self.assertEqual(s.referral(lt["referred_by"])["referrer"]["id"], old_advocate["id"])
        self.assertEqual(s.participant(zoe["id"])["stats"]["signups"], 1)

        # The kept code is a working link and a working typed code, as it was in the old tool.
        r = s.click(jane)
        self.assertStatus(r, 302)
        self.assertIn("ref=" + jane, r.headers["location"])
        r = s.signup(pid, code=jane.lower())
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["referrer"]["id"], zoe["id"])
        # Sam's first purchase qualifies the imported referral and rewards both sides.
        r = s.event(pid, "u-sam", id=uid("in"))
        self.assertStatus(r, 201)
        self.assertEqual(r.body["referral"]["status"], "rewarded")
        self.assertEqual(sorted(w["to"] for w in r.body["rewards"]), ["referred", "referrer"])
        # Codes stay permanent: adding the kept code as someone's alias is refused.
        r = s.post("/v1/participants/%s/codes" % old_advocate["id"], {"code": jane})
        self.assertError(r, 409, "code_taken", param="code")
        # A kept code is never reused, so an import of it again is refused too.
        rc, _, err, path = self.run_import(HEADER + "\nu-again,,,%s,\n" % jane, "--program", pid)
        self.assertEqual(rc, 1)
        self.assertIn("%s:2: code: the code %s is taken" % (path, jane), err)

    def test_any_mistake_writes_nothing_and_every_mistake_has_its_line(self):
        s = self.s
        pid = s.make_program()["id"]
        existing = s.make_participant(pid, first_name="Eve")
        good = vanity()
        text = (HEADER + "\n"
                "ok-1,ok1@example.com,Ok,%s,\n"                        # 2: fine
                "%s,,,,\n"                                            # 3: already a participant
                "ok-1,,,,\n"                                          # 4: external_id twice
                "bad-email,not-an-email,,,\n"                         # 5: e-mail
                "bad-code,,,a!,\n"                                    # 6: code shape
                "dup-code,,,%s,\n"                                    # 7: code twice in the file
                "taken,,,%s,\n"                                       # 8: code taken in kith
                "nobody,,,,NOPE-0000\n"                               # 9: unknown referrer
                "self,self@example.com,,QXSELF1,QXSELF1\n"            # 10: self-referral
                "short,row\n"                                         # 11: field count
                ",,,,\n"                                              # 12: external_id missing
                "\"quote,,,,\n"                                       # 13: quote left open
                ) % (good, existing["external_id"], good.lower(), existing["code"])
        rc, out, err, path = self.run_import(text, "--program", pid)
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, "", "nothing on stdout when nothing was written")
        lines = [l for l in err.splitlines() if l.startswith(path + ":")]
        linenos = [int(l[len(path) + 1:].split(":", 1)[0]) for l in lines]
        self.assertEqual(linenos, sorted(linenos), "mistakes in line order: %s" % err)
        expect = {3: "external_id", 4: "external_id", 5: "email", 6: "code", 7: "code", 8: "code",
                  9: "referred_by", 10: "referred_by", 11: None, 12: "external_id", 13: None}
        for n, param in expect.items():
            prefix = "%s:%d: %s" % (path, n, param + ": " if param else "")
            self.assertTrue(any(l.startswith(prefix) for l in lines),
                            "no mistake %r reported; stderr:\n%s" % (prefix, err))
        self.assertFalse(any(l.startswith("%s:2:" % path) for l in lines), err)
        self.assertIn("%s:7: code: the code %s is also on line 2" % (path, good), err)
        self.assertIn("%s:4: external_id: the external_id 'ok-1' is also on line 2" % path, err)
        self.assertIn("%s:9: referred_by: unknown_code" % path, err)
        self.assertIn("%s:10: referred_by: self_referral" % path, err)
        self.assertIn("%s:13: a quoted field opened on this line is not closed" % path, err)
        self.assertRegex(err, r"kith import: \d+ mistakes in the file; nothing was written")
        # Nothing was written: the good line 2 is not there and its code is still free.
        self.assertEqual(self.count(pid), 1)
        r = s.post("/v1/participants/%s/codes" % existing["id"], {"code": good})
        self.assertStatus(r, 201)

    def test_a_mistake_on_the_last_line_undoes_the_lines_before(self):
        s = self.s
        pid = s.make_program()["id"]
        rows = "".join("keep-%d,,Name,,\n" % i for i in range(50))
        rc, _, err, path = self.run_import(HEADER + "\n" + rows + "last,,,,NOPE-0001\n",
                                           "--program", pid)
        self.assertEqual(rc, 1, err)
        self.assertIn("%s:52: referred_by: unknown_code" % path, err)
        self.assertEqual(self.count(pid), 0)

    def test_dry_run_checks_everything_and_writes_nothing(self):
        s = self.s
        pid = s.make_program()["id"]
        code = vanity()
        text = HEADER + "\nd-1,,Dee,%s,\nd-2,,Dan,,%s\n" % (code, code)
        rc, out, err, _ = self.run_import(text, "--program", pid, "--dry-run")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "")
        self.assertIn("2 participants (1 with the code they bring), 1 referral for %s. "
                      "--dry-run: nothing was written." % pid, err)
        self.assertEqual(self.count(pid), 0)
        rc, out, err, _ = self.run_import(text, "--program", pid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.count(pid), 2)
        # A dry run of a file with a mistake reports it like a real run.
        rc, _, err, path = self.run_import(text, "--program", pid, "--dry-run")
        self.assertEqual(rc, 1)
        self.assertIn("%s:2: external_id: 'd-1' is already a participant of %s" % (path, pid), err)

    def test_header_columns_in_any_order_and_only_known_ones(self):
        s = self.s
        pid = s.make_program()["id"]
        rc, _, err, _ = self.run_import("first_name,EXTERNAL_ID\nPat,o-1\n", "--program", pid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.by_external(pid, "o-1")["first_name"], "Pat")
        rc, _, err, path = self.run_import("external_id,nickname\nx,y\n", "--program", pid)
        self.assertEqual(rc, 1)
        self.assertIn("%s:1: header: unknown column 'nickname'" % path, err)
        rc, _, err, path = self.run_import("email,first_name\na@example.com,A\n", "--program", pid)
        self.assertEqual(rc, 1)
        self.assertIn("%s:1: external_id: the header must name an 'external_id' column" % path, err)
        rc, _, err, path = self.run_import("", "--program", pid)
        self.assertEqual(rc, 1)
        self.assertIn("%s:1: header: the file is empty" % path, err)
        # A spreadsheet's byte order mark and CRLF are fine.
        rc, _, err, _ = self.run_import("\ufeffexternal_id,first_name\r\no-2,Bom\r\n", "--program", pid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.by_external(pid, "o-2")["first_name"], "Bom")

    def test_referrer_in_another_program_or_blocked(self):
        s = self.s
        pid, other = s.make_program()["id"], s.make_program()["id"]
        elsewhere = s.make_participant(other, first_name="Far")
        blocked = s.make_participant(pid, first_name="Bo")
        self.assertStatus(s.patch("/v1/participants/" + blocked["id"], {"status": "blocked"}), 200)
        text = HEADER + "\nr-1,,,,%s\nr-2,,,,%s\n" % (elsewhere["code"], blocked["code"])
        rc, _, err, path = self.run_import(text, "--program", pid)
        self.assertEqual(rc, 1)
        self.assertIn("%s:2: referred_by: other_program" % path, err)
        self.assertIn("%s:3: referred_by: referrer_blocked" % path, err)
        # Several programs and none named: the import says which it needs.
        rc, _, err, _ = self.run_import(HEADER + "\nx,,,,\n")
        self.assertEqual(rc, 1)
        self.assertIn("'program' is required when several programs exist", err)
        rc, _, err, _ = self.run_import(HEADER + "\nx,,,,\n", "--program", "no-such-program")
        self.assertEqual(rc, 1)
        self.assertIn("no such program", err)

    def test_usage_errors_exit_2(self):
        p = subprocess.run([KITH_BIN, "import", "people", "x.csv"], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: kith import participants FILE.csv", p.stderr.decode())
        p = subprocess.run([KITH_BIN, "import", "participants"], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(p.returncode, 2)
        rc, _, err, _ = self.run_import(HEADER + "\n", "--log-level", "loud")
        self.assertEqual(rc, 2, err)


def parse_csv(resp):
    text = resp.body
    # RFC 4180: every record ends with CRLF (a bare LF only inside quotes).
    assert text.endswith("\r\n"), repr(text[-20:])
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


class ExportTest(ImportCase):
    def export(self, name, pid, status=200, **kw):
        r = self.s.get("/v1/exports/%s?program=%s" % (name, pid), **kw)
        self.assertStatus(r, status)
        return r

    def test_participants_csv(self):
        s = self.s
        pid = s.make_program()["id"]
        ann = s.make_participant(pid, first_name="Ann", email=uid("a") + "@example.com")
        self.assertStatus(s.post("/v1/participants/%s/codes" % ann["id"], {"code": vanity()}), 201)
        sig = s.signup(pid, ref=ann["code"], first_name="Sam", email=uid("s") + "@example.com")
        self.assertStatus(sig, 201)
        r = self.export("participants.csv", pid)
        self.assertEqual(r.headers["content-type"], "text/csv; charset=utf-8; header=present")
        self.assertEqual(r.headers["content-disposition"],
                         'attachment; filename="%s-participants.csv"' % pid)
        rows = parse_csv(r)
        self.assertEqual(rows[0], PARTICIPANT_COLUMNS)
        self.assertEqual(len(rows), 3)
        got = {row[0]: dict(zip(PARTICIPANT_COLUMNS, row)) for row in rows[1:]}
        a = got[ann["id"]]
        now = s.participant(ann["id"])
        self.assertEqual(a["program"], pid)
        self.assertEqual(a["external_id"], ann["external_id"])
        self.assertEqual(a["email"], ann["email"])
        self.assertEqual(a["code"], ann["code"])
        self.assertEqual(a["codes"], " ".join(now["codes"]))
        self.assertEqual(a["share_url"], ann["share_url"])
        self.assertEqual((a["referred_by"], a["referrer_code"]), ("", ""))
        self.assertEqual((a["status"], a["leaderboard_opt_in"], a["erased"]), ("active", "false", "false"))
        self.assertEqual(a["created_at"], ann["created_at"])
        self.assertEqual([a[k] for k in ("clicks", "signups", "qualified", "rewarded")],
                         [str(now["stats"][k]) for k in ("clicks", "signups", "qualified", "rewarded")])
        self.assertEqual(a["signups"], "1")
        b = got[sig.body["participant"]["id"]]
        self.assertEqual(b["referred_by"], sig.body["referral"]["id"])
        self.assertEqual(b["referrer_code"], ann["code"])

    def test_formula_guard_and_quoting(self):
        s = self.s
        pid = s.make_program()["id"]
        names = {"=HYPERLINK(\"http://x\",\"y\")": "'=HYPERLINK(\"http://x\",\"y\")",
                 "+1+1": "'+1+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)",
                 "Jo, \"JJ\"\nSmith": "Jo, \"JJ\"\nSmith", "a=b": "a=b"}
        ids = {}
        for name in names:
            ids[s.make_participant(pid, first_name=name)["id"]] = name
        r = self.export("participants.csv", pid)
        rows = parse_csv(r)
        col = PARTICIPANT_COLUMNS.index("first_name")
        seen = {row[0]: row[col] for row in rows[1:]}
        for pid_, name in ids.items():
            self.assertEqual(seen[pid_], names[name], "first_name %r" % name)
        # On the wire: the guarded cell with a comma is quoted whole, quotes doubled.
        self.assertIn('"\'=HYPERLINK(""http://x"",""y"")"', r.body)
        self.assertIn('"Jo, ""JJ""\nSmith"', r.body)

    def test_referrals_and_rewards_csv(self):
        s = self.s
        pid = s.make_program()["id"]
        ann = s.make_participant(pid, first_name="Ann", ip="198.51.100.7")
        sig = s.signup(pid, ref=ann["code"], first_name="Sam", ip="198.51.100.7")
        self.assertStatus(sig, 201)
        ref = sig.body["referral"]
        self.assertEqual(ref["fraud"]["flags"], ["same_ip", "new_referrer"])
        self.assertStatus(s.event(pid, sig.body["participant"]["external_id"], id=uid("in")), 201)
        ref = s.referral(ref["id"])
        rows = parse_csv(self.export("referrals.csv", pid))
        self.assertEqual(rows[0], REFERRAL_COLUMNS)
        self.assertEqual(len(rows), 2)
        got = dict(zip(REFERRAL_COLUMNS, rows[1]))
        self.assertEqual(got, {
            "id": ref["id"], "program": pid, "referrer_id": ann["id"], "referrer_first_name": "Ann",
            "referrer_code": ann["code"], "referred_id": ref["referred"]["id"],
            "referred_first_name": "Sam", "code": ann["code"], "source": "url", "channel": "",
            "status": "rewarded", "fraud_score": "2", "fraud_flags": "same_ip new_referrer",
            "created_at": ref["created_at"], "qualified_at": ref["qualified_at"],
            "rewarded_at": ref["rewarded_at"], "expires_at": ref["expires_at"] or ""})
        rows = parse_csv(self.export("rewards.csv", pid))
        self.assertEqual(rows[0], REWARD_COLUMNS)
        api = {w["id"]: w for w in s.rewards(program=pid)}
        self.assertEqual(len(rows) - 1, len(api))
        self.assertEqual(len(api), 2)
        for row in rows[1:]:
            got = dict(zip(REWARD_COLUMNS, row))
            w = api[got["id"]]
            want = {k: ("" if w[k] is None else str(w[k])) for k in REWARD_COLUMNS}
            self.assertEqual(got, want)

    def test_erased_participants_export_without_their_details(self):
        s = self.s
        pid = s.make_program()["id"]
        p = s.make_participant(pid, first_name="Gone", email=uid("g") + "@example.com")
        self.assertStatus(s.post("/v1/participants/%s/erase" % p["id"], {}), 200)
        rows = parse_csv(self.export("participants.csv", pid))
        got = dict(zip(PARTICIPANT_COLUMNS, rows[1]))
        self.assertEqual((got["email"], got["first_name"], got["erased"]), ("", "", "true"))
        self.assertNotIn(p["email"], self.export("participants.csv", pid).body)

    def test_pages_of_a_large_program_join_up(self):
        # More rows than one page (1000): the codes of the participants on both sides of a page
        # boundary stay with their owners.
        s = self.s
        pid = s.make_program()["id"]
        n = 2100
        rc, out, err, _ = self.run_import(
            HEADER + "\n" + "".join("big-%04d,,Big,,\n" % i for i in range(n)), "--program", pid)
        self.assertEqual(rc, 0, err)
        written = {r[0]: r for r in list(csv.reader(io.StringIO(out, newline="")))[1:]}
        aliases = {}
        for i in (998, 999, 1000, 1001, 1999, 2000, 2099):
            pid_ = written["big-%04d" % i][1]
            code = vanity()
            self.assertStatus(s.post("/v1/participants/%s/codes" % pid_, {"code": code}), 201)
            aliases[pid_] = code
        rows = parse_csv(self.export("participants.csv", pid))
        self.assertEqual(len(rows) - 1, n)
        ci, cc = PARTICIPANT_COLUMNS.index("code"), PARTICIPANT_COLUMNS.index("codes")
        self.assertEqual([r[2] for r in rows[1:]], ["big-%04d" % i for i in range(n)], "import order")
        for row in rows[1:]:
            if row[0] in aliases:
                # In the order the API lists them (by when each was made).
                self.assertEqual(row[cc].split(" "), s.participant(row[0])["codes"], row)
                self.assertEqual(sorted(row[cc].split(" ")), sorted([row[ci], aliases[row[0]]]))
            else:
                self.assertEqual(row[cc], row[ci], row)

    def test_auth_names_and_parameters(self):
        s = self.s
        pid = s.make_program()["id"]
        s.make_program()  # two programs: `program` is required
        r = s.get("/v1/exports/participants.csv?program=" + pid, key=None)
        self.assertError(r, 401, "unauthorized")
        r = s.get("/v1/exports/participants.csv?program=" + pid, key=s.keys_create(publishable=True))
        self.assertError(r, 403, "forbidden")
        self.assertError(s.get("/v1/exports/clicks.csv?program=" + pid), 404, "not_found")
        self.assertError(s.get("/v1/exports/participants.json?program=" + pid), 404, "not_found")
        self.assertError(s.get("/v1/exports/rewards.csv?program=nope-" + uid("x")), 404, "not_found",
                         param="program")
        self.assertError(s.get("/v1/exports/rewards.csv?program=%s&status=issued" % pid), 400,
                         "invalid_param", param="status")
        self.assertError(s.get("/v1/exports/rewards.csv"), 400, "invalid_param", param="program")
        # An empty program: the header row alone.
        r = self.export("rewards.csv", pid)
        self.assertEqual(r.body, ",".join(REWARD_COLUMNS) + "\r\n")
        r = s.request("HEAD", "/v1/exports/rewards.csv?program=" + pid)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers["content-type"], "text/csv; charset=utf-8; header=present")


class OneProgramExportTest(KithTestCase):
    def test_program_may_be_left_out_when_there_is_one(self):
        s = self.s
        pid = s.make_program()["id"]
        s.make_participant(pid)
        r = s.get("/v1/exports/participants.csv")
        self.assertStatus(r, 200)
        self.assertEqual(len(parse_csv(r)), 2)
        self.assertEqual(r.headers["content-disposition"],
                         'attachment; filename="%s-participants.csv"' % pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
