"""kithtest: the black-box harness for kith's HTTP contract (Python 3.11 standard library only).

It starts the real `kith serve` binary ($KITH_BIN, default build/kith of this checkout) on 127.0.0.1
with an ephemeral port, a temporary SQLite database and a random bootstrap secret key, then
speaks HTTP to it exactly as a business's backend would. It is not a client library: helpers
return raw statuses, headers and bodies so tests can assert the contract byte for byte.

Environment:
  KITH_BIN            the binary to test
  KITH_TEST_KEEP=1    keep temp dirs (database, logs) after the run, for debugging
  KITH_TEST_TIMEOUT   per-request timeout in seconds (default 60; ASan builds are slow)
  KITH_TEST_PG_URL    run against PostgreSQL instead of SQLite: a server URL without a database,
                      e.g. postgres://postgres@127.0.0.1:25432 (scripts/pg-cluster.sh url). Each
                      Server then gets a fresh database kith_t_<random> on that server (created
                      with psql, dropped when the test process exits) and kith is started with
                      --db <url>/<database>. Unset: SQLite, exactly as before.
"""

import atexit
import datetime as _dt
import glob
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

KITH_BIN = os.environ.get("KITH_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build", "kith")
REQUEST_TIMEOUT = float(os.environ.get("KITH_TEST_TIMEOUT", "60"))
START_TIMEOUT = 20.0
STOP_TIMEOUT = 30.0
KEEP = os.environ.get("KITH_TEST_KEEP") == "1"
PG_URL = (os.environ.get("KITH_TEST_PG_URL") or "").strip().rstrip("/") or None
IS_PG = PG_URL is not None

LISTEN_RE = re.compile(r"kith: listening on 127\.0\.0\.1:(\d+)")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CODE_RE = re.compile(r"^[A-Z]{1,4}-[0-9]{4}$")

_live_servers = []
_temp_dirs = []
_pg_databases = []
_counter = itertools.count(1)
_lock = threading.Lock()


def _cleanup():
    for srv in list(_live_servers):
        try:
            srv.proc.kill()
            srv.proc.wait(5)
        except Exception:
            pass
    if not KEEP:
        for d in _temp_dirs:
            shutil.rmtree(d, ignore_errors=True)
        for name in _pg_databases:
            try:
                pg_sql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, timeout=30)
            except Exception:
                pass  # best effort: the throwaway cluster goes away anyway
    else:
        if _temp_dirs:
            sys.stderr.write("kithtest: kept temp dirs: %s\n" % " ".join(_temp_dirs))
        if _pg_databases:
            sys.stderr.write("kithtest: kept PostgreSQL databases on %s: %s\n"
                             % (PG_URL, " ".join(_pg_databases)))


atexit.register(_cleanup)


