#!/usr/bin/env python3
"""SSH pull benchmark: `mnemosynce run` on a `ssh://` source against the bare rsync command it runs.

A seeded 100 000-file tree is served by a loopback sshd (scripts/fixtures/sshd). After a full
snapshot by mnemosynce, the two methods alternate, each snapshotting the unchanged tree, then a 1 %
changed one: mnemosynce into its store, the bare command into a scratch folder. The rsync command line is the one mnemosynce logged for its own backup
step (read back from its log), so both do exactly the same transfer; the ratio is what the
orchestration costs (preflight login, flush, promote, retention, history). The bare command runs
without mnemosynce's connection sharing (ControlMaster): it is a single connection, and a master left
behind by one bare run would otherwise spare the next run its login. In each scenario both link
against the snapshot that was newest before either ran, and the bare result is removed right away,
so both do identical work on identical trees. Ratios are printed two ways: of the medians, and
the median of each round's own ratio (which cancels the machine's drift between rounds).
"""
import argparse
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_snapshot import make_tree, mutate, timed, snapshots  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default="/var/tmp",
                    help="where the tree and the stores go (/dev/shm: without the disk's noise)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mnemosynce-bench-ssh-", dir=args.dir)
    sshd = None
    try:
        src = os.path.join(work, "src")
        data, store, manual = (os.path.join(work, d) for d in ("data", "store", "manual"))
        for d in (data, store, manual):
            os.makedirs(d)
        print(f"generating 100000 files in {src} ...", flush=True)
        paths = make_tree(src)
        out = subprocess.run([args.bin, "--data", data, "keys", "generate", "bench"], check=True,
                             capture_output=True, text=True).stdout
        line = next(l for l in out.splitlines() if l.startswith("ssh-ed25519"))
        with open(os.path.join(work, "authorized_keys"), "w") as f:
            f.write(line + "\n")
        sshd = subprocess.Popen([os.path.join(HERE, "fixtures", "sshd"), os.path.join(work, "sshd"),
                                 os.path.join(work, "authorized_keys")])
        port_file = os.path.join(work, "sshd", "port")
        for _ in range(200):
            try:
                port = int(open(port_file).read())
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        user = os.environ.get("USER") or "root"
        endpoint = f"ssh://{user}@127.0.0.1:{port}{src}"
        subprocess.run([args.bin, "--data", data, "test-connection", endpoint, "--trust"], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "backup_config.yml"), "w") as f:
            f.write(f"dir_backup_local: {store}\nemail: {{enabled: false}}\ntimezone: UTC\n"
                    f"retention: {{keep_last: 1000}}\ntasks:\n  - name: bench\n    dir_source: {endpoint}\n")

        def run_mnemosynce():
            time.sleep(max(0.0, 1.05 - (time.time() % 1)))
            return timed([args.bin, "--data", data, "run"])

        print("initial full snapshot ...", flush=True)
        run_mnemosynce()
        log = max(glob.glob(os.path.join(data, "logs", "*", "bench.backup.log")), key=os.path.getmtime)
        cmd_line = next(l for l in open(log) if " INFO $ rsync " in l).split(" INFO $ ", 1)[1]
        argv = [re.sub(r" -o (?:'Control[A-Za-z]+=[^']*'|Control[A-Za-z]+=\S+)", "", a)
                for a in shlex.split(cmd_line)]
        # The same command, given the earlier snapshot to link against, into a scratch folder
        # removed right after.
        base = [a for a in argv if not a.startswith("--link-dest=")][:-1]
        task_dir = os.path.join(store, "bench")

        def run_bare(prev):
            new = os.path.join(manual, "snap")
            dt = timed(base[:-1] + [f"--link-dest={prev}", base[-1], new + "/"])
            subprocess.run(["rm", "-rf", "--", new], check=True)
            return dt

        run_bare(os.path.join(task_dir, snapshots(task_dir)[-1]))
        results = {("mnemosynce", s): [] for s in ("unchanged", "1% changed")}
        results.update({("rsync-same", s): [] for s in ("unchanged", "1% changed")})
        order = ["mnemosynce", "rsync-same"]
        for rnd in range(args.rounds):
            order.reverse()
            for scenario in ("unchanged", "1% changed"):
                if scenario == "1% changed":
                    mutate(paths, rnd)
                # Whichever goes first, both link against the snapshot that was newest before
                # either ran, so both copy the same changed files.
                prev = os.path.join(task_dir, snapshots(task_dir)[-1])
                for name in order:
                    os.sync()
                    results[(name, scenario)].append(run_mnemosynce() if name == "mnemosynce" else run_bare(prev))
                for old in snapshots(task_dir)[:-1]:
                    subprocess.run(["rm", "-rf", "--", os.path.join(task_dir, old)], check=True)
            print(f"round {rnd + 1}: " + ", ".join(
                f"{k[0]} {k[1]} {v[-1]:.2f}s" for k, v in results.items()), flush=True)
        print()
        for scenario in ("unchanged", "1% changed"):
            m = statistics.median(results[("mnemosynce", scenario)])
            b = statistics.median(results[("rsync-same", scenario)])
            # Each round's two runs share the machine's state of that moment (page cache, the
            # disk's background writeback), so the median of the per-round ratios cancels the
            # drift between rounds that the ratio of the two medians still carries.
            paired = statistics.median(x / y for x, y in zip(results[("mnemosynce", scenario)],
                                                              results[("rsync-same", scenario)]))
            print(f"ssh pull {scenario:<11} mnemosynce {m:.2f}s  bare rsync {b:.2f}s  ratio {m / b:.2f}x"
                  f"  (median of per-round ratios {paired:.2f}x)")
    finally:
        if sshd is not None:
            sshd.send_signal(signal.SIGTERM)
            sshd.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
