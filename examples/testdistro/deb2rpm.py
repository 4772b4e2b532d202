#!/usr/bin/env python3
"""Converts Debian binary packages (.deb) into RPMs laid out as Fedora lays them out.

    deb2rpm.py --debs DIR --out REPODIR --work WORKDIR [--jobs N]

Each .deb becomes one RPM (the kernel becomes kernel-core and kernel-modules):
  - files, directories, symlinks and hardlinks with the owners and modes the .deb has, moved
    into merged /usr (/bin -> /usr/bin, /lib -> /usr/lib ...) with relative symlinks fixed up;
  - Depends/Pre-Depends as Requires/Requires(pre) (a | b as a rich dependency), Provides,
    Conflicts/Breaks as Conflicts, versions as epoch:version-release;
  - conffiles as %config(noreplace);
  - no maintainer scripts: what they do that matters is written as Fedora-style scriptlets
    in fedora_layout.py, which also renames packages and moves files where the creators
    look for them (kernel, shim, GRUB, SELinux policy).
A package that cannot be converted is named with the reason, and nothing is written to
REPODIR for it.
"""

import argparse
import concurrent.futures
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile

if __name__ == "__main__":  # the layout rules import this module by name
    sys.modules["deb2rpm"] = sys.modules["__main__"]

import fedora_layout  # noqa: E402


class ConversionError(Exception):
    pass


# --- Debian control data -----------------------------------------------------------------

def parse_control(text):
    fields, key = {}, None
    for line in text.splitlines():
        if not line:
            continue
        if line[0] in " \t" and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


RPM_VERSION_CHARS = re.compile(r"^[A-Za-z0-9._+~^]+$")


def debian_evr(version, package, what="version"):
    """'1:2.36-9+deb12u4' -> (epoch, version, release) in RPM's spelling."""
    epoch, _, rest = version.rpartition(":") if ":" in version else ("", "", version)
    if "-" in rest:
        upstream, _, release = rest.rpartition("-")
    else:
        upstream, release = rest, "0"
    upstream = upstream.replace("-", "_").replace(":", "_")
    for part in (upstream, release):
        if not RPM_VERSION_CHARS.match(part):
            raise ConversionError(f"{package}: {what} '{version}' has characters RPM cannot spell in a version")
    if epoch and not epoch.isdigit():
        raise ConversionError(f"{package}: {what} '{version}' has an epoch that is not a number")
    return epoch, upstream, release


def evr_string(evr):
    epoch, version, release = evr
    return (epoch + ":" if epoch else "") + version + "-" + release


OPERATORS = {"<<": "<", "<=": "<=", "=": "=", ">=": ">=", ">>": ">", "<": "<=", ">": ">="}
RELATION = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?$")


def translate_relation(text, package, field):
    """'libc6 (>= 2.34)' -> 'libc6 >= 2.34' (names through the renames table)."""
    match = RELATION.match(text.strip())
    if not match:
        raise ConversionError(f"{package}: {field} '{text.strip()}' is not a dependency RPM can spell")
    name, arch, op, version = match.groups()
    if arch not in (None, "any", "native", "amd64"):
        raise ConversionError(f"{package}: {field} '{text.strip()}' needs architecture {arch}, which has no RPM spelling here")
    name = fedora_layout.rpm_dependency_name(name)
    if not op:
        return name
    # A relation without a Debian revision compares the version alone in RPM, as in dpkg for
    # >= and <<; for >>, <= and = dpkg counts the revision ("2.36-9" >> "2.36"), which RPM
    # says with release 0 (what a version without a revision becomes here).
    epoch, upstream, release = debian_evr(version, package, f"{field} '{text.strip()}'")
    has_revision = "-" in version.split(":")[-1]
    spelled = (epoch + ":" if epoch else "") + upstream
    if has_revision or (op in (">>", "<=", "=") and field != "Provides"):
        spelled += "-" + release
    return f"{name} {OPERATORS[op]} {spelled}"


