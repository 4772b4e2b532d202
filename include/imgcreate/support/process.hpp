// imgcreate — the one way to run a program. Every run logs its argv, captures stdout and
// stderr (interleaved) into the log, and on failure throws CommandError with the argv, the
// exit status and the last lines of output. Optional: timeout, explicit environment,
// working directory, standard input, and running chrooted inside an install root.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace imgcreate {

struct Command {
    std::vector<std::string> argv;
    // nullopt: inherit the caller's environment. A map: exactly these variables.
    std::optional<std::map<std::string, std::string>> env;
    std::filesystem::path cwd;        // empty: the caller's
    std::filesystem::path chroot;     // non-empty: chroot() into it and chdir("/") before exec
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
inline std::filesystem::path find_program(const std::string& name) {
    if (name.find('/') != std::string::npos)
        return ::access(name.c_str(), X_OK) == 0 ? std::filesystem::path(name) : std::filesystem::path();
    std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
    path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::filesystem::path dir = path.substr(start, end - start);
        if (!dir.empty()) {
            auto candidate = dir / name;
            if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
        }
        start = end + 1;
    }
    return {};
}

// Throws a clear error naming the Debian package when a host tool is missing.
inline std::filesystem::path require_program(const std::string& name, const std::string& package = {}) {
    auto found = find_program(name);
    if (found.empty())
        throw Error("required program '" + name + "' was not found on this host" +
                        (package.empty() ? std::string() : ": install the '" + package + "' package"),
                    "command", name);
    return found;
}

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

// Runs in the child between fork and exec.
struct ChrootSetup : boost::process::extend::handler {
    std::string root;
    template <class Executor> void on_exec_setup(Executor& exec) const {
        if (root.empty()) return;
        if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) {
            exec.set_error(std::error_code(errno, std::system_category()), "chroot into " + root + " failed");
        }
    }
};

// Each child gets its own process group so a timeout can end it and its children, and
// default signal handling: an ignored SIGTERM or SIGINT inherited from whoever started us
// (nohup, a CI runner) must not make the child unstoppable. A build killed outright
// (SIGKILL runs no cleanup) takes its helpers with it: an orphaned mkfs or mksquashfs would
// otherwise keep working on the build's files and hold its mount namespace alive.
struct OwnProcessGroup : boost::process::extend::handler {
    template <class Executor> void on_exec_setup(Executor&) const {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::setpgid(0, 0);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
    }
};

}  // namespace detail

