// Test packages for the transaction tests: built from test/data/repos/install/*.spec with
// rpmbuild, once per spec and set of defines, cached under the build directory.
#pragma once

#include <imgcreate/install/package.hpp>
#include <imgcreate/support/process.hpp>

#include <support/skip.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sys/mount.h>

namespace imgcreate::test {

namespace fs = std::filesystem;

inline fs::path install_specs_dir() { return fs::path(IMGCREATE_TEST_SOURCE_DIR) / "data/repos/install"; }
inline fs::path install_cache_dir() { return fs::path(IMGCREATE_BINARY_DIR) / "test-data/install"; }

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// rpmbuild's answer for `spec` with `defines`: the path of the one binary rpm it made.
inline fs::path build_rpm(const std::string& spec_name, const std::map<std::string, std::string>& defines = {}) {
    IMGCREATE_REQUIRE_PROGRAM("rpmbuild");
    const fs::path spec = install_specs_dir() / (spec_name + ".spec");
    std::string key = read_text(spec);
    std::vector<std::string> argv = {"rpmbuild", "-bb", "--quiet", "--nodeps"};
    std::map<std::string, std::string> all = defines;
    all.emplace("busybox_path", "/bin/busybox");
    all.emplace("debug_package", "%{nil}");
    all.emplace("__os_install_post", "%{nil}");
    all.emplace("_build_id_links", "none");
    all.emplace("source_date_epoch_from_changelog", "0");
    for (const auto& [k, v] : all) {
        argv.insert(argv.end(), {"--define", k + " " + v});
        key += k + "=" + v + ";";
    }
    const fs::path dir = install_cache_dir() / "rpms" / (spec_name + "-" + std::to_string(std::hash<std::string>{}(key)));
    const fs::path done = dir / ".built";
    if (!fs::exists(done)) {
        fs::remove_all(dir);
        fs::create_directories(dir / "top");
        argv.insert(argv.end(), {"--define", "_topdir " + (dir / "top").string(), "--define",
                                 "_rpmdir " + (dir / "out").string(), spec.string()});
        run(argv);
        write_text(done, "");
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir / "out"))
        if (entry.path().extension() == ".rpm") return entry.path();
    throw Error("rpmbuild made no package for " + spec.string());
}

// The hand-off the resolver would make for a local file.
inline install::Package package_from_rpm(const fs::path& rpm, const std::string& repo = "test") {
    auto out = run({"rpm", "-qp", "--nosignature", "--nodigest", "--qf",
                    "%{NAME}\n%{EPOCH}\n%{VERSION}\n%{RELEASE}\n%{ARCH}\n", rpm.string()}).output;
    std::vector<std::string> f;
    std::stringstream s(out);
    for (std::string line; std::getline(s, line);) f.push_back(line);
    install::Package p;
    p.name = f.at(0);
    p.epoch = f.at(1) == "(none)" ? "" : f.at(1);
    p.version = f.at(2);
    p.release = f.at(3);
    p.arch = f.at(4);
    p.repo = repo;
    p.location = rpm.filename().string();
    p.local_path = rpm;
    return p;
}

inline install::Package test_package(const std::string& spec_name, const std::map<std::string, std::string>& defines = {},
                                     const std::string& repo = "test") {
    return package_from_rpm(build_rpm(spec_name, defines), repo);
}

// A fresh empty directory under the build dir, removed (with anything mounted on it
// unmounted) when the test ends.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& name) : path_(install_cache_dir() / "roots" / name) {
        unmount_below();
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~ScratchDir() {
        unmount_below();
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& rel) const { return path_ / rel; }

