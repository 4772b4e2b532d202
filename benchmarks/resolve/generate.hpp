// Fedora-scale repository metadata without payloads: ~70,000 packages (x86_64, noarch and
// an i686 multilib subset) with sonames, versioned and file requires, weak and rich deps,
// obsoletes, file lists, and a comps file with a core and a desktop group.
#pragma once

#include <imgcreate/install/librepo.hpp>
#include <imgcreate/support/process.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

namespace fs = std::filesystem;

struct Spec {
    int packages = 64000;     // x86_64 + noarch
    int multilib = 6000;      // i686 copies of the first library packages
    int desktop_members = 370;
    int core_members = 60;
};

class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        s_ ^= s_ << 13;
        s_ ^= s_ >> 7;
        s_ ^= s_ << 17;
        return s_;
    }
    double unit() { return static_cast<double>(next() % 1000000) / 1000000.0; }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

private:
    std::uint64_t s_;
};

struct Pkg {
    std::string name, arch, ver, rel = "1.fc39";
    bool lib = false;
    std::vector<std::string> requires_, recommends, supplements, obsoletes;
};

inline const char* prefixes[] = {"lib", "python3-", "perl-", "rubygem-", "golang-github-", "texlive-", "ghc-",
                                 "nodejs-", "rust-", "mingw64-", "php-", "R-", "gnome-", "kf5-", "qt5-", "xorg-x11-"};
inline const char* words[] = {"alpha", "beta", "gamma", "delta", "omega", "sigma", "zeta", "kappa", "lambda", "theta",
                              "core", "utils", "tools", "data", "common", "devel", "extra", "plugin", "server", "client"};

inline std::string name_of(int i) {
    if (i == 0) return "glibc";
    if (i == 1) return "bash";
    if (i == 2) return "python3";
    if (i == 3) return "langpacks-en";
    return std::string(prefixes[i % 16]) + words[(i / 16) % 20] + "-" + std::to_string(i);
}

inline std::string soname(int i, bool m64) { return "lib" + name_of(i) + ".so." + std::to_string(i % 5 + 1) + (m64 ? "()(64bit)" : ""); }

inline std::vector<Pkg> make_packages(const Spec& spec) {
    Rng rng(42);
    std::vector<Pkg> pkgs;
    for (int i = 0; i < spec.packages; ++i) {
        Pkg p;
        p.name = name_of(i);
        p.lib = i % 3 == 0;
        p.arch = (!p.lib && i % 4 == 1) ? "noarch" : "x86_64";
        p.ver = std::to_string(1 + i % 7) + "." + std::to_string(i % 13) + "." + std::to_string(i % 3);
        if (i >= 8) {
            if (p.arch != "noarch") p.requires_ = {"libc.so.6()(64bit)", "rtld(GNU_HASH)"};
            if (i % 5 == 0) p.requires_.push_back("/bin/sh");
            if (p.name.rfind("python3-", 0) == 0) p.requires_.push_back("/usr/bin/python3");
            const int deps = 2 + rng.below(6);
            for (int d = 0; d < deps; ++d) {
                // Most dependencies go to a shared base (glibc and friends); some to nearby
                // packages, as subpackages and siblings of one source do.
                const double u = rng.unit();
                const int base = 1200;
                const int j = (i < base || rng.unit() < 0.9) ? 4 + static_cast<int>((std::min(i, base) - 4) * u * u * u)
                                                             : std::max(4, i - 1 - static_cast<int>(300 * u));
                if (j >= i) continue;
                if (pkgs[static_cast<std::size_t>(j)].lib && p.arch != "noarch") p.requires_.push_back(soname(j, true));
                else if (d % 2) p.requires_.push_back(name_of(j) + " >= " + pkgs[static_cast<std::size_t>(j)].ver);
                else p.requires_.push_back(name_of(j));
            }
            if (i % 19 == 0) p.recommends.push_back(name_of(4 + rng.below(i - 4)));
            if (i % 53 == 0) p.supplements.push_back("(" + name_of(4 + rng.below(i - 4)) + " and langpacks-en)");
            if (i % 97 == 0) p.obsoletes.push_back(p.name + "-compat < 1.0");
        }
        pkgs.push_back(std::move(p));
    }
    for (int i = 0, copied = 0; i < spec.packages && copied < spec.multilib; ++i) {
        if (!pkgs[static_cast<std::size_t>(i)].lib) continue;
        Pkg p = pkgs[static_cast<std::size_t>(i)];
        p.arch = "i686";
        for (auto& r : p.requires_)
            if (auto pos = r.find("()(64bit)"); pos != std::string::npos) r.erase(pos);
        pkgs.push_back(std::move(p));
        ++copied;
    }
    return pkgs;
}

