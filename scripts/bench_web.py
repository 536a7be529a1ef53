#!/usr/bin/env python3
"""The web app's budgets (issue 6), measured on a real `mnemosynce serve`:

- idle memory of the server, fresh and again after a sign-in and a dashboard: its anonymous RSS
  (`RssAnon`: heap, stacks, what only this process holds; target <= 10 MB) and its total RSS
  (`VmRSS`, also the binary's code pages in use; target <= 25 MB);
- RSS while a run streams to 10 feed clients (peak, sampled every 50 ms);
- dashboard server-side render time with 100 000 runs in the history (p50/p99 of 300 requests,
  target p99 <= 20 ms), against `/healthz` measured in the same run as the baseline of the HTTP path;
- the first load's transfer size, as sent (HTML + CSS + JS + WASM, `Accept-Encoding: br, gzip`;
  target <= 200 KB).

Usage: scripts/bench web  (or: bench_web.py --bin target/release/mnemosynce)
"""
import argparse
import base64
import re
import http.client
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PASSWORD = "bench password 123"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kb(pid, field):
    """A `kB` field of /proc/PID/status (`VmRSS`, `RssAnon`, ...), 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def anon_kb(pid):
    return status_kb(pid, "RssAnon")


class Server:
    def __init__(self, binary, data, site):
        self.binary, self.data, self.site = binary, data, site
        self.port = free_port()
        self.proc = None

    def start(self):
        env = dict(os.environ, MNEMOSYNCE_ADMIN_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--addr", f"127.0.0.1:{self.port}", "--site", self.site],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method, path, body=None, cookie=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Origin": f"http://127.0.0.1:{self.port}", "Accept-Encoding": "identity"}
        if cookie:
            h["Cookie"] = cookie
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, dict(r.getheaders()), data

    def sign_in(self):
        status, headers, _ = self.request("POST", "/auth/login", body=urllib.parse.urlencode({"password": PASSWORD}))
        cookie = headers.get("set-cookie", "").split(";")[0]
        if status != 303 or not cookie:
            raise SystemExit(f"sign-in failed: {status}")
        return cookie


def ws_client(port, cookie, stop, counter):
    """A minimal WebSocket client: handshake, then read frames until told to stop."""
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /api/feed HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n").encode())
    s.settimeout(0.5)
    while not stop.is_set():
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            counter[0] += len(chunk)
        except socket.timeout:
            pass
    s.close()


def seed_history(db, runs):
    con = sqlite3.connect(db)
    now = int(time.time() * 1000)
    con.execute("BEGIN")
    for i in range(runs):
        t = now - (runs - i) * 3_600_000
        cur = con.execute("INSERT INTO runs (trigger, started_at, finished_at, status) VALUES ('schedule', ?, ?, ?)",
                          (t, t + 60_000, "success" if i % 20 else "failed"))
        con.execute("INSERT INTO task_runs (run_id, task, position, started_at, finished_at, status, files_total, "
                    "files_transferred, bytes_total, bytes_transferred) VALUES (?, 'Photos', 0, ?, ?, 'success', "
                    "1000, 10, 1000000, 10000)", (cur.lastrowid, t, t + 60_000))
    con.commit()
    con.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--runs", type=int, default=100_000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mnemosynce-bench-web-")
    data = os.path.join(tmp, "data")
    source, store = os.path.join(tmp, "source"), os.path.join(tmp, "store")
    os.makedirs(data)
    os.makedirs(store)
    for d in range(20):
        os.makedirs(os.path.join(source, f"d{d}"))
        for f in range(1000):
            with open(os.path.join(source, f"d{d}", f"f{f}"), "wb") as fh:
                fh.write(os.urandom(512))
    with open(os.path.join(data, "backup_config.yml"), "w") as f:
        f.write(f"dir_backup_local: {store}\nemail: {{enabled: false}}\ntimezone: UTC\n"
                f"tasks:\n  - name: Photos\n    dir_source: {source}\n")
    server = Server(args.bin, data, args.site)
    try:
        # 1. Idle RSS of a fresh server.
        server.start()
        time.sleep(2)
        idle, idle_anon = rss_kb(server.proc.pid), anon_kb(server.proc.pid)
        cookie = server.sign_in()
        # The same server once it has signed a user in and rendered the dashboard, then idled.
        server.request("GET", "/", cookie=cookie)
        time.sleep(2)
        used, used_anon = rss_kb(server.proc.pid), anon_kb(server.proc.pid)
        server.stop()

        # 2. Dashboard render with a big history (seeded straight into the database).
        seed_history(os.path.join(data, "mnemosynce.db"), args.runs)
        server.start()
        cookie = server.sign_in()
        for _ in range(20):
            server.request("GET", "/", cookie=cookie)
        times = {"/": [], "/healthz": []}
        for _ in range(300):
            for path in times:
                t = time.perf_counter()
                status, _, _ = server.request("GET", path, cookie=cookie)
                times[path].append((time.perf_counter() - t) * 1000)
                assert status == 200, (path, status)

        # 3. First load, bytes on the wire: the page and what it loads, each asked for as a browser
        # asks (`Accept-Encoding: br, gzip`) and counted as sent; read again uncompressed for the
        # names in it.
        wire = {"Accept-Encoding": "br, gzip"}
        _, _, sent = server.request("GET", "/", cookie=cookie, headers=wire)
        _, _, html = server.request("GET", "/", cookie=cookie)
        parts = {"html": len(sent)}
        # What the page names under /pkg/ (stylesheet, the islands' script, preloads), and the WASM
        # that script fetches. Lazy islands' chunks are not named by the dashboard: they load on
        # the pages that use them.
        # (Their names carry content hashes: read them from the page.)
        named = sorted(set(re.findall(rb'/pkg/[A-Za-z0-9_.-]+', html)))
        assets = [a.decode() for a in named]
        assert any(a.endswith(".wasm") for a in assets), assets
        for asset in assets:
            status, _, sent = server.request("GET", asset, headers=wire)
            assert status == 200, asset
            parts[asset.rsplit("/", 1)[1]] = len(sent)
            _, _, body = server.request("GET", asset)
            if asset.endswith(".js"):
                # The islands' script imports wasm-split's small loader.
                for name in sorted(set(re.findall(rb'__wasm_split[A-Za-z0-9_.-]*\.js', body))):
                    extra = "/pkg/" + name.decode()
                    if extra not in assets:
                        assets.append(extra)

        # 4. RSS during a run streamed to 10 feed clients.
        stop = threading.Event()
        counters = [[0] for _ in range(10)]
        clients = [threading.Thread(target=ws_client, args=(server.port, cookie, stop, c)) for c in counters]
        for c in clients:
            c.start()
        time.sleep(1)
        before = rss_kb(server.proc.pid)
        status, _, body = server.request("POST", "/runs/start", body="", cookie=cookie)
        assert status == 303, body
        peak = before
        deadline = time.time() + 120
        while time.time() < deadline:
            peak = max(peak, rss_kb(server.proc.pid))
            state = server.request("POST", "/api/get_dashboard", body="", cookie=cookie)[2]
            if b'"is_running"' in state:
                pass
            if b'"status":"running"' not in state:
                break
            time.sleep(0.05)
        stop.set()
        for c in clients:
            c.join()
    finally:
        server.stop()

    p = lambda path, q: percentile(times[path], q)
    print(f"server idle anonymous RSS:             {idle_anon / 1024:.1f} MB   (target <= 10 MB); "
          f"{used_anon / 1024:.1f} MB idle again after a sign-in and a dashboard")
    print(f"server idle RSS:                       {idle / 1024:.1f} MB   (target <= 25 MB); "
          f"{used / 1024:.1f} MB idle again after a sign-in and a dashboard")
    print(f"RSS during a run with 10 feed clients: {peak / 1024:.1f} MB peak ({before / 1024:.1f} MB before the run;"
          f" clients received {min(c[0] for c in counters)}-{max(c[0] for c in counters)} bytes each)")
    print(f"dashboard SSR, {args.runs} runs in history: p50 {p('/', 50):.1f} ms, p99 {p('/', 99):.1f} ms"
          f"  (target p99 <= 20 ms); /healthz baseline p50 {p('/healthz', 50):.2f} ms, p99 {p('/healthz', 99):.2f} ms"
          f"  -> dashboard/healthz p50 {p('/', 50) / p('/healthz', 50):.1f}x")
    total = sum(parts.values())
    print(f"first load, on the wire: {total / 1000:.0f} KB (" + ", ".join(f"{k} {v / 1000:.1f} KB" for k, v in parts.items())
          + ")  (target <= 200 KB)")


if __name__ == "__main__":
    main()
