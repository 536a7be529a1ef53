#!/usr/bin/python3
"""Checks the release archives as an owner uses them (scripts/package --check runs this).

Usage: scripts/package-check.py OUT_DIR VERSION TARGET...

For each target's archive: the SHA-256 file matches; the archive unpacks to the expected files;
`install --destdir` puts everything into a temporary root (its units pass `systemd-analyze verify`
and score at most 5.0 with `systemd-analyze security`); the binary (the aarch64 one under
qemu-user) prints its version, `check`s a configuration and `run`s a small local task whose
snapshot holds the source's bytes. The x86_64 binary then serves the app from an unrelated folder
(the site is inside it): the sign-in page, a precompressed WASM file, and /metrics after that run,
read with Prometheus's own text parser (Debian's python3-prometheus-client). Everything started
here is stopped by PID; everything listens on 127.0.0.1 only. Prints the figures for the README.
Exits non-zero on the first failure.
"""

import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

UNITS = ["mnemosynce.service", "mnemosynce-run.service", "mnemosynce-run.timer"]
EXPECTED = [
    "mnemosynce",
    "install",
    "README.md",
    "LICENSE",
    "backup_config.example.yml",
    "man/mnemosynce.1",
    "completions/mnemosynce.bash",
    "completions/_mnemosynce",
    "completions/mnemosynce.fish",
] + [f"systemd/{u}" for u in UNITS]


def fail(message):
    print(f"package check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def run(argv, **kw):
    """Runs argv (no shell); its output, or fail with it."""
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(map(str, argv))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r.stdout + r.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None):
    """(status, headers (looked up case-insensitively), body)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_units(root, bin_path):
    """systemd-analyze verify and security on each installed unit (ExecStart= pointed at the staged
    binary, which verify wants to exist); returns the services' scores."""
    scores = {}
    with tempfile.TemporaryDirectory() as d:
        for unit in UNITS:
            text = open(os.path.join(root, "etc/systemd/system", unit)).read()
            copy = os.path.join(d, unit)
            with open(copy, "w") as f:
                f.write(text.replace("/usr/local/bin/mnemosynce", bin_path))
            run(["systemd-analyze", "verify", "--man=no", copy])
            if unit.endswith(".service"):
                out = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", copy])
                line = [l for l in out.splitlines() if "Overall exposure level" in l]
                if not line:
                    fail(f"no exposure level for {unit}: {out}")
                score = float(line[0].split(": ")[1].split()[0])
                if score > 5.0:
                    fail(f"{unit}: systemd-analyze security {score} > 5.0")
                scores[unit] = score
    return scores


def smoke(binary, work, emulator):
    """--version, check, run of a small local task; the snapshot holds the source's bytes."""
    prefix = [emulator] if emulator else []
    version = run(prefix + [binary, "--version"])
    if not version.startswith("mnemosynce "):
        fail(f"--version printed {version!r}")
    data, source, store = (os.path.join(work, n) for n in ("data", "source", "store"))
    for d in (data, source, store):
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(source, "photo.jpg"), "wb") as f:
        f.write(b"\xff\xd8" + os.urandom(50_000))
    with open(os.path.join(data, "backup_config.yml"), "w") as f:
        f.write(
            f"dir_backup_local: {store}\nemail: {{enabled: false}}\ntimezone: UTC\n"
            f"tasks:\n  - name: Photos\n    dir_source: {source}\n"
        )
    run(prefix + [binary, "--data", data, "check"])
    run(prefix + [binary, "--data", data, "run"])
    copy = os.path.join(store, "Photos", "latest", "photo.jpg")
    if open(copy, "rb").read() != open(os.path.join(source, "photo.jpg"), "rb").read():
        fail(f"{copy} differs from the source")
    return version.strip(), data


