"""The `kith` command's configuration, black-box (the contract's section 24): --version, --help from
the config table, `kith config check`, the config file and its precedence, refusal of bad values
before anything is created, and the log settings (level, format) on a running server.

Run by ctest as cli_test_config with KITH_BIN set; standalone: KITH_BIN=build/kith python3 this.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

KITH_BIN = os.path.abspath(os.environ.get("KITH_BIN", "build/kith"))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITH_")}
    env.update(extra)
    return env


def kith(*args, env=None, cwd=None):
    return subprocess.run([KITH_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=env if env is not None else clean_env(), cwd=cwd)


class ConfigCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kith-cli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def test_version(self):
        for args in (["--version"], ["version"]):
            r = kith(*args)
            self.assertEqual(r.returncode, 0, r)
            self.assertRegex(r.stdout, r"^kith \d+\.\d+\.\d+\n$")

    def test_help_lists_every_setting(self):
        docs = kith("config", "docs")
        self.assertEqual(docs.returncode, 0, docs)
        envs = re.findall(r"`(KITH_[A-Z_]+)`", docs.stdout)
        self.assertIn("KITH_WEBHOOK_ALLOW_CIDRS", envs)
        self.assertIn("KITH_LOG_FORMAT", envs)
        for args in (["--help"], ["help"]):
            r = kith(*args)
            self.assertEqual(r.returncode, 0, r)
            for e in set(envs):
                self.assertIn(e, r.stdout, args)
        serve = kith("serve", "--help")
        self.assertEqual(serve.returncode, 0, serve)
        self.assertIn("--db-sync full|pipelined", serve.stdout)
        keys = kith("keys", "create", "--help")
        self.assertEqual(keys.returncode, 0, keys)
        self.assertNotIn("--listen", keys.stdout)
        self.assertIn("--db", keys.stdout)

    def test_bad_cidrs_refused_before_the_database_is_created(self):
        db = self.path("never.db")
        r = kith("serve", "--db", db, "--listen", "127.0.0.1:0",
                 env=clean_env(KITH_WEBHOOK_ALLOW_CIDRS="127.0.0.0/8,bogus"))
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("KITH_WEBHOOK_ALLOW_CIDRS", r.stderr)
        self.assertIn('"bogus"', r.stderr)
        self.assertFalse(os.path.exists(db), "the database was created before validation")
        r = kith("keys", "create", "--db", db, env=clean_env(KITH_LOG_LEVEL="loud"))
        self.assertEqual(r.returncode, 2, r)
        self.assertFalse(os.path.exists(db))

    def test_config_check_redacts_and_names_sources(self):
        conf = self.write("kith.conf", "# settings\n"
                                       "listen = 0.0.0.0:9999\n"
                                       "db = postgres://kith:hunter2@db.example:5432/kith\n"
                                       "log_level = warn   # quiet\n")
        r = kith("config", "check", "--config", conf, "--log-level", "debug",
                 env=clean_env(KITH_SECRET_KEY="sk_test_topsecret", KITH_DB_SYNC="pipelined"))
        self.assertEqual(r.returncode, 0, r)
        out = r.stdout
        self.assertNotIn("topsecret", out)
        self.assertNotIn("hunter2", out)
        self.assertRegex(out, r"(?m)^secret_key = \(redacted\) +# environment KITH_SECRET_KEY$")
        self.assertRegex(out, r"(?m)^listen = 0\.0\.0\.0:9999 +# file .*kith\.conf:2$")
        self.assertRegex(out, r"(?m)^db = postgres://kith:\*\*\*@db\.example:5432/kith +# file")
        self.assertRegex(out, r"(?m)^log_level = debug +# flag --log-level$")
        self.assertRegex(out, r"(?m)^db_sync = pipelined +# environment KITH_DB_SYNC$")
        self.assertRegex(out, r"(?m)^smtp_from = kith@localhost +# default$")
        self.assertEqual(os.listdir(self.dir), ["kith.conf"], "check created something")

    def test_config_file_errors_carry_the_line(self):
        conf = self.write("bad.conf", "listen = 127.0.0.1:0\n\ndb_sync = sometimes\n")
        r = kith("config", "check", env=clean_env(KITH_CONFIG=conf))
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("bad.conf:3", r.stderr)
        self.assertIn("full, pipelined", r.stderr)
        conf = self.write("bad.conf", "lissten = 127.0.0.1:0\n")
        r = kith("serve", "--config", conf, "--db", self.path("x.db"))
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("bad.conf:1: unknown setting 'lissten'", r.stderr)
        self.assertFalse(os.path.exists(self.path("x.db")))

    def test_keys_create_reads_the_file(self):
        db = self.path("k.db")
        conf = self.write("k.conf", "db = %s\n" % db)
        r = kith("keys", "create", "--publishable", "--config", conf)
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"^pk_\S+\n$")
        self.assertTrue(os.path.exists(db))

    def serve(self, **env):
        log = open(self.path("kith.log"), "w+")
        args = [KITH_BIN, "serve", "--listen", "127.0.0.1:0", "--db", self.path("s.db")]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log,
                                env=clean_env(KITH_SECRET_KEY="sk_test_cli", **env))
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            log.seek(0)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
            if m:
                port = int(m.group(1))
            elif proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                self.fail("kith did not start: " + log.read())
            else:
                time.sleep(0.05)
        for _ in range(3):
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=30) as r:
                self.assertEqual(r.status, 200)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(60), 0)
        log.seek(0)
        text = log.read()
        log.close()
        return text

    def test_log_level_warn_silences_the_access_log(self):
        text = self.serve()
        self.assertIn("access method=GET route=healthz status=200", text)
        self.assertIn("level=info", text)
        text = self.serve(KITH_LOG_LEVEL="warn")
        self.assertNotIn("access ", text)
        self.assertNotIn("level=info", text)

    def test_log_format_json(self):
        text = self.serve(KITH_LOG_FORMAT="json")
        objects = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        self.assertTrue(any(o.get("comp") == "server" and o.get("level") == "info"
                            for o in objects), text)
        for o in objects:
            self.assertIn("ts", o)


if __name__ == "__main__":
    unittest.main(verbosity=2)
