#!/usr/bin/env python3
"""Builds the Rust test binaries once, then runs them side by side (scripts/test's Rust phase).

`cargo test` runs its test binaries one after another; most of their time is spent waiting on real
rsync, sshd, SMTP and SQLite, so on two cores the engine's and the server's suites can share the
wall clock. Usage: `scripts/rust-tests.py CARGO_TEST_ARGS...` (the arguments `cargo test` would
get, e.g. `--workspace --exclude frontend --features app/ssr`). Each binary runs in its package's
folder, as `cargo test` runs it; its output is printed whole when it ends (never interleaved), with
its `test result:` line. Exit status: 0 when every binary and the doc tests passed.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build(cargo_args):
    """Compiles every target (benches too, so clippy sees them); returns the test binaries to run:
    [(package folder, executable, target name)]. Benches are built, not run (`scripts/bench`)."""
    out = subprocess.run(
        ["cargo", "test", "--no-run", "--all-targets", "--message-format=json-render-diagnostics",
         *cargo_args],
        stdout=subprocess.PIPE,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(out.returncode)
    binaries = []
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("profile", {}).get("test"):
            continue
        if msg.get("executable") and "bench" not in msg["target"]["kind"]:
            folder = Path(msg["manifest_path"]).parent
            binaries.append((folder, msg["executable"], msg["target"]["name"]))
    return binaries


def main():
    cargo_args = sys.argv[1:]
    binaries = build(cargo_args)
    # The tests wait on processes and sockets far more than they compute: four at a time in each
    # binary (the harness's default is one per core) unless RUST_TEST_THREADS says otherwise.
    env = dict(os.environ)
    env.setdefault("RUST_TEST_THREADS", "4")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mnemosynce-rust-tests.") as tmp:
        running = []
        for i, (folder, exe, name) in enumerate(binaries):
            log = open(Path(tmp) / f"{i}.log", "wb")
            proc = subprocess.Popen(
                [exe], cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env
            )
            running.append((folder, exe, name, proc, log))
        failed = []
        for folder, exe, name, proc, log in running:
            code = proc.wait()
            log.close()
            print(f"     Running {name} ({Path(exe).name}, in {folder.name}/)", flush=True)
            sys.stdout.buffer.write(Path(log.name).read_bytes())
            sys.stdout.flush()
            if code != 0:
                failed.append(name)
    print(f"     The test binaries ran side by side in {time.monotonic() - started:.0f} s", flush=True)
    # Doc tests are compiled by rustdoc, which `--no-run` does not cover.
    doc = subprocess.run(["cargo", "test", "--doc", *cargo_args], check=False)
    if doc.returncode != 0:
        failed.append("doc tests")
    if failed:
        print(f"rust-tests: failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