def serve_and_scrape(binary, data, started):
    """Serves from an unrelated folder; the sign-in page, a compressed WASM, /metrics parsed."""
    token = "package-check-" + os.urandom(8).hex()
    token_file = os.path.join(data, "metrics-token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    with open(os.path.join(data, "backup_config.yml"), "a") as f:
        f.write(f"metrics:\n  token_file: {token_file}\n")
    port = free_port()
    cwd = tempfile.mkdtemp(prefix="mnemosynce-elsewhere-")
    env = dict(os.environ, MNEMOSYNCE_ADMIN_PASSWORD="package check password")
    for k in ("LEPTOS_SITE_ROOT", "LEPTOS_OUTPUT_NAME", "LEPTOS_SITE_ADDR", "LEPTOS_HASH_FILES"):
        env.pop(k, None)
    # The data folder named relative to the working folder, as an owner typing `--data data` would.
    child = subprocess.Popen(
        [binary, "--data", os.path.relpath(data, cwd), "serve", "--addr", f"127.0.0.1:{port}"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or child.poll() is not None:
                fail("the server did not start: " + (child.stderr.read().decode() if child.poll() is not None else ""))
            time.sleep(0.1)
        serving_after = time.monotonic() - started
        status, _, body = get(base + "/login")
        if status != 200 or b"/pkg/" not in body:
            fail(f"/login answered {status} without the app's scripts")
        page = body.decode()
        wasm = [w for w in page.replace('"', " ").split() if w.startswith("/pkg/") and w.endswith(".js")]
        if not wasm:
            fail("the sign-in page names no /pkg/ script")
        status, headers, _ = get(base + wasm[0], {"Accept-Encoding": "br"})
        if status != 200 or headers.get("Content-Encoding") != "br":
            fail(f"{wasm[0]}: {status}, encoding {headers.get('Content-Encoding')}")
        if "immutable" not in headers.get("Cache-Control", ""):
            fail(f"{wasm[0]} is not cached as a hashed file: {headers.get('Cache-Control')}")
        status, _, _ = get(base + "/metrics")
        if status != 401:
            fail(f"/metrics without a token answered {status}")
        status, headers, body = get(base + "/metrics", {"Authorization": f"Bearer {token}"})
        if status != 200:
            fail(f"/metrics with the token answered {status}")
        samples = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        want = {
            ("mnemosynce_task_last_run_status", (("status", "success"), ("task", "Photos"))): 1.0,
            ("mnemosynce_task_snapshots", (("task", "Photos"),)): 1.0,
            ("mnemosynce_runs_total", (("outcome", "success"),)): 1.0,
        }
        for key, value in want.items():
            if samples.get(key) != value:
                fail(f"/metrics: {key} is {samples.get(key)}, expected {value}")
        if samples.get(("process_resident_memory_bytes", ()), 0) <= 0:
            fail("/metrics has no process_resident_memory_bytes")
        return serving_after, len(samples)
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        shutil.rmtree(cwd, ignore_errors=True)


def main():
    out, version, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    host = {"x86_64": "x86_64", "aarch64": "aarch64"}.get(platform.machine(), platform.machine())
    figures = []
    for target in targets:
        name = f"mnemosynce-{version}-{target}"
        archive = os.path.join(out, f"{name}.tar.gz")
        started = time.monotonic()
        digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
        recorded = open(archive + ".sha256").read().split()[0]
        if digest != recorded:
            fail(f"{archive}: SHA-256 {digest} is not the recorded {recorded}")
        work = tempfile.mkdtemp(prefix="mnemosynce-package-")
        try:
            with tarfile.open(archive) as t:
                for member in t.getmembers():
                    if member.name.startswith(("/", "..")) or ".." in member.name.split("/"):
                        fail(f"{archive}: {member.name} would land outside the folder")
                t.extractall(work)
            top = os.path.join(work, name)
            for rel in EXPECTED:
                if not os.path.isfile(os.path.join(top, rel)):
                    fail(f"{name}.tar.gz has no {rel}")
            binary = os.path.join(top, "mnemosynce")
            file_type = run(["file", "-b", binary]) if shutil.which("file") else ""
            if file_type and "statically linked" not in file_type and "static-pie" not in file_type:
                fail(f"{name}: the binary is not static: {file_type}")
            arch = target.split("-")[0]
            emulator = None if arch == host else shutil.which(f"qemu-{arch}")
            if arch != host and not emulator:
                fail(f"qemu-{arch} is missing (Debian's qemu-user)")
            root = os.path.join(work, "root")
            install = [emulator] if emulator else []
            # The archive's `install` script execs the binary beside it; under qemu, call it directly.
            if emulator:
                run(install + [binary, "install", "--destdir", root])
            else:
                run([os.path.join(top, "install"), "--destdir", root])
            installed = os.path.join(root, "usr/local/bin/mnemosynce")
            if open(installed, "rb").read() != open(binary, "rb").read():
                fail("the installed binary differs from the archive's")
            scores = check_units(root, installed)
            version_line, data = smoke(installed, os.path.join(work, "smoke"), emulator)
            line = {
                "target": target,
                "archive_bytes": os.path.getsize(archive),
                "binary_bytes": os.path.getsize(binary),
                "version": version_line,
                "static": "statically linked" in file_type or "static-pie" in file_type,
                "security": scores,
            }
            if not emulator:
                serving_after, n = serve_and_scrape(installed, data, started)
                line["archive_to_serving_seconds"] = round(serving_after, 2)
                line["metrics_samples"] = n
            figures.append(line)
            print(json.dumps(line))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("package check passed:", ", ".join(f["target"] for f in figures))


if __name__ == "__main__":
    main()