def translate_field(value, package, field):
    """A Depends-style field -> list of RPM dependency strings (rich ones for alternatives)."""
    out = []
    for clause in filter(None, (c.strip() for c in value.replace("\n", " ").split(","))):
        alternatives = [translate_relation(a, package, field) for a in clause.split("|")]
        unique = list(dict.fromkeys(alternatives))
        out.append(unique[0] if len(unique) == 1 else "(" + " or ".join(unique) + ")")
    return out


# --- files -------------------------------------------------------------------------------

MERGED = [("bin/", "usr/bin/"), ("sbin/", "usr/sbin/"), ("lib/", "usr/lib/"), ("lib64/", "usr/lib64/"),
          ("lib32/", "usr/lib32/"), ("libx32/", "usr/libx32/")]


def merged_usr(path):
    """'bin/ls' -> 'usr/bin/ls' (paths relative to the root, no leading slash)."""
    for old, new in MERGED:
        if path == old.rstrip("/"):
            return new.rstrip("/")
        if path.startswith(old):
            return new + path[len(old):]
    return path


class FileEntry:
    __slots__ = ("kind", "mode", "user", "group", "link", "config", "caps", "ghost", "old_path")

    def __init__(self, kind, mode, user="root", group="root", link=None):
        self.kind, self.mode, self.user, self.group, self.link = kind, mode, user, group, link
        self.config = self.ghost = False
        self.caps = None
        self.old_path = None  # where the .deb had it, when merged /usr moved it


