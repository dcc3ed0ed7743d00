"""kith behind a real nginx (issue 16; contract sections 4 v2 and 24; docs/deploy.md). Debian's
nginx runs in the foreground from a generated config in a temp dir, on an ephemeral port, and
proxies to kith the way docs/deploy.md tells a user to: `X-Forwarded-For
$proxy_add_x_forwarded_for` and `X-Forwarded-Proto https` (nginx would terminate TLS; here the
test speaks plain HTTP to it and nginx says https, as it would).

Everything runs on loopback, so addresses tell the parties apart, all inside 127.0.0.0/8:
- nginx connects to kith from 127.0.0.3 (`proxy_bind 127.0.0.3`), and kith trusts exactly
  `--trusted-proxies 127.0.0.3/32`;
- "people" reach nginx from their own source addresses, 127.0.0.10, .11, .12 (the client socket
  is bound to them), which nginx forwards in X-Forwarded-For;
- the test's direct requests to kith come from 127.0.0.1: not a trusted proxy, so a forged
  X-Forwarded-For or X-Forwarded-Proto from there must mean nothing.
So "counted for the address nginx forwarded" is observable through the per-address click cap
(contract section 4: more than 30 counted clicks a minute from one address on one code are
redirected without being counted): 127.0.0.10 is capped after 30 while 127.0.0.11 still counts;
if kith took nginx's own address, both would share one cap. SQLite only: what is tested is the
transport, the same on both back-ends."""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from kithtest import KithTestCase, poll, skip_on_pg, uid  # noqa: E402

UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) kithtest"}
PROXY_SOURCE = "127.0.0.3"

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{kith_port};
            proxy_bind {proxy_source};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


def nginx_binary():
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        # deps.sh installs it; a machine without it fails loudly rather than skipping in silence.
        raise AssertionError("nginx not found: apt-get install nginx (scripts/deps.sh)")
    return found


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self, kith_port):
        self.dir = tempfile.mkdtemp(prefix="kith-nginx-")
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.proc = None
        for attempt in range(5):  # the free port may be taken between the probe and nginx
            self.port = free_port()
            with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
                f.write(NGINX_CONF.format(dir=self.dir, port=self.port, kith_port=kith_port,
                                          proxy_source=PROXY_SOURCE))
            self.proc = subprocess.Popen(
                [nginx_binary(), "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
                 "-e", os.path.join(self.dir, "error.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            if self._wait_listening():
                return
        raise AssertionError("nginx did not start; its log:\n" + self.log())

    def _wait_listening(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()
        return False

    def log(self):
        try:
            return open(os.path.join(self.dir, "error.log")).read()[-4000:]
        except OSError:
            return "(no error.log)"

    def get(self, path, source, headers=None):
        """GET through nginx from the loopback address `source`."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                          source_address=(source, 0))
        try:
            conn.request("GET", path, headers=dict(UA, **(headers or {})))
            r = conn.getresponse()
            r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def cookie(headers):
    m = re.match(r"kith_ref=([^;]+)", headers.get("set-cookie", ""))
    return m.group(1) if m else None


@skip_on_pg("the proxy path is the transport's, the same on both back-ends")
class NginxTest(KithTestCase):
    server_kwargs = {"test_clock": True, "env": {"KITH_TRUSTED_PROXIES": PROXY_SOURCE + "/32"}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nginx = Nginx(cls.server.port)

    @classmethod
    def tearDownClass(cls):
        nginx = getattr(cls, "nginx", None)
        if nginx:
            nginx.stop()
        super().tearDownClass()

    def setUp(self):
        self.pid = self.s.make_program()["id"]

    def stats_clicks(self, participant):
        return self.s.participant(participant["id"])["stats"]["clicks"]

    def test_a_click_through_nginx_gets_a_secure_cookie(self):
        ann = self.s.make_participant(self.pid, first_name="Ann")
        status, h = self.nginx.get("/r/" + ann["code"], "127.0.0.20")
        self.assertEqual(status, 302, h)
        self.assertIn("ref=" + ann["code"], h["location"])
        self.assertIsNotNone(cookie(h), h)
        self.assertIn("; Secure", h["set-cookie"], "X-Forwarded-Proto https from the proxy")
        self.assertIn("HttpOnly", h["set-cookie"])
        # The same claim straight to kith, from an address it does not trust: no Secure.
        r = self.s.click(ann["code"], headers={"X-Forwarded-Proto": "https"})
        self.assertStatus(r, 302)
        self.assertIsNotNone(cookie(r.headers))
        self.assertNotIn("Secure", r.headers["set-cookie"])
        # The proxy's own health check passes through too.
        status, h = self.nginx.get("/healthz", "127.0.0.20")
        self.assertEqual(status, 200)

    def test_the_click_cap_counts_the_address_nginx_forwarded(self):
        s = self.s
        ben = s.make_participant(self.pid, first_name="Ben")
        code = ben["code"]
        s.clock_set(s.clock_now().strftime("%Y-%m-%dT%H:%M:00Z"))  # all in one minute
        got = []
        for i in range(33):
            status, h = self.nginx.get("/r/" + code, "127.0.0.10")
            self.assertEqual(status, 302, h)
            self.assertIn("ref=" + code, h["location"], "capped clicks still attribute")
            got.append(cookie(h))
        self.assertTrue(all(got[:30]), "the first 30 clicks from 127.0.0.10 count: %r" % got[:30])
        self.assertEqual(got[30:], [None] * 3, "past 30 a minute from 127.0.0.10: not counted")
        # Another person behind the same nginx still counts: kith did not take nginx's address.
        status, h = self.nginx.get("/r/" + code, "127.0.0.11")
        self.assertIsNotNone(cookie(h), "127.0.0.11 has a cap of its own")
        # A client that forges X-Forwarded-For to nginx: nginx appends the real address, and
        # kith takes the right-most address that is not a trusted proxy, 127.0.0.12.
        status, h = self.nginx.get("/r/" + code, "127.0.0.12", {"X-Forwarded-For": "127.0.0.11"})
        self.assertIsNotNone(cookie(h), "counted for 127.0.0.12, which is not capped")
        status, h = self.nginx.get("/r/" + code, "127.0.0.13", {"X-Forwarded-For": "127.0.0.10"})
        self.assertIsNotNone(cookie(h), "a forged capped address does not cap 127.0.0.13")
        # Straight to kith from 127.0.0.1 (not a proxy) claiming to be the capped 127.0.0.10:
        # the header means nothing, the click is 127.0.0.1's and counts.
        r = s.click(code, headers={"X-Forwarded-For": "127.0.0.10"})
        self.assertStatus(r, 302)
        self.assertIsNotNone(cookie(r.headers), "a forged X-Forwarded-For from a non-proxy")
        s.settle_clicks()
        self.assertEqual(self.stats_clicks(ben), 30 + 1 + 1 + 1 + 1)
        # A new minute: 127.0.0.10 counts again.
        s.clock_advance(60)
        status, h = self.nginx.get("/r/" + code, "127.0.0.10")
        self.assertIsNotNone(cookie(h))


if __name__ == "__main__":
    unittest.main(verbosity=2)