inline std::string pkgid(const Pkg& p) {
    const auto h1 = std::hash<std::string>{}(p.name + p.arch);
    const auto h2 = std::hash<std::string>{}(p.arch + p.name + p.ver);
    char buf[65];
    std::snprintf(buf, sizeof buf, "%016zx%016zx%016zx%016zx", h1, h2, h1 ^ 0x5555, h2 ^ 0xaaaa);
    return buf;
}

inline void entry(FILE* f, const std::string& dep, bool pre = false) {
    std::string name = dep, flags, ver;
    if (auto pos = dep.find(" >= "); pos != std::string::npos) {
        name = dep.substr(0, pos);
        ver = dep.substr(pos + 4);
        flags = "GE";
    } else if (auto lt = dep.find(" < "); lt != std::string::npos) {
        name = dep.substr(0, lt);
        ver = dep.substr(lt + 3);
        flags = "LT";
    }
    std::string escaped;
    for (char c : name) escaped += c == '&' ? "&amp;" : c == '<' ? "&lt;" : std::string(1, c);
    if (flags.empty()) std::fprintf(f, "      <rpm:entry name=\"%s\"%s/>\n", escaped.c_str(), pre ? " pre=\"1\"" : "");
    else std::fprintf(f, "      <rpm:entry name=\"%s\" flags=\"%s\" epoch=\"0\" ver=\"%s\"/>\n", escaped.c_str(), flags.c_str(), ver.c_str());
}

inline void deps(FILE* f, const char* tag, const std::vector<std::string>& list) {
    if (list.empty()) return;
    std::fprintf(f, "    <rpm:%s>\n", tag);
    for (const auto& d : list) entry(f, d, d == "/bin/sh");
    std::fprintf(f, "    </rpm:%s>\n", tag);
}

inline const char* locales[] = {"ar", "bg", "ca", "cs", "da", "de", "el", "en_GB", "es", "et", "eu", "fi", "fr", "gl",
                                "he", "hr", "hu", "id", "it", "ja", "ko", "lt", "nb", "nl", "pl", "pt", "pt_BR", "ro",
                                "ru", "sk", "sl", "sr", "sv", "tr", "uk", "zh_CN", "zh_TW"};

