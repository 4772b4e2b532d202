#!/usr/bin/python3
# What livecd-tools would install: the same dnf calls as livecd-tools' DnfLiveCD and
# ImageCreator.__apply_selections, on the repositories and %packages given as JSON, with
# two changes that follow dnf5 and anaconda: a group brings its conditional members (dnf's
# group_package_types default), and a group an environment names that no repository has is
# skipped (as dnf's own environment install does).
# Prints one "NEVRA REPO" line per package, sorted; on failure "ERROR: ..." and exit 1.
import itertools
import json
import shutil
import sys
import tempfile

import dnf
import dnf.exceptions

GROUP_DEFAULT, GROUP_ALL, GROUP_REQUIRED = 2, 3, 1


def main(root):
    cfg = json.load(open(sys.argv[1]))
    base = dnf.Base()
    conf = base.conf
    conf.installroot = root
    conf.cachedir = root + "/cache"
    conf.persistdir = root + "/persist"
    conf.reposdir = []
    conf.obsoletes = True
    conf.best = True
    conf.install_weak_deps = not cfg.get("excludeWeakdeps", False)
    # %packages --multilib: every arch of what is asked for (multilib_policy "all")
    conf.multilib_policy = "all" if cfg.get("multilib", False) else "best"
    conf.substitutions["arch"] = "x86_64"
    conf.substitutions["basearch"] = "x86_64"
    conf.substitutions["releasever"] = cfg.get("releasever", "39")
    for r in cfg["repos"]:
        repo = dnf.repo.Repo(r["id"], conf)
        repo.baseurl = [r["baseurl"]]
        if "cost" in r:
            repo.cost = r["cost"]
        if r.get("includepkgs"):
            repo.includepkgs = r["includepkgs"]
        if r.get("excludepkgs"):
            repo.excludepkgs = r["excludepkgs"]
        repo.enable()
        base.repos.add(repo)
    base.fill_sack(load_system_repo=False)
    base.read_comps()

    ignore_missing = cfg.get("ignoremissing", False)
    excluded = cfg.get("excluded", [])
    excluded_groups = cfg.get("excludedGroups", [])

    def select_group(gid, include=GROUP_DEFAULT):
        grp = base.comps.group_by_pattern(gid)
        if grp is None:
            raise dnf.exceptions.MarkingError("no such group", "@" + gid)
        types = {"mandatory", "default", "conditional"}
        if include == GROUP_REQUIRED:
            types.remove("default")
        elif include == GROUP_ALL:
            types.add("optional")
        try:
            base.group_install(grp.id, tuple(types), exclude=excluded)
        except dnf.exceptions.CompsError:
            pass

    def missing(what, e):
        if not ignore_missing:
            print("ERROR: missing %s: %s" % (what, e))
            sys.exit(1)

    if not cfg.get("nocore", False):
        try:
            select_group("core")
        except dnf.exceptions.MarkingError as e:
            missing("group core", e)
    env = cfg.get("environment")
    if env:
        e = base.comps.environment_by_pattern(env)
        if e is None:
            missing("environment " + env, "no such environment")
        else:
            for gid in sorted(set(g.name for g in e.group_ids) - set(excluded_groups)):
                try:
                    select_group(gid)
                except dnf.exceptions.MarkingError:
                    pass
    for g in cfg.get("groups", []):
        if (g["name"] == "core" and not cfg.get("nocore", False)) or g["name"] in excluded_groups:
            continue
        try:
            select_group(g["name"], g.get("include", GROUP_DEFAULT))
        except dnf.exceptions.MarkingError as e:
            missing("group " + g["name"], e)
    for p in set(excluded):
        base.sack.add_excludes(dnf.subject.Subject(p).get_best_query(base.sack))
    for p in sorted(set(cfg.get("packages", [])) - set(excluded)):
        try:
            base.install(p)
        except dnf.exceptions.MarkingError as e:
            missing("package " + p, e)
    try:
        base.resolve()
    except dnf.exceptions.Error as e:
        print("ERROR: " + str(e).replace("\n", " | "))
        sys.exit(1)
    for p in sorted(base.transaction.install_set, key=lambda p: (p.name, p.evr, p.arch)):
        print("%s-%s.%s %s" % (p.name, p.evr, p.arch, p.reponame))


root = tempfile.mkdtemp(prefix="dnf-oracle-")
try:
    main(root)
finally:
    shutil.rmtree(root, ignore_errors=True)