class Package:
    def __init__(self, control, stage):
        self.control = control
        self.debian_name = control["Package"]
        self.name = self.debian_name
        self.evr = debian_evr(control["Version"], self.debian_name)
        self.arch = "noarch" if control.get("Architecture") == "all" else "x86_64"
        description = control.get("Description", self.debian_name).split("\n")
        self.summary = description[0].strip() or self.debian_name
        self.description = "\n".join("" if l.strip() == "." else l.strip() for l in description[1:]) or self.summary
        self.homepage = control.get("Homepage", "")
        self.requires, self.requires_pre, self.requires_post = [], [], []
        self.provides, self.conflicts, self.obsoletes = [], [], []
        self.scripts = {}        # "pre", "post", "posttrans", "preun", "postun" -> shell text
        self.triggers = []       # ("transfiletriggerin", paths, shell text)
        self.files = {}          # path relative to the root -> FileEntry
        self.stage = stage       # the build root
        self.maintainer_scripts = {}

    def add_script(self, kind, text):
        self.scripts[kind] = self.scripts.get(kind, "") + text.rstrip("\n") + "\n"

    # For the layout rules: files they add or move inside the build root.
    def write_file(self, path, content, mode=0o644, user="root", group="root", config=False):
        full = os.path.join(self.stage, path)
        self.ensure_dirs(posixpath.dirname(path))
        with open(full, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        os.chmod(full, mode)
        entry = FileEntry("file", mode, user, group)
        entry.config = config
        self.files[path] = entry
        return entry

    def symlink(self, path, target):
        full = os.path.join(self.stage, path)
        self.ensure_dirs(posixpath.dirname(path))
        if os.path.lexists(full):
            os.unlink(full)
        os.symlink(target, full)
        self.files[path] = FileEntry("symlink", 0o777, link=target)

    def ensure_dirs(self, path):
        parts = []
        for part in path.split("/"):
            if not part:
                continue
            parts.append(part)
            d = "/".join(parts)
            full = os.path.join(self.stage, d)
            if not os.path.isdir(full):
                os.mkdir(full, 0o755)
            if d not in self.files:
                self.files[d] = FileEntry("dir", 0o755)

    def move(self, old, new):
        self.ensure_dirs(posixpath.dirname(new))
        os.rename(os.path.join(self.stage, old), os.path.join(self.stage, new))
        self.files[new] = self.files.pop(old)

    def remove(self, path):
        full = os.path.join(self.stage, path)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        elif os.path.lexists(full):
            os.unlink(full)
        for p in [p for p in self.files if p == path or p.startswith(path + "/")]:
            del self.files[p]

    def read(self, path):
        with open(os.path.join(self.stage, path), "rb") as f:
            return f.read().decode()

    def ghost(self, path, mode=0o644, kind="file"):
        entry = FileEntry(kind, mode)
        entry.ghost = True
        self.files[path] = entry


def unpack(deb, package):
    """Fills package.stage from the .deb's data, merged /usr, and package.files from its tar headers."""
    tar_stream = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    hardlinks = []
    with tarfile.open(fileobj=tar_stream.stdout, mode="r|") as tar:
        for member in tar:
            orig = posixpath.normpath(member.name.lstrip("./")) if member.name not in (".", "./") else ""
            if not orig or orig == ".":
                continue
            path = merged_usr(orig)
            full = os.path.join(package.stage, path)
            if path in package.files and not member.isdir():
                raise ConversionError(f"{package.debian_name}: /{orig} and another path both land on /{path} in merged /usr")
            if member.isdir():
                os.makedirs(full, exist_ok=True)
                os.chmod(full, member.mode)
                kind, link = "dir", None
            elif member.issym():
                link = member.linkname
                if path != orig:  # a relative target must still name the same file from its new place
                    if not link.startswith("/"):
                        target = posixpath.normpath(posixpath.join(posixpath.dirname(orig), link))
                        link = posixpath.relpath(merged_usr(target), posixpath.dirname(path))
                if link.startswith("/"):
                    link = "/" + merged_usr(link.lstrip("/"))
                os.makedirs(os.path.dirname(full), exist_ok=True)
                os.symlink(link, full)
                kind = "symlink"
            elif member.islnk():
                hardlinks.append((path, merged_usr(posixpath.normpath(member.linkname.lstrip("./")))))
                kind, link = "file", None
            elif member.isfile():
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(member), out, 1 << 20)
                os.chmod(full, member.mode)
                kind, link = "file", None
            else:
                raise ConversionError(f"{package.debian_name}: /{orig} is a device or fifo; RPM payloads here carry none")
            if member.isfile():
                os.utime(full, (member.mtime, member.mtime))
            entry = FileEntry(kind, member.mode, member.uname or "root", member.gname or "root", link)
            if path != orig:
                entry.old_path = orig
            if kind == "dir" and path in package.files:
                continue
            package.files[path] = entry
    if tar_stream.wait() != 0:
        raise ConversionError(f"{package.debian_name}: dpkg-deb could not read {deb}")
    for path, target in hardlinks:
        os.link(os.path.join(package.stage, target), os.path.join(package.stage, path))


# --- the spec ----------------------------------------------------------------------------

GLOB_CHARS = re.compile(r"([\[\]*?{}])")


def spec_path(path):
    """A path as %files reads it: glob characters as one-character classes, % doubled. A
    backslash is taken literally only in a path with no glob characters; with them it is '?'."""
    if '"' in path or "\n" in path:
        raise ConversionError(f"a file name RPM's %files cannot spell: {path!r}")
    spelled = "/" + path
    if GLOB_CHARS.search(spelled):
        spelled = GLOB_CHARS.sub(lambda m: "[" + m.group(1) + "]", spelled.replace("\\", "?"))
    spelled = spelled.replace("%", "%%")
    return f'"{spelled}"' if " " in spelled or "\t" in spelled else spelled


def escape(text):
    return text.replace("%", "%%")


def files_section(package):
    try:
        return "\n".join(file_line(path, package.files[path]) for path in sorted(package.files))
    except ConversionError as e:
        raise ConversionError(f"{package.name}: {e}") from None


def file_line(path, entry):
    attrs = []
    if entry.kind == "dir":
        attrs.append("%dir")
    if entry.config:
        attrs.append("%config(noreplace)")
    if entry.ghost:
        attrs.append("%ghost")
    if entry.caps:
        attrs.append(f"%caps({entry.caps})")
    mode = "-" if entry.kind == "symlink" else f"{entry.mode & 0o7777:04o}"
    attrs.append(f"%attr({mode},{entry.user},{entry.group})")
    return " ".join(attrs) + " " + spec_path(path)


