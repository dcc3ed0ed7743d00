"""Packaging (issue 16): `make install DESTDIR=...` puts the binary, the manual page, the systemd
units and the example config where docs/deploy.md says; the installed binary runs; the example
config is one `kith config check` accepts; the manual page renders without a warning."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

KITH_BIN = os.environ.get("KITH_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build", "kith")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.dirname(os.path.abspath(KITH_BIN))


def run(args, **kw):
    return subprocess.run(args, capture_output=True, stdin=subprocess.DEVNULL, timeout=120, **kw)


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="kith-install-")
        self.addCleanup(shutil.rmtree, self.dest, ignore_errors=True)

    def prefix(self):
        cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
        return re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", cache, re.M).group(1)

    def test_install_with_destdir(self):
        # `make install DESTDIR=...` is `cmake --install` with DESTDIR once the build is done. The
        # build's own `make install` would first bring every target up to date, and relinking
        # build/kith while other tests run it made them fail ("Permission denied").
        env = dict(os.environ, DESTDIR=self.dest)
        p = run(["cmake", "--install", BUILD], env=env)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        prefix = self.prefix()
        root = self.dest + prefix
        kith = os.path.join(root, "bin", "kith")
        self.assertTrue(os.access(kith, os.X_OK), "no executable %s" % kith)
        man = os.path.join(root, "share", "man", "man1", "kith.1")
        unit = os.path.join(root, "lib", "systemd", "system", "kith.service")
        example = os.path.join(self.dest, "etc", "kith", "kith.conf.example")
        for f in (man, unit, example,
                  os.path.join(root, "lib", "systemd", "system", "kith-backup.service"),
                  os.path.join(root, "lib", "systemd", "system", "kith-backup.timer"),
                  os.path.join(self.dest, "etc", "kith", "kith.env.example"),
                  os.path.join(root, "share", "doc", "kith", "deploy.md")):
            self.assertTrue(os.path.isfile(f), "make install did not write %s" % f)
        # Nothing is written outside DESTDIR's tree, and no real config is made.
        self.assertFalse(os.path.exists(os.path.join(self.dest, "etc", "kith", "kith.conf")))
        with open(os.path.join(self.dest, "etc", "kith", "kith.env.example"), "rb"):
            pass
        self.assertEqual(os.stat(os.path.join(self.dest, "etc", "kith", "kith.env.example")).st_mode
                         & 0o077, 0, "the secrets template is readable by others")
        # The installed binary runs, and its unit starts it by its installed path.
        p = run([kith, "--version"])
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertRegex(p.stdout.decode(), r"^kith \d+\.\d+\.\d+\n$")
        text = open(unit).read()
        self.assertIn("\nExecStart=%s/bin/kith serve --config /etc/kith/kith.conf\n" % prefix, text)
        self.assertIn("\nType=notify\n", text)
        # The installed manual page is the committed one.
        self.assertEqual(open(man).read(), open(os.path.join(SRC, "docs", "kith.1")).read())


class ExampleConfigTest(unittest.TestCase):
    def test_example_config_is_accepted(self):
        path = os.path.join(SRC, "packaging", "kith.conf.example")
        p = run([KITH_BIN, "config", "check", "--config", path],
                env={k: v for k, v in os.environ.items() if not k.startswith("KITH_")})
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        out = p.stdout.decode()
        # What the unit relies on: loopback behind the proxy, the state directory, the proxy.
        self.assertRegex(out, r"(?m)^listen = 127\.0\.0\.1:8080 +# file .*kith\.conf\.example:\d+$")
        self.assertRegex(out, r"(?m)^db = /var/lib/kith/kith\.db +# file ")
        self.assertRegex(out, r"(?m)^public_url = https://")
        self.assertRegex(out, r"(?m)^trusted_proxies = 127\.0\.0\.1/32, ::1/128 +# file ")
        self.assertRegex(out, r"(?m)^hash_key_file = /var/lib/kith/hash\.key +# file ")

    def test_a_bad_example_would_be_refused(self):
        # The check above can fail: the same file with one bad value is refused.
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(open(os.path.join(SRC, "packaging", "kith.conf.example")).read()
                    .replace("listen = 127.0.0.1:8080", "listen = 127.0.0.1:99999"))
        self.addCleanup(os.unlink, f.name)
        p = run([KITH_BIN, "config", "check", "--config", f.name])
        self.assertEqual(p.returncode, 2, p.stdout.decode())


class ManPageTest(unittest.TestCase):
    def test_renders_without_warnings(self):
        groff = shutil.which("groff")
        self.assertIsNotNone(groff, "groff is not installed: apt-get install groff-base "
                                    "(scripts/deps.sh)")
        p = run([groff, "-man", "-Tutf8", "-ww", "-z", os.path.join(SRC, "docs", "kith.1")])
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stderr.decode(), "", "groff warnings")
        text = run([groff, "-man", "-Tutf8", os.path.join(SRC, "docs", "kith.1")]).stdout.decode()
        text = re.sub(r".\x08", "", text)  # overstrikes (bold, underline)
        for want in ("kith import participants", "--trusted-proxies", "KITH_HASH_KEY_FILE",
                     "/etc/kith/kith.conf", "STOPPING=1"):
            self.assertIn(want, text.replace("\u2010", "-").replace("\u2212", "-"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
