"""The hashing key kept outside the database (KITH_HASH_KEY_FILE, issue 10 item 8): created with
mode 0600 on first start, or moved out of an existing database; hashes keep matching across
restarts and the move; a start without the file, with another key, or with a file others may read
is refused."""
import os
import stat
import sys
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import Server, uid  # noqa: E402

IP = "198.51.100.61"


class HashKeyFileTest(unittest.TestCase):
    def same_ip_flagged(self, s, pid, referrer):
        r = s.signup(pid, code=referrer["code"], first_name="Sol", email=uid("s") + "@example.com", ip=IP)
        self.assertEqual(r.status, 201, repr(r))
        return "same_ip" in r.body["referral"]["fraud"]["flags"]

    def db_holds_key(self, s, hexkey):
        if s.is_pg:
            return hexkey in s.pg("SELECT value FROM meta")
        for path in s.db_files():
            with open(path, "rb") as f:
                if hexkey.encode() in f.read():
                    return True
        return False

    def start_fails(self, s, needle):
        with self.assertRaises(AssertionError) as ctx:
            s.start()
        self.assertIn(needle, str(ctx.exception))

    def test_new_database_creates_the_file(self):
        s = Server(start=False)
        keyfile = os.path.join(s.dir, "hash.key")
        s.extra_env["KITH_HASH_KEY_FILE"] = keyfile
        s.start()
        try:
            mode = stat.S_IMODE(os.stat(keyfile).st_mode)
            self.assertEqual(mode, 0o600)
            hexkey = open(keyfile).read().strip()
            self.assertRegex(hexkey, r"^[0-9a-f]{64}$")
            self.assertFalse(self.db_holds_key(s, hexkey), "the key is in the database too")
            pid = s.make_program(fraud={"review_at": 1, "reject_at": 9})["id"]
            ref = s.make_participant(pid, first_name="Rae", email=uid("r") + "@example.com", ip=IP)
            s.clock_advance(25 * 3600)
            s.restart()
            self.assertTrue(self.same_ip_flagged(s, pid, ref), "hashes changed across a restart")
            s.stop()
            del s.extra_env["KITH_HASH_KEY_FILE"]
            self.start_fails(s, "KITH_HASH_KEY_FILE")
            os.chmod(keyfile, 0o644)
            s.extra_env["KITH_HASH_KEY_FILE"] = keyfile
            self.start_fails(s, "chmod 600")
            os.chmod(keyfile, 0o600)
            with open(keyfile, "w") as f:
                f.write("ab" * 32 + "\n")
            self.start_fails(s, "another key")
        finally:
            if s.proc is not None:
                s.stop()

    def test_existing_database_key_moves_into_the_file(self):
        s = Server()
        try:
            pid = s.make_program(fraud={"review_at": 1, "reject_at": 9})["id"]
            ref = s.make_participant(pid, first_name="Rae", email=uid("r") + "@example.com", ip=IP)
            s.clock_advance(25 * 3600)
            s.stop()
            keyfile = os.path.join(s.dir, "moved.key")
            s.extra_env["KITH_HASH_KEY_FILE"] = keyfile
            s.start()
            hexkey = open(keyfile).read().strip()
            self.assertFalse(self.db_holds_key(s, hexkey), "the key stayed in the database")
            self.assertTrue(self.same_ip_flagged(s, pid, ref), "the moved key hashes differently")
        finally:
            if s.proc is not None:
                s.stop()


if __name__ == "__main__":
    unittest.main()
