"""The README's quickstart, run as written (issue 16): every ```sh block of its "Five-minute
quickstart" section, in one bash session, from a directory that looks like the repository's root
(`build` is this build, `make` has nothing left to do). Checks the outputs the README shows."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KITH_BIN = os.environ.get("KITH_BIN", os.path.join(ROOT, "build", "kith"))


def quickstart_blocks():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text.split("## Five-minute quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


class QuickstartTest(unittest.TestCase):
    def test_quickstart_runs_verbatim(self):
        blocks = quickstart_blocks()
        self.assertGreaterEqual(len(blocks), 6, "the quickstart lost its blocks")
        d = tempfile.mkdtemp(prefix="kith-quickstart-")
        try:
            os.symlink(os.path.dirname(os.path.abspath(KITH_BIN)), os.path.join(d, "build"))
            with open(os.path.join(d, "Makefile"), "w") as f:
                f.write("all:\n\t@true\n")  # the build is done: `make` has nothing to do
            script = "set -e\n" + "\n".join(blocks)
            # As a person's shell: not inside make check's own make (which would make `make`
            # print its "Entering directory" lines).
            env = {k: v for k, v in os.environ.items()
                   if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKE_TERMOUT", "MAKE_TERMERR")}
            p = subprocess.run(["bash", "-c", script], cwd=d, capture_output=True, timeout=120,
                               stdin=subprocess.DEVNULL, env=env)
            out = p.stdout.decode()
            log = open(os.path.join(d, "kith.log"), errors="replace").read() if os.path.exists(
                os.path.join(d, "kith.log")) else ""
            self.assertEqual(p.returncode, 0, "quickstart failed:\n%s\n%s\n%s"
                             % (out, p.stderr.decode(), log[-3000:]))
            lines = out.split("\n")
            self.assertRegex(lines[0], r"^JANE-[0-9]{4}$")
            code = lines[0]
            self.assertIn("Location: https://example.com/join?ref=%s" % code, out)
            self.assertRegex(out, r"Set-Cookie: kith_ref=clk_[A-Za-z0-9]+; Max-Age=2592000; Path=/; "
                                  r"HttpOnly; SameSite=Lax")
            self.assertIn("pending url", out)
            self.assertIn("referrer credit 2500 issued", out)
            self.assertIn("referred free_month None issued", out)
        finally:
            subprocess.run(["pkill", "-f", "quickstart.db"], capture_output=True)
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
