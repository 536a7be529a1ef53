#!/usr/bin/env python3
"""Snapshot benchmark: `mnemosynce run` against the bare commands it competes with.

A seeded, reproducible tree of 100 000 small files (1-8 KB) is snapshotted repeatedly by four
methods, alternating within each round so that cache state and background load hit all alike:

  mnemosynce     `mnemosynce run` (preflight, rsync, promote, retention, history, logs)
  rsync-same     the exact rsync command mnemosynce runs, started by hand
  rsync-same+sync  the same, then `sync -f` (mnemosynce flushes a snapshot before naming it)
  rsync-bare     bare `rsync -a --link-dest=<prev> src/ new/`
  cp-al+rsync    `cp -al <prev> new && rsync -a --delete src/ new/`

Each round first measures an unchanged tree, then changes 1 % of the files (the same change for all
methods) and measures again. Medians and ratios against rsync-bare are printed. Old snapshots are
deleted between measurements, outside the timed part, and the filesystem is synced before each
measurement so no method pays for another's pending writes.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

FILES = 100_000


def make_tree(root, seed=42):
    rng = random.Random(seed)
    paths = []
    for i in range(FILES):
        d = os.path.join(root, f"d{i // 1000:03d}", f"s{(i // 100) % 10}")
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"f{i:06d}.dat")
        with open(p, "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 8192)))
        paths.append(p)
    return paths


def mutate(paths, rnd, fraction=0.01):
    rng = random.Random(1000 + rnd)
    for p in rng.sample(paths, int(len(paths) * fraction)):
        with open(p, "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 8192)))


def timed(argv, **kw):
    t = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    dt = time.perf_counter() - t
    if r.returncode not in (0,):
        sys.exit(f"{argv[0]} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
    return dt


def snapshots(d):
    return sorted(n for n in os.listdir(d) if n[:2] == "20" or n.startswith("snap"))


class Manual:
    """A store kept by hand: snapN folders, the newest is the link source."""

    def __init__(self, root, name, command):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.n = 0
        self.command = command

    def prev(self):
        return os.path.join(self.dir, f"snap{self.n:04d}")

    def run(self, src):
        prev, self.n = self.prev(), self.n + 1
        new = self.prev()
        if self.command == "bare":
            return timed(["rsync", "-a", f"--link-dest={prev}", f"{src}/", f"{new}/"])
        if self.command in ("same", "samesync"):
            t = time.perf_counter()
            timed(["rsync", "--archive", "--numeric-ids", "--hard-links", "--delete", "--delete-excluded",
                          "--info=progress2", "--stats", "--acls", "--xattrs", f"--link-dest={prev}",
                          f"{src}/", f"{new}/"])
            if self.command == "samesync":
                subprocess.run(["sync", "-f", new], check=True)
            return time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run(["cp", "-al", prev, new], check=True)
        subprocess.run(["rsync", "-a", "--delete", f"{src}/", f"{new}/"], check=True)
        return time.perf_counter() - t

    def trim(self):
        for n in snapshots(self.dir)[:-1]:
            shutil.rmtree(os.path.join(self.dir, n))


class Mnemosynce:
    def __init__(self, root, binary, src):
        self.bin = binary
        self.data = os.path.join(root, "data")
        self.store = os.path.join(root, "store")
        os.makedirs(self.data)
        os.makedirs(self.store)
        with open(os.path.join(self.data, "backup_config.yml"), "w") as f:
            f.write(f"dir_backup_local: {self.store}\nemail: {{enabled: false}}\ntimezone: UTC\n"
                    f"retention: {{keep_last: 1000}}\ntasks:\n  - name: bench\n    dir_source: {src}\n")

    def run(self, src):
        time.sleep(max(0.0, 1.05 - (time.time() % 1)))  # a fresh second: a fresh snapshot name
        return timed([self.bin, "--data", self.data, "run"])

    def trim(self):
        d = os.path.join(self.store, "bench")
        for n in snapshots(d)[:-1]:
            shutil.rmtree(os.path.join(d, n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", default=None, help="work folder (default: a temp folder under /var/tmp)")
    args = ap.parse_args()
    work = args.dir or tempfile.mkdtemp(prefix="mnemosynce-bench-", dir="/var/tmp")
    try:
        src = os.path.join(work, "src")
        print(f"generating {FILES} files in {src} ...", flush=True)
        paths = make_tree(src)
        methods = {
            "mnemosynce": Mnemosynce(os.path.join(work, "m"), args.bin, src),
            "rsync-same": Manual(work, "same", "same"),
            "rsync-same+sync": Manual(work, "samesync", "samesync"),
            "rsync-bare": Manual(work, "bare", "bare"),
            "cp-al+rsync": Manual(work, "cpal", "cpal"),
        }
        print("initial full snapshots ...", flush=True)
        for name, m in methods.items():
            if isinstance(m, Manual):
                os.makedirs(m.prev())
            m.run(src)
        results = {(n, s): [] for n in methods for s in ("unchanged", "1% changed")}
        order = list(methods)
        for rnd in range(args.rounds):
            order = order[1:] + order[:1]  # rotate who goes first
            for scenario in ("unchanged", "1% changed"):
                if scenario == "1% changed":
                    mutate(paths, rnd)
                for name in order:
                    m = methods[name]
                    # Start every measurement with nothing left to flush (mnemosynce flushes its
                    # snapshot with syncfs, which would otherwise also pay for the last trim).
                    os.sync()
                    results[(name, scenario)].append(m.run(src))
                    m.trim()
            line = ", ".join(f"{n} {results[(n, 'unchanged')][-1]:.2f}s/{results[(n, '1% changed')][-1]:.2f}s" for n in order)
            print(f"round {rnd + 1}: {line}", flush=True)
        print()
        print(f"{'method':<16} {'scenario':<12} {'median s':>9} {'vs rsync-bare':>14}")
        summary = {}
        for scenario in ("unchanged", "1% changed"):
            base = statistics.median(results[("rsync-bare", scenario)])
            for n in methods:
                med = statistics.median(results[(n, scenario)])
                summary[f"{n} {scenario}"] = {"median_s": round(med, 3), "ratio": round(med / base, 3)}
                print(f"{n:<16} {scenario:<12} {med:>9.2f} {med / base:>13.2f}x")
        print()
        print(json.dumps(summary))
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