private:
    void unmount_below() {
        // Deepest first: /proc/self/mountinfo lists parents before children.
        std::vector<std::string> targets;
        std::ifstream in("/proc/self/mountinfo");
        for (std::string line; std::getline(in, line);) {
            std::stringstream s(line);
            std::string id, parent, dev, root, target;
            s >> id >> parent >> dev >> root >> target;
            if (target.rfind(path_.string(), 0) == 0) targets.push_back(target);
        }
        for (auto it = targets.rbegin(); it != targets.rend(); ++it) ::umount2(it->c_str(), 0);
    }
    fs::path path_;
};

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream s(text);
    for (std::string line; std::getline(s, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// `rpm --root R --dbpath D -qa`, sorted: what a user would run to see what a root has.
inline std::vector<std::string> rpm_qa(const fs::path& root, const std::string& dbpath = "/usr/lib/sysimage/rpm") {
    auto out = run({"rpm", "--root", root.string(), "--dbpath", dbpath, "-qa", "--qf", "%{NEVRA}\n"}).output;
    auto lines = lines_of(out);
    std::sort(lines.begin(), lines.end());
    return lines;
}

}  // namespace imgcreate::test

namespace imgcreate::test {

// A throwaway OpenPGP key made with Debian's gpg, and rpmsign to sign copies of packages.
struct SigningKey {
    fs::path home;         // GNUPGHOME
    std::string name;      // user id, for rpmsign's %_gpg_name
    fs::path public_key;   // ASCII-armored export: what a repo's gpgkey= points at
    std::string key_id;    // 16 lower-case hex digits

    static SigningKey make(const std::string& label) {
        IMGCREATE_REQUIRE_PROGRAM("gpg");
        IMGCREATE_REQUIRE_PROGRAM("rpmsign");
        SigningKey key;
        key.home = install_cache_dir() / ("gnupg-" + label);
        key.name = "imgcreate test key " + label;
        key.public_key = key.home / "public.asc";
        if (!fs::exists(key.public_key)) {
            fs::remove_all(key.home);
            fs::create_directories(key.home);
            fs::permissions(key.home, fs::perms::owner_all);
            key.gpg({"--quick-gen-key", key.name + " <" + label + "@imgcreate.invalid>", "rsa2048", "sign", "never"});
            write_text(key.public_key, key.gpg({"--armor", "--export", key.name}));
        }
        for (const auto& line : lines_of(key.gpg({"--list-keys", "--with-colons", key.name}))) {
            if (line.rfind("pub:", 0) != 0) continue;
            std::vector<std::string> fields;
            std::stringstream s(line);
            for (std::string f; std::getline(s, f, ':');) fields.push_back(f);
            key.key_id = fields.at(4);
        }
        std::transform(key.key_id.begin(), key.key_id.end(), key.key_id.begin(), ::tolower);
        return key;
    }

    std::string gpg(std::vector<std::string> args) const {
        Command cmd;
        cmd.argv = {"gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""};
        cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
        cmd.env = std::map<std::string, std::string>{{"GNUPGHOME", home.string()}, {"PATH", "/usr/bin:/bin"}};
        cmd.log_output = false;
        return run(cmd).output;
    }

    // A signed copy of `rpm` named after the key, beside the cache.
    fs::path sign_copy(const fs::path& rpm) const {
        const fs::path copy = home / "signed" / rpm.filename();
        if (fs::exists(copy)) return copy;
        fs::create_directories(copy.parent_path());
        fs::copy_file(rpm, copy, fs::copy_options::overwrite_existing);
        Command cmd;
        cmd.argv = {"rpmsign", "--addsign", "--define", "__gpg /usr/bin/gpg", "--define", "_gpg_name " + name,
                    "--define", "_gpg_path " + home.string(), copy.string()};
        cmd.env = std::map<std::string, std::string>{{"GNUPGHOME", home.string()}, {"PATH", "/usr/bin:/bin"}};
        run(cmd);
        return copy;
    }

    ~SigningKey() {
        // gpg starts an agent per home; it must not outlive the test.
        if (!home.empty()) {
            Command cmd;
            cmd.argv = {"gpgconf", "--kill", "gpg-agent"};
            cmd.env = std::map<std::string, std::string>{{"GNUPGHOME", home.string()}, {"PATH", "/usr/bin:/bin"}};
            cmd.check = false;
            run(cmd);
        }
    }
};

}  // namespace imgcreate::test
