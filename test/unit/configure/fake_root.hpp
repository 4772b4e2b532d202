// A directory shaped like an installed root (the files appliers read), and a capture of
// the log lines a test checks.
#pragma once

#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace imgcreate::test {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path = make_build_dir(fs::temp_directory_path());
    TempDir() = default;
    TempDir(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

inline std::string read_host_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_host_file(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644)) {
    fs::create_directories(p.parent_path());
    fs::remove(p);  // an existing read-only file (a 0400 shadow) is replaced, not opened
    std::ofstream(p, std::ios::binary) << text;
    fs::permissions(p, mode);
}

inline mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    return st.st_mode & 07777;
}

inline struct stat stat_of(const fs::path& p) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    return st;
}

// A root with the account files, unit files and zoneinfo a real Fedora root would have.
struct FakeRoot {
    TempDir dir;
    fs::path path = dir.path / "root";

    FakeRoot() {
        fs::create_directories(path);
        file("etc/passwd",
             "root:x:0:0:Super User:/root:/bin/bash\n"
             "bin:x:1:1:bin:/bin:/sbin/nologin\n");
        file("etc/shadow",
             "root:!locked::0:99999:7:::\n"
             "bin:*:19000:0:99999:7:::\n",
             shadow_mode());
        file("etc/group", "root:x:0:\nwheel:x:10:\n");
        file("usr/share/zoneinfo/Europe/Berlin", "TZif2 fake");
        file("usr/share/zoneinfo/Etc/UTC", "TZif2 fake");
        fs::create_directories(path / "root");
    }

    // Fedora ships /etc/shadow with mode 0000, which only root can read back.
    static fs::perms shadow_mode() { return ::geteuid() == 0 ? fs::perms::none : fs::perms(0400); }

    void file(const std::string& rel, const std::string& text, fs::perms mode = fs::perms(0644)) {
        write_host_file(path / rel, text, mode);
    }
    std::string read(const std::string& rel) const { return read_host_file(path / rel); }
    bool exists(const std::string& rel) const { return fs::exists(fs::symlink_status(path / rel)); }
    // An executable stand-in for a tool, so the applier finds it in the root.
    void tool(const std::string& rel) { file(rel, "#!/bin/sh\nexit 0\n", fs::perms(0755)); }
    RootDir dir_handle() const { return RootDir(path); }
};

// Log lines written while it lives (all levels), read back with text().
struct LogCapture {
    TempDir dir;
    fs::path file = dir.path / "log";
    LogCapture() { Logger::instance().open_file(file.string()); }
    ~LogCapture() { Logger::instance().close_file(); }
    std::string text() const { return read_host_file(file); }
    bool has(const std::string& fragment) const { return text().find(fragment) != std::string::npos; }
};

inline kickstart::Kickstart ks(const std::string& text) { return kickstart::parse_string(text, "test.ks"); }

}  // namespace imgcreate::test

#include "support/skip.hpp"
#define IMGCREATE_SKIP_MISSING(path) IMGCREATE_SKIP(std::string("needs ") + (path).string())