def spec_text(package):
    epoch, version, release = package.evr
    head = [f"Name: {package.name}"]
    if epoch:
        head.append(f"Epoch: {epoch}")
    head += [f"Version: {version}", f"Release: {release}", f"Summary: {escape(package.summary)}",
             f"License: Distributable, see /usr/share/doc/{package.debian_name}/copyright"]
    if package.homepage:
        head.append(f"URL: {escape(package.homepage)}")
    if package.arch == "noarch":
        head.append("BuildArch: noarch")
    head.append("AutoReqProv: no")
    for tag, deps in (("Requires(pre)", package.requires_pre), ("Requires(post)", package.requires_post),
                      ("Requires", package.requires),
                      ("Provides", package.provides), ("Conflicts", package.conflicts),
                      ("Obsoletes", package.obsoletes)):
        head += [f"{tag}: {escape(d)}" for d in dict.fromkeys(deps)]
    body = ["", "%description", escape(package.description), "", "%install", ""]
    for kind in ("pre", "post", "preun", "postun", "posttrans"):
        if kind in package.scripts:
            body += [f"%{kind}", escape(package.scripts[kind])]
    for kind, paths, text in package.triggers:
        body += [f"%{kind} -- {' '.join(paths)}", escape(text)]
    body += ["%files", files_section(package), ""]
    return "\n".join(head + body)


def rpmbuild(package, workdir, outdir, epoch_seconds):
    spec = os.path.join(workdir, "specs", package.name + ".spec")
    with open(spec, "w") as f:
        f.write(spec_text(package))
    log = os.path.join(workdir, "logs", package.name + ".log")
    defines = {
        "_topdir": os.path.join(workdir, "rpmbuild", package.name),
        "_rpmdir": outdir,
        "_build_name_fmt": "%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
        "__spec_install_pre": "%{___build_pre}",  # keep the build root the converter filled
        "__os_install_post": "%{nil}", "debug_package": "%{nil}", "_build_id_links": "none",
        "_binary_payload": "w3.zstdio", "_buildhost": "imgcreate-testdistro",
        "source_date_epoch_from_changelog": "0", "use_source_date_epoch_as_buildtime": "1",
        "clamp_mtime_to_source_date_epoch": "1", "_unpackaged_files_terminate_build": "1",
    }
    argv = ["rpmbuild", "-bb", "--quiet", "--noclean", "--nocheck", "--buildroot", package.stage,
            "--target", package.arch]
    for k, v in defines.items():
        argv += ["--define", f"{k} {v}"]
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch_seconds), LC_ALL="C")
    with open(log, "w") as out:
        rc = subprocess.run(argv + [spec], stdout=out, stderr=subprocess.STDOUT, env=env).returncode
    if rc != 0:
        with open(log) as f:
            tail = f.read().splitlines()[-15:]
        raise ConversionError(f"{package.name}: rpmbuild failed (spec {spec}, log {log}):\n  " + "\n  ".join(tail))


# --- one .deb ----------------------------------------------------------------------------