// File lists shaped like Fedora's: binaries and config (which primary carries), docs,
// licences, man pages, translations, language modules, icons (which only filelists has).
inline std::vector<std::string> files_of(const Pkg& p, int index) {
    std::vector<std::string> files;
    if (!p.lib && index % 2 == 0) files.push_back("/usr/bin/" + p.name);
    if (p.name == "bash") files.insert(files.end(), {"/usr/bin/sh", "/bin/sh"});
    if (p.name == "python3") files.push_back("/usr/bin/python3");
    if (index % 6 == 0) files.push_back("/etc/" + p.name + "/" + p.name + ".conf");
    const std::string doc = "/usr/share/doc/" + p.name + "/", lic = "/usr/share/licenses/" + p.name + "/";
    files.insert(files.end(), {doc + "README.md", doc + "NEWS", doc + "CHANGELOG.md", lic + "LICENSE"});
    if (!p.lib && index % 2 == 0) files.push_back("/usr/share/man/man1/" + p.name + ".1.gz");
    if (index % 3 == 1)
        for (const char* l : locales) files.push_back(std::string("/usr/share/locale/") + l + "/LC_MESSAGES/" + p.name + ".mo");
    if (p.name.rfind("python3-", 0) == 0) {
        const std::string site = "/usr/lib/python3.12/site-packages/" + p.name.substr(8) + "/";
        for (int k = 0; k < 30; ++k) {
            files.push_back(site + "module_" + std::to_string(k) + ".py");
            files.push_back(site + "__pycache__/module_" + std::to_string(k) + ".cpython-312.pyc");
        }
    } else if (p.name.rfind("perl-", 0) == 0) {
        for (int k = 0; k < 20; ++k) files.push_back("/usr/share/perl5/vendor_perl/" + p.name.substr(5) + "/Part" + std::to_string(k) + ".pm");
    } else if (p.name.rfind("gnome-", 0) == 0 || p.name.rfind("kf5-", 0) == 0) {
        for (int size : {16, 22, 24, 32, 48, 64, 128, 256, 512})
            files.push_back("/usr/share/icons/hicolor/" + std::to_string(size) + "x" + std::to_string(size) + "/apps/" + p.name + ".png");
    }
    const int extra = index % 25;
    for (int k = 0; k < extra; ++k) files.push_back("/usr/share/" + p.name + "/data/file" + std::to_string(k) + ".dat");
    if (p.lib) {
        const std::string dir = p.arch == "i686" ? "/usr/lib/" : "/usr/lib64/";
        files.push_back(dir + "lib" + p.name + ".so.1");
        files.push_back(dir + "lib" + p.name + ".so.1.0.0");
    }
    return files;
}