inline CommandResult run(const Command& cmd) {
    namespace bp = boost::process;
    if (cmd.argv.empty()) throw Error("cannot run an empty command", "command");
    log::debug("running: ", detail::argv_string(cmd.argv),
               cmd.chroot.empty() ? std::string() : "  (chrooted in " + cmd.chroot.string() + ")");

    std::filesystem::path exe = cmd.argv.front();
    if (cmd.chroot.empty() && exe.string().find('/') == std::string::npos) {
        exe = find_program(cmd.argv.front());
        if (exe.empty())
            throw CommandError(cmd.argv, 127, {}, "was not found on this host (is the package that provides it installed?)");
    }
    std::vector<std::string> args(cmd.argv.begin() + 1, cmd.argv.end());

    bp::environment env = cmd.env ? bp::environment() : bp::environment(boost::this_process::environment());
    if (cmd.env) {
        for (const auto& [k, v] : *cmd.env) env[k] = v;
    }

    bp::ipstream out;
    bp::opstream in;
    detail::ChrootSetup chroot_setup;
    chroot_setup.root = cmd.chroot.string();
    std::error_code launch_error;
    bp::child child;
    try {
        child = bp::child(bp::exe = exe.string(), bp::args = args, bp::env = env,
                          bp::start_dir = (cmd.cwd.empty() ? std::filesystem::current_path() : cmd.cwd).string(),
                          (bp::std_out & bp::std_err) > out, bp::std_in < in, chroot_setup,
                          detail::OwnProcessGroup{});
    } catch (const bp::process_error& e) {
        throw CommandError(cmd.argv, 127, {}, std::string("could not be started: ") + e.what());
    }

    std::string output;
    std::thread reader([&] {
        auto keep = [&](const std::string& line) {
            if (cmd.log_output) log::debug("  | ", line);
            output += line;
            output += '\n';
        };
        std::string line;
        if (!cmd.on_redraw) {
            while (std::getline(out, line)) keep(line);
            return;
        }
        bool redraw = false;  // the piece being read followed a '\r'
        auto end_piece = [&](bool next_is_redraw) {
            if (redraw)
                cmd.on_redraw(line);
            else if (!line.empty() || !next_is_redraw)
                keep(line);
            line.clear();
            redraw = next_is_redraw;
        };
        for (char c; out.get(c);) {
            if (c == '\r' || c == '\n')
                end_piece(c == '\r');
            else
                line += c;
        }
        if (!line.empty()) end_piece(false);
    });
    if (cmd.input) in << *cmd.input;
    in.flush();
    in.pipe().close();

    // Children run in their own process group, so a terminal's Ctrl-C reaches only us: poll
    // for it (and for the timeout) and stop the whole group ourselves. (Polling running()
    // rather than wait_for(): Boost 1.74's wait_for can sleep its whole timeout after the
    // child has already exited.)
    CommandResult result;
    const auto start = std::chrono::steady_clock::now();
    auto exited_within = [&child](std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        auto pause = std::chrono::microseconds(50);
        while (child.running()) {
            if (std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::microseconds(5000));
        }
        return true;
    };
    int stop_signal = 0;
    while (!exited_within(std::chrono::milliseconds(50))) {
        if (interrupted()) stop_signal = interrupted();
        else if (cmd.timeout.count() > 0 && std::chrono::steady_clock::now() - start >= cmd.timeout) result.timed_out = true;
        else continue;
        ::kill(-child.id(), SIGTERM);
        if (!exited_within(std::chrono::seconds(5))) {
            ::kill(-child.id(), SIGKILL);
            exited_within(std::chrono::hours(1));
        }
        break;
    }
    reader.join();
    if (stop_signal) throw InterruptedError(stop_signal);
    int native = child.native_exit_code();
    result.exit_status = WIFSIGNALED(native) ? 128 + WTERMSIG(native) : WEXITSTATUS(native);
    result.output = std::move(output);

    if (result.timed_out)
        throw CommandError(cmd.argv, result.exit_status, detail::tail_of(result.output, cmd.tail_lines),
                           "did not finish within " + detail::seconds_text(cmd.timeout) + " and was stopped");
    if (cmd.check && result.exit_status != 0)
        throw CommandError(cmd.argv, result.exit_status, detail::tail_of(result.output, cmd.tail_lines));
    return result;
}

inline CommandResult run(std::vector<std::string> argv) {
    Command cmd;
    cmd.argv = std::move(argv);
    return run(cmd);
}

// Runs `argv` chrooted in `root` with the clean environment.
inline CommandResult run_in_root(const std::filesystem::path& root, std::vector<std::string> argv) {
    Command cmd;
    cmd.argv = std::move(argv);
    cmd.chroot = root;
    cmd.env = clean_environment();
    return run(cmd);
}

// Runs `argv` chrooted in `root` attached to the caller's terminal (an interactive shell).
// It stays in the foreground process group so the user's Ctrl-C reaches it, not us. `vars`:
// its whole environment (default: the clean one with an imgcreate prompt).
inline int run_interactive_in_root(const std::filesystem::path& root, const std::vector<std::string>& argv,
                                   const std::optional<std::map<std::string, std::string>>& vars = std::nullopt) {
    namespace bp = boost::process;
    log::debug("running interactively: ", detail::argv_string(argv), "  (chrooted in ", root.string(), ")");
    bp::environment env;
    if (vars) {
        for (const auto& [k, v] : *vars) env[k] = v;
    } else {
        for (const auto& [k, v] : clean_environment()) env[k] = v;
        env["PS1"] = "imgcreate-chroot# ";
    }
    detail::ChrootSetup chroot_setup;
    chroot_setup.root = root.string();
    std::vector<std::string> args(argv.begin() + 1, argv.end());
    bp::child child(bp::exe = argv.front(), bp::args = args, bp::env = env, chroot_setup);
    // The shell owns Ctrl-C while it runs: don't let it abort the build behind it.
    struct sigaction ignore{}, old_int{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ignore, &old_int);
    child.wait();
    ::sigaction(SIGINT, &old_int, nullptr);
    return child.exit_code();
}

}  // namespace imgcreate
