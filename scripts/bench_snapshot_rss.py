#!/usr/bin/env python3
"""Peak memory of `mnemosynce run` on a tree of 1 000 000 files (issue 8: the native engine <= 30 MB).

The tree: --files files (default 1 000 000) spread evenly over --dirs folders (default 1000), empty
by default (--file-bytes N gives each N bytes). Empty files keep the disk use sane: the source and
the first snapshot cost about two million inodes and the folders' entries, no data blocks; the second
snapshot is hard links, no new inodes. Generating the tree takes a minute or two; with --dir the tree
is kept and reused by the next run with the same shape.

Two `mnemosynce run`s of one task (`engine: native` unless --engine says otherwise) are measured, each
in a fresh process: the first snapshot (every file new) and the second (the unchanged tree, every file
hard-linked against the first). Each is checked to hold every file before its figure is believed.

How the peak is read: the script starts `mnemosynce` itself and reaps it with os.wait4, whose rusage
is the kernel's count for that one child: ru_maxrss (KiB on Linux) is the peak resident set size of
the process, all threads included, or of the largest of its own children if that is larger (with
--engine rsync the rsync processes count too). That is the figure `/usr/bin/time -v` prints as
"Maximum resident set size", without depending on GNU time being installed; getrusage(RUSAGE_CHILDREN)
would instead give the largest of every child this script ever waited for (cp, the earlier run).

The target (<= 30 MB, 1 MB = 1024 KiB) applies to each run; the worst of the two decides.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TARGET_MB = 30.0


def make_tree(root, files, dirs, file_bytes):
    per_dir = -(-files // dirs)  # ceiling
    content = b"x" * file_bytes
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
    started = time.perf_counter()
    for i in range(files):
        d = os.path.join(root, f"d{i // per_dir:04d}")
        if i % per_dir == 0:
            os.makedirs(d)
        fd = os.open(os.path.join(d, f"f{i:07d}"), flags, 0o644)
        try:
            if content:
                os.write(fd, content)
        finally:
            os.close(fd)
        if (i + 1) % 100_000 == 0:
            print(f"  {i + 1} files ({time.perf_counter() - started:.0f} s)", flush=True)


def count_files(root):
    """Regular files under `root` (iteratively: a million entries, no recursion limit)."""
    n, stack = 0, [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    n += 1
    return n


def check_room(work, files, file_bytes):
    """Refuses to start when the filesystem cannot hold the source and two snapshots."""
    st = os.statvfs(work)
    inodes_needed = int(files * 2.1)  # source + first snapshot (+ folders); the second is links
    if st.f_files and st.f_favail < inodes_needed:
        sys.exit(f"{work}: {st.f_favail} free inodes, about {inodes_needed} needed; pass --dir on a roomier "
                 f"filesystem or fewer --files")
    block = max(st.f_frsize, 4096)
    bytes_needed = files * 2 * (-(-file_bytes // block) * block) + 2 * files * 64  # data + dir entries
    if st.f_bavail * st.f_frsize < bytes_needed * 1.2:
        sys.exit(f"{work}: {st.f_bavail * st.f_frsize // 2**20} MiB free, about "
                 f"{bytes_needed * 1.2 // 2**20:.0f} MiB needed; pass --dir elsewhere or --file-bytes 0")


def peak_rss_run(argv, log_path):
    """Runs argv to its end; returns (exit code, seconds, peak RSS in KiB)."""
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    p.returncode = code  # reaped here, so Popen must not wait for it again
    return code, seconds, usage.ru_maxrss


def tail(path, n=2000):
    with open(path, "rb") as f:
        data = f.read()
    return data[-n:].decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--files", type=int, default=1_000_000)
    ap.add_argument("--dirs", type=int, default=1000)
    ap.add_argument("--file-bytes", type=int, default=0, help="bytes in each file (default 0)")
    ap.add_argument("--engine", choices=("native", "rsync"), default="native")
    ap.add_argument("--dir", default=None,
                    help="work folder, kept afterwards and its tree reused (default: a temp folder under /var/tmp)")
    args = ap.parse_args()
    if args.files < 1 or args.dirs < 1 or args.file_bytes < 0:
        sys.exit("--files and --dirs must be at least 1, --file-bytes at least 0")
    work = args.dir or tempfile.mkdtemp(prefix="mnemosynce-bench-rss-", dir="/var/tmp")
    os.makedirs(work, exist_ok=True)
    try:
        src = os.path.join(work, "src")
        shape = f"{args.files} {args.dirs} {args.file_bytes}\n"
        marker = os.path.join(work, "src.shape")  # outside src, so it is not snapshotted
        if os.path.exists(marker) and open(marker).read() == shape and os.path.isdir(src):
            print(f"reusing the tree in {src}", flush=True)
        else:
            shutil.rmtree(src, ignore_errors=True)
            check_room(work, args.files, args.file_bytes)
            print(f"generating {args.files} files of {args.file_bytes} bytes in {args.dirs} folders in {src} ...",
                  flush=True)
            make_tree(src, args.files, args.dirs, args.file_bytes)
            with open(marker, "w") as f:
                f.write(shape)

        data, store = os.path.join(work, "data"), os.path.join(work, "store")
        for d in (data, store):
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        with open(os.path.join(data, "backup_config.yml"), "w") as f:
            f.write(f"dir_backup_local: {store}\nemail: {{enabled: false}}\ntimezone: UTC\n"
                    f"retention: {{keep_last: 1000}}\ntasks:\n  - name: rss\n    dir_source: {src}\n"
                    f"    engine: {args.engine}\n")

        runs = []
        for label in ("first snapshot (every file new)", "second snapshot (unchanged, every file linked)"):
            time.sleep(max(0.0, 1.05 - (time.time() % 1)))  # a fresh second: a fresh snapshot name
            os.sync()
            log = os.path.join(work, f"run{len(runs) + 1}.out")
            code, seconds, kib = peak_rss_run([args.bin, "--data", data, "run"], log)
            if code not in (0, 1):  # 1: finished with a warning; its memory figure still stands
                sys.exit(f"mnemosynce run ({label}) failed with exit code {code}; its output:\n{tail(log)}\n"
                         f"(step logs: {data}/logs/)")
            latest = os.path.join(store, "rss", "latest")
            if not os.path.isdir(latest):
                sys.exit(f"mnemosynce run ({label}) exited with {code} but made no snapshot ({latest} is "
                         f"missing); its output:\n{tail(log)}")
            found = count_files(latest)
            if found != args.files:
                sys.exit(f"{label}: the snapshot holds {found} files, not {args.files}; the figure would "
                         f"not mean anything (output: {log})")
            runs.append({"run": label, "seconds": round(seconds, 1), "peak_rss_mb": round(kib / 1024, 1)})
            print(f"{label:<48} peak RSS {kib / 1024:6.1f} MB   {seconds:6.1f} s", flush=True)

        worst = max(r["peak_rss_mb"] for r in runs)
        ok = worst <= TARGET_MB
        print()
        print(f"{'target':<48} {'measured':>9} {'goal':>9}  result")
        print(f"{f'peak RSS of mnemosynce run ({args.engine}), {args.files} files':<48} "
              f"{worst:>6.1f} MB {f'<= {TARGET_MB:.0f} MB':>9}  {'PASS' if ok else 'FAIL'}")
        print()
        print(json.dumps({"engine": args.engine, "files": args.files, "dirs": args.dirs,
                          "file_bytes": args.file_bytes, "runs": runs, "worst_peak_rss_mb": worst,
                          "target_mb": TARGET_MB, "pass": ok}))
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