inline void write_primary(FILE* f, const std::vector<Pkg>& pkgs) {
    std::fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" "
                    "xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%zu\">\n", pkgs.size());
    for (std::size_t i = 0; i < pkgs.size(); ++i) {
        const Pkg& p = pkgs[i];
        const int idx = static_cast<int>(i % 64000);
        std::fprintf(f, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>%s</arch>\n"
                        "  <version epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n"
                        "  <checksum type=\"sha256\" pkgid=\"YES\">%s</checksum>\n"
                        "  <summary>The %s package provides %s for the system</summary>\n"
                        "  <description>%s is a generated package standing in for a real one. It carries "
                        "dependencies and files shaped like those of a Fedora package so that metadata loading "
                        "and dependency resolution do realistic work.</description>\n"
                        "  <packager>Fedora Project</packager>\n  <url>https://example.org/%s</url>\n"
                        "  <time file=\"1700000000\" build=\"1690000000\"/>\n"
                        "  <size package=\"%d\" installed=\"%d\" archive=\"%d\"/>\n"
                        "  <location href=\"Packages/%c/%s-%s-%s.%s.rpm\"/>\n  <format>\n"
                        "    <rpm:license>MIT</rpm:license>\n    <rpm:vendor>Fedora Project</rpm:vendor>\n"
                        "    <rpm:group>Unspecified</rpm:group>\n    <rpm:buildhost>buildhw-x86-01.fedoraproject.org</rpm:buildhost>\n"
                        "    <rpm:sourcerpm>%s-%s-%s.src.rpm</rpm:sourcerpm>\n"
                        "    <rpm:header-range start=\"4504\" end=\"%d\"/>\n",
                     p.name.c_str(), p.arch.c_str(), p.ver.c_str(), p.rel.c_str(), pkgid(p).c_str(), p.name.c_str(),
                     words[idx % 20], p.name.c_str(), p.name.c_str(), 20000 + idx * 7 % 900000,
                     60000 + idx * 13 % 3000000, 61000 + idx * 13 % 3000000, p.name[0], p.name.c_str(), p.ver.c_str(),
                     p.rel.c_str(), p.arch.c_str(), p.name.c_str(), p.ver.c_str(), p.rel.c_str(), 9000 + idx % 40000);
        std::vector<std::string> provides{p.name + " = " + p.ver};
        std::fprintf(f, "    <rpm:provides>\n");
        std::fprintf(f, "      <rpm:entry name=\"%s\" flags=\"EQ\" epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n", p.name.c_str(), p.ver.c_str(), p.rel.c_str());
        if (p.arch != "noarch")
            std::fprintf(f, "      <rpm:entry name=\"%s(%s)\" flags=\"EQ\" epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n", p.name.c_str(),
                         p.arch == "i686" ? "x86-32" : "x86-64", p.ver.c_str(), p.rel.c_str());
        if (p.lib) {
            const std::string so = soname(idx, false);
            entry(f, soname(idx, p.arch != "i686"));
            for (const char* v : {"_1.0", "_1.1", "_2.0"})
                entry(f, so + "(" + p.name + v + ")" + (p.arch != "i686" ? "(64bit)" : ""));
        }
        if (p.name.rfind("python3-", 0) == 0) {
            entry(f, "python3dist(" + p.name.substr(8) + ") = " + p.ver);
            entry(f, "python3.12dist(" + p.name.substr(8) + ") = " + p.ver);
        }
        if (p.name == "glibc") {
            entry(f, p.arch == "i686" ? "libc.so.6" : "libc.so.6()(64bit)");
            entry(f, "rtld(GNU_HASH)");
        }
        if (idx % 7 == 0) entry(f, "config(" + p.name + ") = " + p.ver);
        if (idx % 11 == 0) entry(f, "pkgconfig(" + p.name + ")");
        std::fprintf(f, "    </rpm:provides>\n");
        deps(f, "requires", p.requires_);
        deps(f, "obsoletes", p.obsoletes);
        deps(f, "recommends", p.recommends);
        deps(f, "supplements", p.supplements);
        for (const auto& file : files_of(p, idx))
            if (file.rfind("/etc/", 0) == 0 || file.find("bin/") != std::string::npos)
                std::fprintf(f, "    <file>%s</file>\n", file.c_str());
        std::fprintf(f, "  </format>\n</package>\n");
    }
    std::fprintf(f, "</metadata>\n");
}

inline void write_filelists(FILE* f, const std::vector<Pkg>& pkgs) {
    std::fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"%zu\">\n", pkgs.size());
    for (std::size_t i = 0; i < pkgs.size(); ++i) {
        const Pkg& p = pkgs[i];
        std::fprintf(f, "<package pkgid=\"%s\" name=\"%s\" arch=\"%s\">\n  <version epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n",
                     pkgid(p).c_str(), p.name.c_str(), p.arch.c_str(), p.ver.c_str(), p.rel.c_str());
        for (const auto& file : files_of(p, static_cast<int>(i % 64000))) std::fprintf(f, "  <file>%s</file>\n", file.c_str());
        std::fprintf(f, "  <file type=\"dir\">/usr/share/%s</file>\n</package>\n", p.name.c_str());
    }
    std::fprintf(f, "</filelists>\n");
}

