"""The testdistro converter (examples/testdistro/deb2rpm.py): Debian versions and relations in
RPM's spelling, file names %files can read, and a .deb made here converted into an RPM whose
files, links, %config files and dependencies are checked with rpm, twice, byte for byte."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ["IMGCREATE_SOURCE_DIR"], "examples", "testdistro"))
import deb2rpm  # noqa: E402

CONVERTER = os.path.join(os.environ["IMGCREATE_SOURCE_DIR"], "examples", "testdistro", "deb2rpm.py")


class Versions(unittest.TestCase):
    def test_epoch_version_and_revision(self):
        self.assertEqual(deb2rpm.debian_evr("1:2.36-9+deb12u4", "p"), ("1", "2.36", "9+deb12u4"))

    def test_a_native_version_gets_release_0(self):
        self.assertEqual(deb2rpm.debian_evr("3.6.1", "p"), ("", "3.6.1", "0"))

    def test_dashes_in_the_upstream_version_become_underscores(self):
        self.assertEqual(deb2rpm.debian_evr("1.0-beta-3", "p"), ("", "1.0_beta", "3"))

    def test_a_character_rpm_cannot_spell_is_refused_with_the_package(self):
        with self.assertRaisesRegex(deb2rpm.ConversionError, "^p: version '1.0=2' has characters"):
            deb2rpm.debian_evr("1.0=2", "p")


class Relations(unittest.TestCase):
    def rel(self, text, field="Depends"):
        return deb2rpm.translate_field(text, "p", field)

    def test_operators(self):
        self.assertEqual(self.rel("libc6 (>= 2.34)"), ["libc6 >= 2.34"])
        self.assertEqual(self.rel("libc6 (<< 2.37)"), ["libc6 < 2.37"])
        self.assertEqual(self.rel("libc6 (= 1:2.36-9)"), ["libc6 = 1:2.36-9"])

    def test_strictly_greater_without_a_revision_counts_the_revision_as_dpkg_does(self):
        # dpkg: 2.36-9 >> 2.36. RPM compares versions alone unless a release is given.
        self.assertEqual(self.rel("libc6 (>> 2.36)"), ["libc6 > 2.36-0"])
        self.assertEqual(self.rel("libc6 (<= 2.36)"), ["libc6 <= 2.36-0"])

    def test_alternatives_become_a_rich_dependency(self):
        self.assertEqual(self.rel("a | b (>= 1.2), c"), ["(a or b >= 1.2)", "c"])

    def test_any_architecture_is_dropped_and_a_foreign_one_refused(self):
        self.assertEqual(self.rel("perl:any"), ["perl"])
        with self.assertRaisesRegex(deb2rpm.ConversionError, "needs architecture i386, which has no RPM spelling"):
            self.rel("libfoo:i386")

    def test_a_relation_that_is_no_dependency_is_refused(self):
        with self.assertRaisesRegex(deb2rpm.ConversionError, "^p: Depends 'foo \\(~ 1\\)' is not a dependency"):
            self.rel("foo (~ 1)")


class FileNames(unittest.TestCase):
    def test_glob_characters_match_only_themselves(self):
        self.assertEqual(deb2rpm.spec_path("usr/bin/["), "/usr/bin/[[]")
        self.assertEqual(deb2rpm.spec_path("usr/share/a*b?"), "/usr/share/a[*]b[?]")

    def test_spaces_quote_and_percent_doubles(self):
        self.assertEqual(deb2rpm.spec_path("usr/share/a b%c"), '"/usr/share/a b%%c"')

    def test_a_backslash_is_literal(self):
        self.assertEqual(deb2rpm.spec_path("usr/lib/systemd/system/a\\x2db.slice"), "/usr/lib/systemd/system/a\\x2db.slice")

    def test_merged_usr(self):
        self.assertEqual(deb2rpm.merged_usr("bin/ls"), "usr/bin/ls")
        self.assertEqual(deb2rpm.merged_usr("lib64/ld.so"), "usr/lib64/ld.so")
        self.assertEqual(deb2rpm.merged_usr("libexec/x"), "libexec/x")
        self.assertEqual(deb2rpm.merged_usr("etc/bin/x"), "etc/bin/x")


def make_deb(top, name, control_extra, files):
    """A .deb with `files` (path -> content, or ('link', target), or ('hard', other path))."""
    root = os.path.join(top, name + "-root")
    os.makedirs(os.path.join(root, "DEBIAN"))
    for path, content in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(content, tuple) and content[0] == "link":
            os.symlink(content[1], full)
        elif isinstance(content, tuple) and content[0] == "hard":
            os.link(os.path.join(root, content[1]), full)
        else:
            with open(full, "w") as f:
                f.write(content)
            os.chmod(full, 0o755 if "/bin/" in "/" + path else 0o644)
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        f.write(f"Package: {name}\nVersion: 1:2.0-3\nArchitecture: amd64\nMaintainer: nobody <n@example.org>\n"
                f"Description: a test package\n made for the converter's test\n{control_extra}")
    if "etc/tool.conf" in files:
        with open(os.path.join(root, "DEBIAN", "conffiles"), "w") as f:
            f.write("/etc/tool.conf\n")
    deb = os.path.join(top, "debs", f"{name}_2.0-3_amd64.deb")
    os.makedirs(os.path.dirname(deb), exist_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, deb], check=True, capture_output=True)
    return deb


def rpm_query(package, fmt):
    return subprocess.run(["rpm", "-qp", "--nosignature", "--qf", fmt, package], check=True, capture_output=True,
                          text=True).stdout


class Conversion(unittest.TestCase):
    def convert(self, top, out):
        return subprocess.run([sys.executable, CONVERTER, "--debs", os.path.join(top, "debs"), "--out", out,
                               "--work", os.path.join(top, "work"), "--jobs", "1"],
                              capture_output=True, text=True, env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))

    def test_a_deb_becomes_an_rpm_in_merged_usr_with_its_links_config_and_dependencies_and_twice_the_same(self):
        with tempfile.TemporaryDirectory() as top:
            make_deb(top, "tool", "Depends: libc6 (>= 2.34), a | b\nPre-Depends: dpkg (>= 1.19)\n"
                                  "Provides: tool-virtual\nBreaks: oldtool (<< 2)\n", {
                "bin/tool": "#!/bin/sh\necho tool\n",
                "bin/tool-data": ("link", "../usr/share/tool/data"),  # relative from /bin: fixed up
                "usr/share/tool/data": "data\n",
                "sbin/hard1": "#!/bin/sh\n",
                "sbin/hard2": ("hard", "sbin/hard1"),
                "etc/tool.conf": "setting=1\n",
            })
            results = []
            for run in ("one", "two"):
                out = os.path.join(top, run)
                result = self.convert(top, out)
                self.assertEqual(result.returncode, 0, result.stderr)
                results.append(os.path.join(out, "tool-2.0-3.x86_64.rpm"))
            rpm = results[0]
            with open(results[0], "rb") as a, open(results[1], "rb") as b:
                self.assertEqual(a.read(), b.read(), "two conversions with one SOURCE_DATE_EPOCH differ")

            files = rpm_query(rpm, "[%{FILENAMES} %{FILELINKTOS} %{FILENLINKS} %{FILEFLAGS:fflags}\n]").splitlines()
            by_path = {line.split(" ")[0]: line.split(" ")[1:] for line in files}
            self.assertIn("/usr/bin/tool", by_path)
            self.assertNotIn("/bin/tool", by_path)
            self.assertEqual(by_path["/usr/bin/tool-data"][0], "../share/tool/data")
            self.assertEqual(by_path["/usr/sbin/hard1"][1], "2")
            self.assertEqual(by_path["/usr/sbin/hard2"][1], "2")
            self.assertIn("c", by_path["/etc/tool.conf"][2])
            self.assertIn("n", by_path["/etc/tool.conf"][2])  # noreplace
            self.assertEqual(rpm_query(rpm, "%{EPOCH}:%{VERSION}-%{RELEASE}"), "1:2.0-3")
            requires = rpm_query(rpm, "[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION} %{REQUIREFLAGS:deptype}\n]")
            self.assertIn("libc6 >= 2.34 manual", requires)
            self.assertIn("(a or b)", requires)
            self.assertRegex(requires, r"dpkg >= 1.19 pre")
            provides = rpm_query(rpm, "[%{PROVIDENAME}\n]").split()
            self.assertIn("tool-virtual", provides)
            self.assertIn("/bin/tool", provides)  # where others may still look for it
            self.assertIn("oldtool < 2", rpm_query(rpm, "[%{CONFLICTNAME} %{CONFLICTFLAGS:depflags} %{CONFLICTVERSION}\n]"))

    def test_a_package_that_cannot_be_converted_is_named_with_the_reason(self):
        with tempfile.TemporaryDirectory() as top:
            make_deb(top, "good", "", {"usr/bin/good": "#!/bin/sh\n"})
            make_deb(top, "foreign", "Depends: libfoo:i386\n", {"usr/bin/foreign": "#!/bin/sh\n"})
            result = self.convert(top, os.path.join(top, "out"))
            self.assertEqual(result.returncode, 1)
            self.assertIn("deb2rpm: cannot convert foreign: Depends 'libfoo:i386' needs architecture i386", result.stderr)
            self.assertIn("1 of 2 packages could not be converted", result.stderr)


if __name__ == "__main__":
    unittest.main()
