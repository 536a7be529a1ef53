#!/usr/bin/env python3
"""Getting files back (issue 19), measured on the release binary against baselines timed in the
same run, on the same files:

  diff      `mnemosynce snapshots diff` of two snapshots of a 100 000-file tree with 1 % changed, vs
            `diff -rq` of the same pair                    (target: <= 1 s and >= 10x faster)
  listing   `GET /snapshots/browse` of a folder of 10 000 entries on a running server (median of
            20), with `GET /healthz` as the HTTP path's baseline  (target: <= 50 ms server time)
  download  `GET /snapshots/download` of a 1 GiB file with curl, vs `cat FILE > /dev/null`
            (target: >= 80 % of cat's throughput; server RSS grows < 10 MB while it streams)
  archive   `GET /snapshots/archive` of the 100 000-file snapshot as zip and as tar.gz with curl,
            vs `tar -cf - DIR | cat > /dev/null`           (target: zip >= 70 % of tar's; memory flat)
  sizes     `mnemosynce snapshots --recount` of 30 snapshots x 100 000 files (target: <= 10 s), and
            what a run spends measuring its snapshot and the one before (read from the run's backup
            log, "sizes measured in"; target: <= 2 s)
  versions  `mnemosynce snapshots versions` of a file across 100 snapshots (target: <= 200 ms)

Files are read warm (each baseline and each measurement once before the timed rounds), so the
figures compare the programs, not the disk. The 30 snapshots are made the way a store holds them:
hard-linked copies (`cp -al`) with 1 % of the files rewritten between two.

Usage: scripts/bench restore [ROUNDS]   (or: bench_restore.py --bin target/release/mnemosynce)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_snapshot import make_tree, mutate  # noqa: E402
from bench_web import Server, free_port, rss_kb  # noqa: E402

SNAPSHOTS = 30
VERSION_SNAPSHOTS = 100
GIB = 1 << 30


def timed(argv, **kw):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    took = time.perf_counter() - t
    return took, p


def median_of(rounds, f):
    return statistics.median(f() for _ in range(rounds))


def snapshot_name(i):
    day = 1 + i % 28
    month = 1 + i // 28
    return f"2026-{month:02d}-{day:02d}_020000"


def make_store(work, binary):
    """The bench data folder: task Bench (30 snapshots of 100 000 files + a 10 000-entry folder),
    task Versions (100 snapshots of one changing file), task Big (one 1 GiB file)."""
    src = os.path.join(work, "src")
    store = os.path.join(work, "store")
    print("making the 100 000-file tree ...", flush=True)
    paths = make_tree(src)
    big = os.path.join(src, "big")
    os.makedirs(big)
    for i in range(10_000):
        with open(os.path.join(big, f"entry{i:05d}.txt"), "w") as f:
            f.write(str(i))
    bench = os.path.join(store, "Bench")
    os.makedirs(bench)
    print(f"making {SNAPSHOTS} hard-linked snapshots, 1 % changed between two ...", flush=True)
    prev = None
    for i in range(SNAPSHOTS):
        dest = os.path.join(bench, snapshot_name(i))
        if prev is None:
            subprocess.run(["cp", "-a", src, dest], check=True)
        else:
            subprocess.run(["cp", "-al", prev, dest], check=True)
            for p in mutate(paths, i):
                rel = os.path.relpath(p, src)
                target = os.path.join(dest, rel)
                os.unlink(target)
                shutil.copy2(p, target)
        prev = dest
    versions = os.path.join(store, "Versions")
    for i in range(VERSION_SNAPSHOTS):
        d = os.path.join(versions, snapshot_name(i), "docs")
        os.makedirs(d)
        with open(os.path.join(d, "notes.txt"), "w") as f:
            f.write(f"version {i // 10}\n")
    bigdir = os.path.join(store, "Big", "2026-12-01_020000")
    os.makedirs(bigdir)
    with open(os.path.join(bigdir, "video.bin"), "wb") as f:
        chunk = os.urandom(16 << 20)
        for _ in range(GIB // len(chunk)):
            f.write(chunk)
    data = os.path.join(work, "data")
    os.makedirs(data)
    for d in ("vsrc", "bigsrc"):
        os.makedirs(os.path.join(work, d))
    with open(os.path.join(data, "backup_config.yml"), "w") as f:
        f.write(
            f"dir_backup_local: {store}\nemail: {{enabled: false}}\ntimezone: UTC\n"
            f"retention: {{keep_last: 1000}}\ntasks:\n"
            f"  - name: Bench\n    dir_source: {src}\n"
            f"  - name: Versions\n    dir_source: {work}/vsrc\n"
            f"  - name: Big\n    dir_source: {work}/bigsrc\n"
        )
    # The snapshots were made by hand: hand them to Mnemosynce as its own.
    for task in ("Bench", "Versions", "Big"):
        subprocess.run([binary, "--data", data, "adopt", task], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return src, store, data, paths


def row(name, value, target, ok):
    print(f"  {name:<46} {value:<44} {target:<34} {'PASS' if ok else 'FAIL'}")


def peak_rss_during(pid, work):
    """Runs `work()`; returns its result and the server's RSS growth (kB) while it ran."""
    base = rss_kb(pid)
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    try:
        result = work()
    finally:
        stop.set()
        t.join()
    return result, peak[0] - base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="mnemosynce-bench-restore-", dir="/var/tmp")
    server = None
    try:
        src, store, data, paths = make_store(work, binary)
        m = lambda *a: [binary, "--data", data, *a]  # noqa: E731
        results = []

        # Sizes from scratch: every snapshot of Bench measured again.
        subprocess.run(["sync"])
        took, p = timed(m("snapshots", "--task", "Bench", "--recount", "--json"))
        if p.returncode != 0:
            raise SystemExit(p.stderr.decode())
        results.append(("sizes: 30 x 100 000 files from scratch", f"{took:.2f} s", "<= 10 s", took <= 10))

        # Sizes after a run: a real run (native engine) of Bench, its log says how long measuring took.
        mutate(paths, 999)
        p = subprocess.run(m("run", "--task", "Bench"), capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(p.stdout + p.stderr)
        logs = os.path.join(data, "logs")
        last = max(os.listdir(logs), key=int)
        measured = None
        with open(os.path.join(logs, last, "Bench.backup.log")) as f:
            for line in f:
                if "sizes measured in" in line:
                    measured = float(line.split("sizes measured in")[1].split()[0])
        if measured is None:
            raise SystemExit("the run's log does not say how long measuring took")
        results.append(("sizes: after a run (new + the one before)", f"{measured:.2f} s", "<= 2 s", measured <= 2))

        # Diff of the two newest hand-made snapshots (1 % changed) against diff -rq.
        a = os.path.join(store, "Bench", snapshot_name(SNAPSHOTS - 2))
        b = os.path.join(store, "Bench", snapshot_name(SNAPSHOTS - 1))
        ours = lambda: timed(m("snapshots", "diff", "Bench", snapshot_name(SNAPSHOTS - 2), snapshot_name(SNAPSHOTS - 1), "--json"))[0]  # noqa: E731
        theirs = lambda: timed(["diff", "-rq", a, b])[0]  # noqa: E731
        ours(), theirs()
        t_ours = median_of(args.rounds, ours)
        t_theirs = median_of(args.rounds, theirs)
        results.append(("diff, 1 % changed", f"{t_ours * 1000:.0f} ms", "<= 1 s", t_ours <= 1))
        results.append(("diff vs diff -rq", f"{t_theirs / t_ours:.1f}x faster ({t_theirs:.2f} s)", ">= 10x", t_theirs / t_ours >= 10))

        # Versions of one file across 100 snapshots.
        v = lambda: timed(m("snapshots", "versions", "Versions", "docs/notes.txt", "--json"))[0]  # noqa: E731
        v()
        t_v = median_of(max(args.rounds, 5), v)
        results.append(("versions across 100 snapshots", f"{t_v * 1000:.0f} ms", "<= 200 ms", t_v <= 0.2))

        # The web side, on a running server.
        server = Server(binary, data, args.site)
        server.start()
        cookie = server.sign_in()

        def get(path):
            t = time.perf_counter()
            status, _, _ = server.request("GET", path, cookie=cookie)
            if status != 200:
                raise SystemExit(f"{path}: {status}")
            return time.perf_counter() - t

        snap = snapshot_name(SNAPSHOTS - 1)
        listing = f"/snapshots/browse?task=Bench&snapshot={snap}&path=big"
        get(listing)
        t_list = statistics.median(get(listing) for _ in range(20))
        t_health = statistics.median(get("/healthz") for _ in range(20))
        results.append(("listing a folder of 10 000 entries", f"{t_list * 1000:.1f} ms (healthz {t_health * 1000:.1f} ms)", "<= 50 ms", t_list <= 0.05))

        curl = ["curl", "-sS", "-f", "-o", "/dev/null", "-H", f"Cookie: {cookie}", "-H", "Accept-Encoding: identity"]
        url = f"http://127.0.0.1:{server.port}"
        video = os.path.join(store, "Big", "2026-12-01_020000", "video.bin")
        cat = lambda: timed(["sh", "-c", 'cat "$1" > /dev/null', "-", video])[0]  # noqa: E731
        dl = lambda: timed([*curl, f"{url}/snapshots/download?task=Big&snapshot=2026-12-01_020000&path=video.bin"])[0]  # noqa: E731
        cat(), dl()
        t_cat = median_of(args.rounds, cat)
        t_dl, grew = peak_rss_during(server.proc.pid, lambda: median_of(args.rounds, dl))
        share = t_cat / t_dl
        results.append(("download 1 GiB vs cat", f"{share * 100:.0f} % ({GIB / t_dl / 1e6:.0f} MB/s, cat {GIB / t_cat / 1e6:.0f} MB/s)", ">= 80 %", share >= 0.8))
        results.append(("  server RSS growth while it streams", f"{grew / 1024:.1f} MB", "< 10 MB", grew < 10 * 1024))
        # A second yardstick for the same bytes over the same path (HTTP on loopback, curl): a plain
        # static file server, Python's, serving the snapshot's folder.
        port = free_port()
        plain = subprocess.Popen(["python3", "-m", "http.server", "--bind", "127.0.0.1", str(port),
                                  "--directory", os.path.dirname(video)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}/"]).returncode != 0:
                if time.time() > deadline:
                    raise SystemExit("python's http.server did not start")
                time.sleep(0.1)
            py = lambda: timed(["curl", "-sS", "-f", "-o", "/dev/null", f"http://127.0.0.1:{port}/video.bin"])[0]  # noqa: E731
            py()
            t_py = median_of(args.rounds, py)
        finally:
            plain.terminate()
            plain.wait()
        results.append(("  vs python3 -m http.server (same curl)", f"{t_py / t_dl * 100:.0f} % of its time ({GIB / t_py / 1e6:.0f} MB/s)", "(yardstick)", True))

        tree = os.path.join(store, "Bench", snap)
        tar = lambda: timed(["sh", "-c", 'tar -cf - -C "$1" . | cat > /dev/null', "-", tree])[0]  # noqa: E731
        tar()
        t_tar = median_of(args.rounds, tar)
        for fmt, target in (("zip", 0.7), ("tar.gz", None)):
            arc = lambda: timed([*curl, f"{url}/snapshots/archive?task=Bench&snapshot={snap}&path=&format={fmt}"])[0]  # noqa: E731
            arc()
            t_arc, grew = peak_rss_during(server.proc.pid, lambda: median_of(args.rounds, arc))
            share = t_tar / t_arc
            results.append((f"archive ({fmt}) of 110 000 files vs tar | cat", f"{share * 100:.0f} % ({t_arc:.2f} s, tar {t_tar:.2f} s)",
                            ">= 70 %" if target else "(gzip: reported)", share >= target if target else True))
            note = "zip: its directory, ~100 B/entry" if fmt == "zip" else "flat"
            results.append((f"  server RSS growth ({fmt})", f"{grew / 1024:.1f} MB", note, True))

        print()
        print(f"  {'measurement':<46} {'figure':<44} {'target':<34} verdict")
        for r in results:
            row(*r)
    finally:
        if server:
            server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