inline void write_comps(std::ostream& out, const Spec& spec) {
    Rng rng(7);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<comps>\n";
    auto group = [&](const std::string& id, const std::vector<std::pair<int, const char*>>& members) {
        out << "  <group>\n    <id>" << id << "</id>\n    <name>" << id << "</name>\n    <description>" << id
            << " group</description>\n    <default>false</default>\n    <uservisible>true</uservisible>\n    <packagelist>\n";
        for (const auto& [i, type] : members)
            out << "      <packagereq type=\"" << type << "\">" << name_of(i) << "</packagereq>\n";
        out << "    </packagelist>\n  </group>\n";
    };
    std::vector<std::pair<int, const char*>> core{{0, "mandatory"}, {1, "mandatory"}, {2, "default"}};
    for (int k = 0; k < spec.core_members; ++k) core.push_back({8 + rng.below(400), k % 3 ? "mandatory" : "default"});
    group("core", core);
    std::vector<std::pair<int, const char*>> desktop;
    for (int k = 0; k < spec.desktop_members; ++k)
        desktop.push_back({8 + rng.below(spec.packages - 8), k % 4 == 3 ? "default" : "mandatory"});
    for (int k = 0; k < 60; ++k) desktop.push_back({8 + rng.below(spec.packages - 8), "optional"});
    group("desktop", desktop);
    for (int g = 0; g < 180; ++g) {
        std::vector<std::pair<int, const char*>> members;
        for (int k = 0; k < 30; ++k) members.push_back({8 + rng.below(spec.packages - 8), k % 3 == 0 ? "mandatory" : k % 3 == 1 ? "default" : "optional"});
        group("group-" + std::to_string(g), members);
    }
    out << "  <environment>\n    <id>workstation-environment</id>\n    <name>Workstation</name>\n    <grouplist>\n"
           "      <groupid>core</groupid>\n      <groupid>desktop</groupid>\n    </grouplist>\n    <optionlist>\n";
    for (int g = 0; g < 20; ++g) out << "      <groupid>group-" << g << "</groupid>\n";
    out << "    </optionlist>\n  </environment>\n</comps>\n";
}

inline std::string sha256(const fs::path& p) {
    auto out = imgcreate::run({"sha256sum", p.string()}).output;
    return out.substr(0, 64);
}

inline void write_repomd(const fs::path& repo) {
    std::ofstream md(repo / "repodata/repomd.xml");
    md << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" "
          "xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>1700000000</revision>\n";
    for (const auto& [type, file, open] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"primary", "primary.xml.gz", "primary.xml"}, {"filelists", "filelists.xml.gz", "filelists.xml"},
             {"group", "comps.xml", ""}, {"group_gz", "comps.xml.gz", "comps.xml"}}) {
        const fs::path f = repo / "repodata" / file;
        md << "  <data type=\"" << type << "\">\n    <checksum type=\"sha256\">" << sha256(f) << "</checksum>\n";
        if (!open.empty())
            md << "    <open-checksum type=\"sha256\">" << sha256(repo / "repodata" / open) << "</open-checksum>\n";
        md << "    <location href=\"repodata/" << file << "\"/>\n    <timestamp>1700000000</timestamp>\n    <size>"
           << fs::file_size(f) << "</size>\n  </data>\n";
    }
    md << "</repomd>\n";
}

// Writes the repository into `repo` unless it is already there.
inline void generate_repository(const fs::path& repo, const Spec& spec) {
    const fs::path done = repo / ".generated-v3";
    if (fs::exists(done)) return;
    fs::remove_all(repo);
    fs::create_directories(repo / "repodata");
    const auto pkgs = make_packages(spec);
    {
        FILE* f = std::fopen((repo / "repodata/primary.xml").c_str(), "w");
        write_primary(f, pkgs);
        std::fclose(f);
        f = std::fopen((repo / "repodata/filelists.xml").c_str(), "w");
        write_filelists(f, pkgs);
        std::fclose(f);
        std::ofstream comps(repo / "repodata/comps.xml");
        write_comps(comps, spec);
    }
    for (const char* f : {"primary.xml", "filelists.xml", "comps.xml"})
        imgcreate::run({"sh", "-c", std::string("gzip -1 -k -c ") + (repo / "repodata" / f).string() + " > " +
                                        (repo / "repodata" / f).string() + ".gz"});
    write_repomd(repo);
    fs::remove(repo / "repodata/primary.xml");
    fs::remove(repo / "repodata/filelists.xml");
    std::ofstream(done) << "ok\n";
}

}  // namespace bench
