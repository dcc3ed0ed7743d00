"""systemd readiness without systemd (issue 16, packaging/kith.service is Type=notify): kith
speaks the sd_notify protocol to the datagram socket NOTIFY_SOCKET names. READY=1 comes only
once the database is migrated and the server answers (/healthz answers the moment the
notification arrives), STOPPING=1 when SIGTERM starts the graceful stop, and a start that fails
says nothing."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import STOP_TIMEOUT, Server  # noqa: E402


class NotifySocket:
    """A datagram socket where a service manager would listen, at a path of our own."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kith-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if "=" in line), data

    def pending(self):
        self.sock.setblocking(False)
        try:
            return self.sock.recv(4096).decode()
        except BlockingIOError:
            return None

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class SystemdNotifyTest(unittest.TestCase):
    def setUp(self):
        self.notify = NotifySocket()
        self.addCleanup(self.notify.close)

    def test_ready_once_healthz_answers_then_stopping(self):
        srv = Server(test_clock=False, start=False, env={"NOTIFY_SOCKET": self.notify.path})
        starter = threading.Thread(target=srv.start)
        starter.start()
        try:
            fields, raw = self.notify.recv(timeout=60)
            # Nothing else first: this is the moment a service manager would send traffic.
            m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", fields.get("STATUS", ""))
            self.assertIsNotNone(m, "STATUS names the address: %r" % raw)
            conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            body = r.read()
            conn.close()
            self.assertEqual(fields.get("READY"), "1", "the first notification is READY=1: %r" % raw)
            self.assertEqual(r.status, 200, body)
            self.assertEqual(json.loads(body), {"status": "ok"})
        finally:
            starter.join(60)
        self.assertEqual(srv.port, int(m.group(1)))
        self.assertIsNone(self.notify.pending(), "one READY=1, nothing more while running")

        srv.proc.send_signal(signal.SIGTERM)
        fields, raw = self.notify.recv(timeout=STOP_TIMEOUT)
        self.assertEqual(fields.get("STOPPING"), "1", raw)
        rc = srv.proc.wait(STOP_TIMEOUT)
        srv._forget()
        srv.check_sanitizers()
        self.assertEqual(rc, 0, srv.log_tail())

    def test_a_failed_start_is_never_ready(self):
        srv = Server(test_clock=False, start=False,
                     env={"NOTIFY_SOCKET": self.notify.path, "KITH_TRUSTED_PROXIES": "nonsense"})
        with self.assertRaises(AssertionError):
            srv.start()  # exits before listening
        self.assertIsNone(self.notify.pending(), "no READY=1 from a start that failed")

    def test_without_notify_socket_nothing_changes(self):
        srv = Server(test_clock=False)  # no NOTIFY_SOCKET: sd_notify is a no-op
        try:
            r = srv.get("/healthz", key=None)
            self.assertEqual(r.status, 200)
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
