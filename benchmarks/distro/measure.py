#!/usr/bin/env python3
"""Runs one contender of the distro benchmark and measures it.

    measure.py [--watch NAME,...] [--own NAME,...] LOG RESULT -- COMMAND [ARG...]

COMMAND's stdout and stderr go to LOG, each line prefixed with the seconds since the start
("[  12.345] line"), so that run-distro can find where each phase began. RESULT gets one line
of key=value pairs:

  wall         seconds from start to the command's exit
  user, sys    CPU seconds of the command and every descendant it or this process reaped
               (this process is a child subreaper, so orphaned descendants are counted too)
  maxrss_kib   ru_maxrss: peak resident set of the largest single process of the tree
  tree_kib     peak of the summed resident sets of the whole process tree, sampled every
               0.25 s (shared pages counted once per process)
  top          the process seen with the largest resident set, and that size (KiB)
  status       exit status; 128+N when killed by signal N
  own          the largest peak resident set (VmHWM) of the processes named by --own (the
               tool itself and its package manager, without the compressors and dracut it
               runs), as NAME:KiB, or "-"
  seen_NAME    for each --watch NAME: when a process of that name was running in the tree,
               as START-END intervals in seconds since the start (gaps under 1 s merged),
               e.g. seen_dracut=2.75-17.50,60.25-90.00
"""

import ctypes
import os
import resource
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def descendants(root):
    """root and every process below it, by the kernel's children lists."""
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        seen.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return seen


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def high_water_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def main():
    args = sys.argv[1:]
    watched, own = [], set()
    while args[:1] in (["--watch"], ["--own"]) and len(args) > 1:
        if args[0] == "--watch":
            watched = args[1].split(",")
        else:
            own = set(args[1].split(","))
        args = args[2:]
    if len(args) < 4 or args[2] != "--":
        print("usage: measure.py [--watch NAME,...] [--own NAME,...] LOG RESULT -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    log_path, result_path, argv = args[0], args[1], args[3:]
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    me = os.getpid()
    peak = {"tree": 0, "top": 0, "top_name": "-", "own": 0, "own_name": "-"}
    seen = {name: [] for name in watched}  # name -> [[start, end], ...]
    done = threading.Event()

    def sample():
        while not done.wait(0.25):
            now = time.monotonic() - start
            total, running = 0, set()
            for pid in descendants(me):
                if pid == me:
                    continue
                kib = rss_kib(pid)
                total += kib
                name = comm(pid) if (watched or own or kib > peak["top"]) else ""
                if kib > peak["top"]:
                    peak["top"], peak["top_name"] = kib, name
                if name in own:
                    hwm = high_water_kib(pid)
                    if hwm > peak["own"]:
                        peak["own"], peak["own_name"] = hwm, name
                if name in seen:
                    running.add(name)
            peak["tree"] = max(peak["tree"], total)
            for name in running:
                spans = seen[name]
                if spans and now - spans[-1][1] < 1.0:
                    spans[-1][1] = now
                else:
                    spans.append([now, now])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    def copy_output():
        with open(log_path, "w", errors="replace") as log:
            for raw in child.stdout:
                line = raw.decode(errors="replace").rstrip("\n").replace("\r", "")
                log.write(f"[{time.monotonic() - start:9.3f}] {line}\n")
                log.flush()

    reader = threading.Thread(target=copy_output, daemon=True)
    reader.start()
    status = child.wait()
    wall = time.monotonic() - start
    done.set()
    sampler.join()
    reader.join(timeout=5)  # a daemon the command left behind may hold the pipe open
    # Orphans re-parented to this process: reap what has already exited, so its CPU counts.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.1)
    left = [p for p in descendants(me) if p != me]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    status = 128 - status if status < 0 else status
    with open(result_path, "w") as out:
        out.write(f"wall={wall:.2f} user={after.ru_utime - before.ru_utime:.2f} sys={after.ru_stime - before.ru_stime:.2f} "
                  f"maxrss_kib={after.ru_maxrss} tree_kib={peak['tree']} top={peak['top_name']}:{peak['top']} "
                  f"own={peak['own_name']}:{peak['own']} "
                  f"left={len(left)} status={status}")
        for name, spans in seen.items():
            out.write(f" seen_{name}=" + (",".join(f"{a:.2f}-{b:.2f}" for a, b in spans) or "-"))
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
