"""kith backup (contract section 24): a consistent copy of a live SQLite database, taken under
write load, passes PRAGMA integrity_check and holds every write acknowledged before it began."""
import os
import sqlite3
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KITH_BIN, Conn, KithTestCase, skip_on_pg, uid  # noqa: E402


@skip_on_pg("kith backup copies SQLite files; PostgreSQL is backed up with pg_dump")
class BackupTest(KithTestCase):
    def test_backup_under_write_load(self):
        s = self.s
        pid = s.make_program()["id"]
        acked = []  # (sequence, external_id) acknowledged with 201
        lock = threading.Lock()
        stop = threading.Event()
        seq = [0]

        def writer():
            with Conn(s) as c:
                while not stop.is_set():
                    ext = uid("b")
                    r = c.request("POST", "/v1/signups", {"program": pid, "external_id": ext})
                    with lock:
                        if r.status == 201:
                            seq[0] += 1
                            acked.append((seq[0], ext))

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            while True:
                with lock:
                    if len(acked) >= 50:
                        before = set(e for _, e in acked)
                        break
            out = os.path.join(s.dir, "backup.db")
            p = subprocess.run([KITH_BIN, "backup", "--db", s.db, out], capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=120)
            with lock:
                during = len(acked)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertFalse(os.path.exists(out + ".partial"))
        db = sqlite3.connect(out)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            have = set(r[0] for r in db.execute("SELECT external_id FROM participants"))
        finally:
            db.close()
        missing = before - have
        self.assertFalse(missing, "acknowledged before the backup began, missing from it: %d of %d"
                         % (len(missing), len(before)))
        self.assertGreater(during, len(before), "the load did not go on during the backup")
        # the backup is a kith database: a server starts on it and serves what it holds
        p = subprocess.run([KITH_BIN, "backup", "--db", s.db, out], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertNotEqual(p.returncode, 0, "an existing file was overwritten")

    def test_refuses_postgres_urls(self):
        p = subprocess.run([KITH_BIN, "backup", "--db", "postgres://u@127.0.0.1:1/x", "/tmp/x.db"],
                           capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"pg_dump", p.stderr)


if __name__ == "__main__":
    unittest.main()
