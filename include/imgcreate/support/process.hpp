// imgcreate — the one way to run a program. Every run logs its argv, captures stdout and
// stderr (interleaved) into the log, and on failure throws CommandError with the argv, the
// exit status and the last lines of output. Optional: timeout, explicit environment,
// working directory, standard input, and running chrooted inside an install root.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/separate_compilation.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imgcreate {

struct Command {
    std::vector<std::string> argv;
    // nullopt: inherit the caller's environment. A map: exactly these variables.
    std::optional<std::map<std::string, std::string>> env;
    std::filesystem::path cwd;        // empty: the caller's
    std::filesystem::path chroot;     // non-empty: chroot() into it and chdir("/") before exec
    // Non-empty: the command runs in a mount namespace of its own where these mounts (host paths,
    // the deepest first) are detached, the directories under them in view; the caller's stay.
    std::vector<std::filesystem::path> detach_mounts;
    std::chrono::milliseconds timeout{0};  // 0: wait as long as it takes
    std::optional<std::string> input;      // fed to stdin (else stdin is /dev/null)
    bool check = true;                // throw CommandError on a non-zero exit
    bool log_output = true;           // copy each output line to the debug log
    std::size_t tail_lines = 20;      // how many last lines a CommandError shows
    // Set: output that follows a '\r' is a progress display redrawing its line (mksquashfs's
    // bar). Each such piece goes here, without its line ending, and not into the output or log.
    std::function<void(const std::string&)> on_redraw;
};

struct CommandResult {
    int exit_status = 0;              // 128+N when killed by signal N
    std::string output;               // stdout and stderr, interleaved
    bool timed_out = false;
};

// The environment scripts and tools get inside an install root: what livecd-tools
// forgets to set, so %post scripts behave the same whoever runs the build.
inline std::map<std::string, std::string> clean_environment() {
    return {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}, {"HOME", "/root"}, {"LANG", "C"},
            {"TERM", "dumb"}, {"SHELL", "/bin/sh"}};
}

// Full path of `name` on the caller's PATH (plus the sbin dirs), or empty if absent.
IMGCREATE_DECL std::filesystem::path find_program(const std::string& name);

// Throws a clear error naming the Debian package when a host tool is missing.
IMGCREATE_DECL std::filesystem::path require_program(const std::string& name, const std::string& package = {});

namespace detail {

inline std::string tail_of(const std::string& output, std::size_t lines) {
    if (lines == 0 || output.empty()) return {};
    std::size_t pos = output.size();
    if (output.back() == '\n') --pos;
    std::size_t count = 0;
    while (pos > 0) {
        auto nl = output.rfind('\n', pos - 1);
        if (nl == std::string::npos) { pos = 0; break; }
        if (++count == lines) { pos = nl + 1; break; }
        pos = nl;
    }
    std::string tail = output.substr(pos);
    if (!tail.empty() && tail.back() == '\n') tail.pop_back();
    return tail;
}

inline std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms.count()) / 1000.0);
    return buf;
}

inline std::string argv_string(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) {
        if (!s.empty()) s += ' ';
        bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
        s += plain ? a : "'" + a + "'";
    }
    return s;
}

}  // namespace detail

// Runs a command as `cmd` says: throws CommandError when it fails (check), when it cannot be
// started or when it runs out of time.
IMGCREATE_DECL CommandResult run(const Command& cmd);
IMGCREATE_DECL CommandResult run(std::vector<std::string> argv);

// Runs `argv` chrooted in `root` with the clean environment.
IMGCREATE_DECL CommandResult run_in_root(const std::filesystem::path& root, std::vector<std::string> argv);

// Runs `argv` chrooted in `root` attached to the caller's terminal (an interactive shell).
// It stays in the foreground process group so the user's Ctrl-C reaches it, not us. `vars`:
// its whole environment (default: the clean one with an imgcreate prompt).
IMGCREATE_DECL int run_interactive_in_root(const std::filesystem::path& root, const std::vector<std::string>& argv,
                                           const std::optional<std::map<std::string, std::string>>& vars = std::nullopt);

}  // namespace imgcreate

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/support/impl/process.ipp>
#endif
