#!/usr/bin/env python3
# Fills a build root with the files of the benchmark's packages: per package a tree of
# text-like and binary-like files whose counts and sizes vary the way a distribution's do
# (many small files, a few large ones, about 8 to a directory, 4% of them symlinks), about
# `mb_per_package` MB each. Deterministic.
import os
import random
import sys

buildroot, count, mb_per_package = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
words = ("the quick brown fox jumps over a lazy dog while configuration files, manual pages, "
         "translations and python modules make up most of a distribution").split()

for i in range(count):
    rng = random.Random(i)
    base = os.path.join(buildroot, "usr/share/bench", "pkg%03d" % i)
    budget = int(mb_per_package * (0.3 + 1.4 * rng.random()) * 1024 * 1024)
    nfiles = rng.randint(20, 200)
    sizes = sorted(rng.paretovariate(1.2) for _ in range(nfiles))
    scale = budget / sum(sizes)
    # About 8 files to a directory, as in a distribution (a Debian 12 package puts 7.9 files,
    # on average, in each directory it puts any in), two levels below the package's own one.
    ndirs = max(1, round(nfiles / 8))
    for n, weight in enumerate(sizes):
        leaf = n % ndirs
        d = os.path.join(base, "d%d" % (leaf // 3), "s%d" % (leaf % 3))
        os.makedirs(d, exist_ok=True)
        size = max(64, int(weight * scale))
        path = os.path.join(d, "f%03d%s" % (n, ".so" if n % 5 == 0 else ".txt"))
        with open(path, "wb") as f:
            if n % 5 == 0:
                # binary-like: half random, half zeros (compresses about 2:1, like ELF files)
                f.write(rng.randbytes(size // 2) + bytes(size - size // 2))
            else:
                text = " ".join(rng.choice(words) for _ in range(size // 5 + 1)).encode()
                f.write(text[:size])
        if n % 25 == 0:  # a library's soname link: symlinks are about 4% of a distribution's files
            os.symlink(os.path.basename(path), path + ".1")
    os.symlink("d0/s0/f000.so", os.path.join(base, "current.so"))