def read_package(deb, workdir):
    control_dir = os.path.join(workdir, "control", os.path.basename(deb))
    shutil.rmtree(control_dir, ignore_errors=True)
    subprocess.run(["dpkg-deb", "--control", deb, control_dir], check=True)
    with open(os.path.join(control_dir, "control")) as f:
        control = parse_control(f.read())
    stage = os.path.join(workdir, "root", control["Package"])
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    package = Package(control, stage)
    for script in ("preinst", "postinst", "prerm", "postrm"):
        path = os.path.join(control_dir, script)
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                package.maintainer_scripts[script] = f.read()
    unpack(deb, package)
    conffiles = os.path.join(control_dir, "conffiles")
    if os.path.exists(conffiles):
        with open(conffiles) as f:
            for line in f:
                path = merged_usr(line.split()[0].lstrip("/")) if line.strip() else ""
                if line.startswith("remove-on-upgrade") or path not in package.files:
                    continue
                package.files[path].config = True
    package.requires_pre += translate_field(control.get("Pre-Depends", ""), package.debian_name, "Pre-Depends")
    package.requires += translate_field(control.get("Depends", ""), package.debian_name, "Depends")
    for clause in translate_field(control.get("Provides", ""), package.debian_name, "Provides"):
        package.provides.append(clause)
    own = {p.split()[0] for p in package.provides} | {package.name}
    for field in ("Conflicts", "Breaks"):
        for clause in translate_field(control.get(field, ""), package.debian_name, field):
            if clause.startswith("(") or clause.split()[0] in own:
                continue  # Debian's "provides and conflicts with a virtual name": no self-conflicts in RPM
            package.conflicts.append(clause)
    # rpm looks owners up in the root's /etc/passwd and /etc/group when it unpacks.
    if package.debian_name != "base-passwd" and any(e.user != "root" or e.group != "root" for e in package.files.values()):
        package.requires_pre.append("base-passwd")
    # Paths merged /usr moved that others may still name (/bin/sh): provided as before.
    for path, entry in package.files.items():
        if entry.old_path and entry.kind != "dir" and entry.old_path.split("/")[0] in ("bin", "sbin"):
            package.provides.append("/" + entry.old_path)
    return package


def convert(deb, workdir, outdir, epoch_seconds, context):
    package = read_package(deb, workdir)
    results = fedora_layout.apply(package, context) or [package]
    for p in results:
        rpmbuild(p, workdir, outdir, epoch_seconds)
        shutil.rmtree(p.stage, ignore_errors=True)
    return [p.name for p in results]


def main():
    parser = argparse.ArgumentParser(description="Convert Debian .deb files into Fedora-shaped RPMs.")
    parser.add_argument("--debs", required=True, help="directory of .deb files")
    parser.add_argument("--out", required=True, help="directory the RPMs are written to")
    parser.add_argument("--work", required=True, help="scratch directory (emptied first)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", nargs="*", help="convert only these Debian packages")
    args = parser.parse_args()
    args.work, args.out, args.debs = (os.path.abspath(p) for p in (args.work, args.out, args.debs))
    epoch_seconds = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))
    shutil.rmtree(args.work, ignore_errors=True)
    for d in ("specs", "logs", "control", "root", "rpmbuild"):
        os.makedirs(os.path.join(args.work, d))
    os.makedirs(args.out, exist_ok=True)
    debs = sorted(os.path.join(args.debs, d) for d in os.listdir(args.debs) if d.endswith(".deb"))
    if args.only:
        debs = [d for d in debs if os.path.basename(d).split("_")[0] in args.only]
    context = fedora_layout.Context(debs, args.work)
    failures, built = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(convert, d, args.work, args.out, epoch_seconds, context): d for d in debs}
        for future in concurrent.futures.as_completed(futures):
            try:
                built += len(future.result())
            except ConversionError as e:
                failures.append(str(e))
            except (OSError, subprocess.CalledProcessError) as e:
                failures.append(f"{os.path.basename(futures[future])}: {e}")
    for f in sorted(failures):
        print(f"deb2rpm: cannot convert {f}", file=sys.stderr)
    if failures:
        print(f"deb2rpm: {len(failures)} of {len(debs)} packages could not be converted", file=sys.stderr)
        return 1
    for name, spec in fedora_layout.native_packages(context):
        package = Package({"Package": name, "Version": spec["version"], "Architecture": "all",
                           "Description": spec["summary"]}, os.path.join(args.work, "root", name))
        os.makedirs(package.stage)
        spec["fill"](package)
        rpmbuild(package, args.work, args.out, epoch_seconds)
        built += 1
    print(f"deb2rpm: {built} RPMs from {len(debs)} Debian packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