def pg_tool(name):
    """Path of a PostgreSQL client program (psql, pg_dump): PATH, then /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name),
                   key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0), reverse=True)
    if cands:
        return cands[0]
    raise AssertionError("KITH_TEST_PG_URL is set but %s was not found (apt-get install "
                         "postgresql-client)" % name)


def pg_sql(sql, database="postgres", timeout=60):
    """Runs one SQL statement with psql against KITH_TEST_PG_URL/<database>; returns stdout."""
    assert PG_URL, "pg_sql needs KITH_TEST_PG_URL"
    p = subprocess.run([pg_tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", "%s/%s" % (PG_URL, database), "-c", sql],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("psql %s/%s -c %r failed (%d): %s"
                             % (PG_URL, database, sql, p.returncode,
                                p.stderr.decode(errors="replace")))
    return p.stdout.decode(errors="replace")


def pg_create_database():
    """A fresh, empty database on KITH_TEST_PG_URL -> its name (dropped at exit)."""
    name = "kith_t_" + secrets.token_hex(6)
    pg_sql('CREATE DATABASE "%s"' % name)
    with _lock:
        _pg_databases.append(name)
    return name


def skip_on_pg(reason):
    """Decorator: skips a test (or class) in the PostgreSQL run, saying why."""
    return unittest.skipIf(IS_PG, "not applicable on PostgreSQL (KITH_TEST_PG_URL): " + reason)


def pg_only(test):
    """Decorator: runs a test (or class) only in the PostgreSQL run."""
    return unittest.skipUnless(IS_PG, "needs PostgreSQL: set KITH_TEST_PG_URL "
                                      "(scripts/pg-cluster.sh start; scripts/pg-cluster.sh url)")(test)


def uid(prefix="x"):
    """A unique, lowercase, slug-safe identifier for this process."""
    with _lock:
        n = next(_counter)
    return "%s-%d-%s" % (prefix, n, secrets.token_hex(3))


def parse_time(s):
    """RFC 3339 UTC with seconds and Z -> aware datetime (asserts the format)."""
    if not isinstance(s, str) or not TIME_RE.match(s):
        raise AssertionError("not an RFC 3339 UTC time with seconds and Z: %r" % (s,))
    return _dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)


def fmt_time(d):
    return d.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def poll(fn, timeout, what, interval=0.05):
    """Calls fn() until it returns a truthy value, and returns that value. After `timeout`
    seconds: AssertionError naming `what` and fn's last value. For waiting FOR something that
    must happen; a poll that times out into "so it did not happen" proves nothing."""
    deadline = time.monotonic() + timeout
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s (last: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


PROM_LINE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$")
PROM_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Resp:
    """One HTTP response. Unpacks as (status, headers, body) like a tuple."""

    def __init__(self, method, path, status, header_list, raw):
        self.method = method
        self.path = path
        self.status = status
        self.header_list = [(k.lower(), v) for k, v in header_list]
        self.headers = {}
        for k, v in self.header_list:
            self.headers[k] = v  # last wins; use all_headers() for repeated ones
        self.raw = raw
        ctype = self.headers.get("content-type", "")
        self.body = None
        if "json" in ctype and raw:
            try:
                self.body = json.loads(raw.decode("utf-8"))
            except Exception as e:
                raise AssertionError("%s %s -> %d: Content-Type %s but body is not JSON (%s): %r"
                                     % (method, path, status, ctype, e, raw[:500]))
        else:
            self.body = raw.decode("utf-8", errors="replace")

    def all_headers(self, name):
        return [v for k, v in self.header_list if k == name.lower()]

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __getitem__(self, i):
        return (self.status, self.headers, self.body)[i]

    def __repr__(self):
        body = self.body if not isinstance(self.body, str) else self.body[:300]
        return "<%s %s -> %d %s>" % (self.method, self.path, self.status,
                                     json.dumps(body)[:1500] if body is not None else "")


class ServerDied(AssertionError):
    pass


class Server:
    """A `kith serve` process with its own temp dir, database and secret key.

    shared_db_of=<Server>: a second instance on the same database as that server (its SQLite
    file, or its PostgreSQL database), with its own temp dir, log and port, and by default the
    same bootstrap secret key."""

    def __init__(self, test_clock=True, public_url=None, env=None, extra_args=None,
                 secret=None, start=True, shared_db_of=None):
        self.dir = tempfile.mkdtemp(prefix="kith-api-")
        _temp_dirs.append(self.dir)
        self.pg_database = None
        if shared_db_of is not None:
            self.db = shared_db_of.db
            self.pg_database = shared_db_of.pg_database
            if secret is None:
                secret = shared_db_of.secret
        elif IS_PG:
            self.pg_database = pg_create_database()
            self.db = "%s/%s" % (PG_URL, self.pg_database)
        else:
            self.db = os.path.join(self.dir, "kith.db")
        self._dumps = 0
        self.log_path = os.path.join(self.dir, "kith.log")
        self.out_path = os.path.join(self.dir, "kith.out")
        self.secret = secret or ("sk_test_" + secrets.token_hex(16))
        self.test_clock = test_clock
        self.public_url = public_url
        self.extra_env = dict(env or {})
        self.extra_args = list(extra_args or [])
        self.proc = None
        self.port = None
        self.starts = 0
        if start:
            self.start()

    # ---- process lifecycle -------------------------------------------------------------------
    def _env(self):
        env = dict(os.environ)
        for k in ("KITH_LISTEN", "KITH_DB", "KITH_PUBLIC_URL"):
            env.pop(k, None)
        env["KITH_SECRET_KEY"] = self.secret
        env.update(self.extra_env)
        return env

    def start(self):
        assert self.proc is None, "server already running"
        if not os.path.exists(KITH_BIN):
            if os.environ.get("KITH_BIN"):
                raise AssertionError("KITH_BIN=%s does not exist" % KITH_BIN)
            raise unittest.SkipTest("kith binary not found at %s (set KITH_BIN)" % KITH_BIN)
        args = [KITH_BIN, "serve", "--listen", "127.0.0.1:0", "--db", self.db]
        if self.test_clock:
            args.append("--test-clock")
        if self.public_url:
            args += ["--public-url", self.public_url]
        args += self.extra_args
        with open(self.log_path, "ab") as f:
            f.write(("=== kithtest: start #%d: %s\n" % (self.starts + 1, " ".join(args))).encode())
            offset = f.tell()
        log = open(self.log_path, "ab")
        out = open(self.out_path, "ab")
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=log,
                                         env=self._env(), cwd=self.dir)
        finally:
            log.close()
            out.close()
        _live_servers.append(self)
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", errors="replace")
            m = LISTEN_RE.search(text)
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._forget()
                raise AssertionError("kith exited with %s before listening; log tail:\n%s"
                                     % (rc, self.log_tail()))
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self._forget()
                raise AssertionError("kith did not print its listening line within %ss; log tail:"
                                     "\n%s" % (START_TIMEOUT, self.log_tail()))
            time.sleep(0.05)
        return self

    def _forget(self):
        if self in _live_servers:
            _live_servers.remove(self)
        self.proc = None

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def public(self):
        return self.public_url or self.base_url

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT)
        self._forget()

    def signal_stop(self, sig=signal.SIGTERM):
        """Sends sig and waits; returns the exit code (no assertion)."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._forget()
            raise AssertionError("kith did not exit within %ss of signal %s; log tail:\n%s"
                                 % (STOP_TIMEOUT, sig, self.log_tail()))
        self._forget()
        return rc

    def stop(self, sig=signal.SIGTERM):
        """Graceful stop; asserts exit 0 and a log free of sanitizer reports."""
        if self.proc is None:
            return
        rc = self.signal_stop(sig)
        self.check_sanitizers()
        if rc != 0:
            raise AssertionError("kith exited %s after %s (expected 0); log tail:\n%s"
                                 % (rc, signal.Signals(sig).name, self.log_tail()))

    def check_sanitizers(self):
        text = self.log_text()
        for needle in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if needle in text:
                i = text.index(needle)
                raise AssertionError("sanitizer report in kith's log:\n%s" % text[max(0, i - 200):i + 4000])

    def restart(self):
        """Starts again on the same database (after kill9() or stop())."""
        if self.proc is not None:
            self.stop()
        return self.start()

    def log_text(self):
        parts = []
        for p in (self.log_path, self.out_path):
            try:
                with open(p, "rb") as f:
                    parts.append(f.read().decode("utf-8", errors="replace"))
            except FileNotFoundError:
                pass
        return "\n".join(parts)

    def log_bytes(self):
        data = b""
        for p in (self.log_path, self.out_path):
            try:
                with open(p, "rb") as f:
                    data += f.read()
            except FileNotFoundError:
                pass
        return data

    def log_tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    @property
    def is_pg(self):
        """True when this server runs on PostgreSQL (KITH_TEST_PG_URL), not a SQLite file."""
        return self.pg_database is not None

    def db_files(self):
        """Paths of the database files that exist now: kith.db, -wal, -shm (and -journal).

        On PostgreSQL there is no file of kith's own: the byte searches then get one file, a
        fresh plain-text pg_dump of the database (every live row as PostgreSQL stores it). That
        checks what kith keeps, not what PostgreSQL's heap and WAL still hold of dead rows
        until a VACUUM, which no application can promise."""
        if self.is_pg:
            return [self.pg_dump()]
        return [p for p in (self.db, self.db + "-wal", self.db + "-shm", self.db + "-journal")
                if os.path.exists(p)]

    def pg_dump(self):
        """PostgreSQL only: dumps this server's database (schema and data) -> the file's path."""
        assert self.is_pg, "pg_dump needs a PostgreSQL-backed server"
        self._dumps += 1
        path = os.path.join(self.dir, "pgdump-%d.sql" % self._dumps)
        p = subprocess.run([pg_tool("pg_dump"), "--no-owner", "--no-privileges", "-f", path,
                            "-d", self.db], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=120)
        if p.returncode != 0:
            raise AssertionError("pg_dump %s failed (%d): %s"
                                 % (self.db, p.returncode, p.stderr.decode(errors="replace")))
        return path

    def pg(self, sql):
        """PostgreSQL only: runs one SQL statement on this server's database -> psql's output
        (unaligned, tuples only). For tests that must look behind the API."""
        assert self.is_pg, "pg() needs a PostgreSQL-backed server"
        return pg_sql(sql, database=self.pg_database)

    def keys_create(self, publishable=False):
        args = [KITH_BIN, "keys", "create", "--db", self.db]
        if publishable:
            args.append("--publishable")
        env = self._env()
        env.pop("KITH_SECRET_KEY", None)
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           cwd=self.dir, timeout=120)
        if p.returncode != 0:
            raise AssertionError("kith keys create failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
        lines = [l for l in p.stdout.decode().splitlines() if l.strip()]
        if len(lines) != 1:
            raise AssertionError("kith keys create: expected one line on stdout, got %r" % p.stdout)
        return lines[0].strip()

    # ---- HTTP ----------------------------------------------------------------------------------
    def _died(self, method, path, exc):
        rc = self.proc.poll() if self.proc else "n/a"
        return ServerDied("%s %s failed: %r (kith exit status: %s); log tail:\n%s"
                          % (method, path, exc, rc, self.log_tail()))

    def _headers(self, headers, key, body_bytes):
        h = {}
        if key:
            h["Authorization"] = "Bearer " + key
        if body_bytes is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return {k: v for k, v in h.items() if v is not None}

    @staticmethod
    def _encode(body, raw_body):
        if raw_body is not None:
            return raw_body if isinstance(raw_body, bytes) else raw_body.encode()
        if body is not None:
            return json.dumps(body).encode()
        return None

    def request(self, method, path, body=None, headers=None, key="default", raw_body=None,
                timeout=None):
        """One request on a fresh connection -> Resp (unpacks to status, headers, body)."""
        if key == "default":
            key = self.secret
        data = self._encode(body, raw_body)
        h = self._headers(headers, key, data)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            raw = r.read()
            return Resp(method, path, r.status, r.getheaders(), raw)
        except (ConnectionError, socket.timeout, http.client.HTTPException) as e:
            raise self._died(method, path, e)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        if body is None and kw.get("raw_body") is None:
            body = {}
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def connection(self):
        return Conn(self)

    def raw_exchange(self, data, timeout=None):
        """Sends raw bytes on a fresh socket; returns (status, headers dict, body bytes).
        Tolerates the server answering and closing before it read everything (e.g. 413)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout or REQUEST_TIMEOUT)
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
                buf = b"".join(chunks)
                if b"\r\n\r\n" in buf:
                    head, _, rest = buf.partition(b"\r\n\r\n")
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    if m and len(rest) >= int(m.group(1)):
                        break
            buf = b"".join(chunks)
        finally:
            s.close()
        if not buf:
            return None, {}, b""
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs, rest

    # ---- test clock ----------------------------------------------------------------------------
    def clock_now(self):
        r = self.get("/v1/test/clock")
        if r.status != 200:
            raise AssertionError("GET /v1/test/clock: %r" % r)
        return parse_time(r.body["now"])

    def clock_set(self, iso):
        if isinstance(iso, _dt.datetime):
            iso = fmt_time(iso)
        r = self.post("/v1/test/clock", {"now": iso})
        if r.status != 200:
            raise AssertionError("POST /v1/test/clock now=%s: %r" % (iso, r))
        return parse_time(r.body["now"])

    def clock_advance(self, seconds):
        r = self.post("/v1/test/clock", {"advance_seconds": int(seconds)})
        if r.status != 200:
            raise AssertionError("POST /v1/test/clock advance=%s: %r" % (seconds, r))
        return parse_time(r.body["now"])

    # ---- domain helpers ------------------------------------------------------------------------
    def program_body(self, **overrides):
        body = {
            "id": uid("p"),
            "name": "Test Program",
            "destination_url": "https://example.com/join",
            "rewards": [
                {"to": "referrer", "kind": "credit", "amount": 2500, "currency": "USD"},
                {"to": "referred", "kind": "free_month", "description": "Your first month on us"},
            ],
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None or k == "max_rewards_per_referrer"}

    def make_program(self, **overrides):
        body = self.program_body(**overrides)
        r = self.post("/v1/programs", body)
        if r.status != 201:
            raise AssertionError("make_program: expected 201, got %r" % r)
        return r.body

    def make_participant(self, program, first_name="Jane", **kw):
        body = {"program": program, "external_id": uid("u"), "first_name": first_name}
        body.update(kw)
        body = {k: v for k, v in body.items() if v is not None}
        r = self.post("/v1/participants", body)
        if r.status != 201:
            raise AssertionError("make_participant: expected 201, got %r" % r)
        return r.body

    def signup(self, program, **kw):
        body = {"program": program, "external_id": uid("s"), "first_name": "Sam"}
        body.update(kw)
        body = {k: v for k, v in body.items() if v is not None}
        return self.post("/v1/signups", body)

    def click(self, code, ua="Mozilla/5.0 (X11; Linux x86_64) kithtest", query="", headers=None,
              method="GET"):
        h = {"User-Agent": ua}
        h.update(headers or {})
        path = "/r/" + urllib.parse.quote(code, safe="-") + query
        return self.request(method, path, headers=h, key=None)

    def click_id(self, code, **kw):
        r = self.click(code, **kw)
        if r.status != 302:
            raise AssertionError("click %s: expected 302, got %r" % (code, r))
        cookie = r.headers.get("set-cookie", "")
        m = re.match(r"kith_ref=([^;]+)", cookie)
        if not m:
            raise AssertionError("click %s: no kith_ref cookie in %r" % (code, r.headers))
        return m.group(1)

    def event(self, program, external_id, type="purchase", **kw):
        body = {"program": program, "type": type, "external_id": external_id}
        if type == "purchase":
            body.update({"amount": 12000, "currency": "USD"})
        body.update(kw)
        return self.post("/v1/events", {k: v for k, v in body.items() if v is not None})

    def participant(self, pid):
        r = self.get("/v1/participants/" + pid)
        if r.status != 200:
            raise AssertionError("GET participant %s: %r" % (pid, r))
        return r.body

    def referral(self, rid):
        r = self.get("/v1/referrals/" + rid)
        if r.status != 200:
            raise AssertionError("GET referral %s: %r" % (rid, r))
        return r.body

    def list_all(self, path, limit=100):
        """Follows cursors; returns every item of a list endpoint."""
        items = []
        cursor = None
        sep = "&" if "?" in path else "?"
        for _ in range(10000):
            p = path + sep + "limit=%d" % limit
            if cursor:
                p += "&cursor=" + urllib.parse.quote(cursor, safe="")
            r = self.get(p)
            if r.status != 200:
                raise AssertionError("list %s: %r" % (p, r))
            items += r.body["data"]
            if not r.body["has_more"]:
                return items
            cursor = r.body["next_cursor"]
        raise AssertionError("list %s: cursor loop" % path)

    def rewards(self, **filters):
        q = urllib.parse.urlencode(filters)
        return self.list_all("/v1/rewards" + ("?" + q if q else ""))

    # ---- /metrics and settling (waits with a reason, instead of sleeps) -----------------------
    def prom(self):
        """GET /metrics -> {(sample name, frozenset of (label, value)): float}. The strict parse of
        the format is test_prometheus.py's job; this only reads values."""
        r = self.get("/metrics", key=None)
        if r.status != 200:
            raise AssertionError("GET /metrics: %r" % r)
        out = {}
        for line in r.body.splitlines():
            if not line or line.startswith("#"):
                continue
            m = PROM_LINE_RE.match(line)
            if not m:
                raise AssertionError("GET /metrics: unreadable sample line %r" % line)
            labels = frozenset(PROM_LABEL_RE.findall(m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
        return out

    def prom_value(self, name, **labels):
        """One sample of GET /metrics, or None when it is absent."""
        return self.prom().get((name, frozenset(labels.items())))

    def settle_clicks(self, timeout=10.0):
        """Returns once every click answered before the call is in the database (or lost): kith
        buffers a counted click before it answers the redirect, and kith_clicks_buffered
        (docs/api/README.md: clicks waiting for their batch to be written) counts it until its
        batch has committed. So after this, a click that was (wrongly or rightly) counted shows in
        every count, and one that does not show was not counted."""
        def idle():
            v = self.prom_value("kith_clicks_buffered")
            if v is None:
                raise AssertionError("GET /metrics has no kith_clicks_buffered")
            return v == 0
        poll(idle, timeout, "kith_clicks_buffered to drop to 0 (click batches written)")

    def settle_sender(self, timeout=30.0):
        """Returns once no webhook or e-mail transfer is queued or running and no job waits for
        the store (kith_sender_busy and kith_store_queue_depth are 0), so every transfer handed
        to the sender before the call has ended and its result is recorded. It says nothing
        about deliveries not claimed yet: test_webhooks.Barrier adds that."""
        def idle():
            m = self.prom()
            busy = m.get(("kith_sender_busy", frozenset()))
            depth = m.get(("kith_store_queue_depth", frozenset()))
            if busy is None or depth is None:
                raise AssertionError("GET /metrics lacks kith_sender_busy or kith_store_queue_depth")
            return busy == 0 and depth == 0
        poll(idle, timeout, "kith_sender_busy and kith_store_queue_depth to drop to 0")


class Conn:
    """A keep-alive connection: several requests on one socket."""

    def __init__(self, server):
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)

    def request(self, method, path, body=None, headers=None, key="default", raw_body=None):
        if key == "default":
            key = self.server.secret
        data = Server._encode(body, raw_body)
        h = self.server._headers(headers, key, data)
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            raw = r.read()
            return Resp(method, path, r.status, r.getheaders(), raw)
        except (ConnectionError, socket.timeout, http.client.HTTPException) as e:
            raise self.server._died(method, path, e)

    def sock(self):
        return self.conn.sock

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class ANY:
    """Marker: any value accepted."""


class KithTestCase(unittest.TestCase):
    """A server per test class (setUpClass), stopped gracefully (exit 0) in tearDownClass."""

    server_kwargs = {"test_clock": True}
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.server = Server(**cls.server_kwargs)
        cls.s = cls.server

    @classmethod
    def tearDownClass(cls):
        srv = getattr(cls, "server", None)
        if srv is not None and srv.proc is not None:
            srv.stop()

    # ---- assertions ----------------------------------------------------------------------------
    def assertStatus(self, resp, status, msg=None):
        if resp.status != status:
            self.fail("expected %d, got %r%s" % (status, resp, ("; " + msg) if msg else ""))

    def assertError(self, resp, status, code, param=ANY, param_contains=None):
        """The contract's error shape with this status and code. `code` may be a tuple of the
        codes allowed where the contract leaves the choice open (say why at the call)."""
        self.assertStatus(resp, status)
        ctype = resp.headers.get("content-type", "")
        self.assertIn("application/json", ctype, "error without JSON content type: %r" % resp)
        body = resp.body
        self.assertIsInstance(body, dict, "error body is not a JSON object: %r" % resp)
        self.assertEqual(set(body.keys()), {"error"}, "error body shape: %r" % resp)
        err = body["error"]
        self.assertIsInstance(err, dict, repr(resp))
        self.assertEqual(set(err.keys()), {"code", "message", "param"}, "error keys: %r" % resp)
        if isinstance(code, tuple):
            self.assertIn(err["code"], code, "error code: %r" % resp)
        else:
            self.assertEqual(err["code"], code, "error code: %r" % resp)
        self.assertIsInstance(err["message"], str, repr(resp))
        self.assertTrue(err["message"].strip(), "empty error message: %r" % resp)
        self.assertTrue(err["param"] is None or isinstance(err["param"], str), repr(resp))
        if param is not ANY:
            self.assertEqual(err["param"], param, "error param: %r" % resp)
        if param_contains is not None:
            # nested fields may be named "rewards[0].amount", "rewards.0.amount" or "amount"
            wanted = (param_contains,) if isinstance(param_contains, str) else param_contains
            self.assertIsInstance(err["param"], str, "error param: %r" % resp)
            self.assertTrue(any(w in err["param"] for w in wanted),
                            "error param should name one of %r: %r" % (wanted, resp))
        return err

    def assertTime(self, s):
        return parse_time(s)

    def assertKeys(self, obj, keys, what="object"):
        self.assertIsInstance(obj, dict, "%s is not an object: %r" % (what, obj))
        missing = set(keys) - set(obj.keys())
        self.assertFalse(missing, "%s lacks %s: %r" % (what, sorted(missing), obj))

    def assertList(self, resp):
        self.assertStatus(resp, 200)
        self.assertKeys(resp.body, ["data", "has_more", "next_cursor"], "list")
        self.assertIsInstance(resp.body["data"], list)
        self.assertIsInstance(resp.body["has_more"], bool)
        if not resp.body["has_more"]:
            self.assertIsNone(resp.body["next_cursor"], repr(resp))
        return resp.body["data"]

    def wait_for(self, fn, timeout=5.0, what="condition"):
        """Polls fn() until it returns a truthy value (for the asynchronous click batches)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.1)
        self.fail("timed out waiting for %s (last: %r)" % (what, last))


PARTICIPANT_KEYS = ["id", "program", "external_id", "email", "first_name", "code", "codes",
                    "share_url", "referred_by", "status", "leaderboard_opt_in", "created_at",
                    "stats"]
REFERRAL_KEYS = ["id", "program", "referrer", "referred", "code", "source", "channel", "status",
                 "fraud", "created_at", "qualified_at", "rewarded_at", "expires_at"]
REWARD_KEYS = ["id", "program", "participant", "referral", "to", "kind", "amount", "currency",
               "description", "status", "created_at", "issued_at", "redeemed_at", "expires_at"]


def main():
    unittest.main(verbosity=2)
