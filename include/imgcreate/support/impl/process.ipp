// imgcreate — the bodies of support/process.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/support/process.hpp>


#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace imgcreate {

IMGCREATE_DECL std::filesystem::path find_program(const std::string& name) {
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

IMGCREATE_DECL std::filesystem::path require_program(const std::string& name, const std::string& package) {
    auto found = find_program(name);
    if (found.empty())
        throw Error("required program '" + name + "' was not found on this host" +
                        (package.empty() ? std::string() : ": install the '" + package + "' package"),
                    "command", name);
    return found;
}

namespace detail {

// The child side of a launch, between fork and exec. Everything it needs was made before the
// fork (the child of a threaded process may only make system calls): it reports a failure
// as {errno, step} on a close-on-exec pipe, so the parent reads nothing when exec succeeds.
struct ChildSetup {
    const char* exe = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;     // null: the caller's
    const char* chroot = nullptr;  // null: no chroot
    char* const* detach = nullptr; // null: the caller's mount namespace; else mounts to detach in one of its own
    int stdin_fd = -1;             // -1: inherit stdin, stdout and stderr
    int output_fd = -1;            // stdout and stderr both go here
    bool own_process_group = false;
};

enum class LaunchStep : int { cwd, chroot, exec, detach };

[[noreturn]] inline void report_launch_failure(int error_pipe, LaunchStep step) {
    const int report[2] = {errno, static_cast<int>(step)};
    [[maybe_unused]] auto written = ::write(error_pipe, report, sizeof report);
    ::_exit(EXIT_FAILURE);
}

// Each child gets its own process group so a timeout can end it and its children, and
// default signal handling: an ignored SIGTERM or SIGINT inherited from whoever started us
// (nohup, a CI runner) must not make the child unstoppable. A build killed outright
// (SIGKILL runs no cleanup) takes its helpers with it: an orphaned mkfs or mksquashfs would
// otherwise keep working on the build's files and hold its mount namespace alive.
inline void enter_own_process_group() {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::setpgid(0, 0);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

[[noreturn]] inline void exec_child(const ChildSetup& setup, int error_pipe) {
    if (setup.output_fd >= 0) {
        // Copies above 2 first: a pipe end that is itself 0, 1 or 2 (a caller started with a
        // standard stream closed) must not be overwritten, nor keep its close-on-exec flag.
        const int input = ::fcntl(setup.stdin_fd, F_DUPFD, 3);
        const int output = ::fcntl(setup.output_fd, F_DUPFD, 3);
        ::dup2(input, STDIN_FILENO);
        ::dup2(output, STDOUT_FILENO);
        ::dup2(output, STDERR_FILENO);
        ::close(input);
        ::close(output);
    }
    if (setup.detach) {
        // A mount namespace of its own, private first so that nothing detached here is detached
        // for the caller too.
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            report_launch_failure(error_pipe, LaunchStep::detach);
        for (char* const* m = setup.detach; *m; ++m)
            if (::umount2(*m, MNT_DETACH) != 0) report_launch_failure(error_pipe, LaunchStep::detach);
    }
    if (setup.cwd && ::chdir(setup.cwd) != 0) report_launch_failure(error_pipe, LaunchStep::cwd);
    if (setup.chroot && (::chroot(setup.chroot) != 0 || ::chdir("/") != 0))
        report_launch_failure(error_pipe, LaunchStep::chroot);
    if (setup.own_process_group) enter_own_process_group();
    ::execve(setup.exe, setup.argv, setup.envp);
    report_launch_failure(error_pipe, LaunchStep::exec);
}

// A bare program name that is not in the working folder is looked up on the caller's PATH,
// also for a chrooted command (whose PATH inside the root is not known before the exec).
inline std::string launch_path(const std::string& exe) {
    if (exe.find('/') != std::string::npos || ::access(exe.c_str(), X_OK) == 0) return exe;
    const char* path = ::getenv("PATH");
    if (!path) return exe;
    std::string_view dirs = path;
    while (true) {
        const auto colon = dirs.find(':');
        auto candidate = std::string(dirs.substr(0, colon)) + "/" + exe;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) return exe;
        dirs.remove_prefix(colon + 1);
    }
}

// A C argv or envp: the strings and the null-terminated pointer array into them.
class CStrings {
public:
    explicit CStrings(std::vector<std::string> strings) : strings_(std::move(strings)) {
        for (auto& s : strings_) pointers_.push_back(s.data());
        pointers_.push_back(nullptr);
    }
    char* const* get() const noexcept { return pointers_.data(); }

private:
    std::vector<std::string> strings_;
    std::vector<char*> pointers_;
};

inline std::vector<std::string> environment_strings(const std::map<std::string, std::string>& vars) {
    std::vector<std::string> strings;
    for (const auto& [k, v] : vars) strings.push_back(k + "=" + v);
    return strings;
}

inline std::vector<std::string> inherited_environment() {
    std::vector<std::string> strings;
    for (char** e = environ; e && *e; ++e) strings.emplace_back(*e);
    return strings;
}

// A started child: reaped by wait(); one still running when this goes out of scope (an
// exception on the way) is killed and reaped, so no process outlives the call that made it.
class ChildProcess {
public:
    // Forks and execs; throws std::system_error naming the step that failed.
    explicit ChildProcess(const ChildSetup& setup) {
        int report[2];
        if (::pipe2(report, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "pipe(2) failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(report[0]);
            exec_child(setup, report[1]);
        }
        const int fork_error = errno;
        ::close(report[1]);
        if (pid_ < 0) {
            ::close(report[0]);
            throw std::system_error(fork_error, std::system_category(), "fork() failed");
        }
        int failure[2];
        ssize_t n;
        while ((n = ::read(report[0], failure, sizeof failure)) < 0 && errno == EINTR) {}
        ::close(report[0]);
        if (n == sizeof failure) {
            wait();
            static const char* const steps[] = {"chdir into ", "chroot into ", "execve failed",
                                                "detaching mounts in a mount namespace of its own failed"};
            const auto step = static_cast<LaunchStep>(failure[1]);
            std::string what = steps[failure[1]];
            if (step == LaunchStep::cwd) what += std::string(setup.cwd) + " failed";
            if (step == LaunchStep::chroot) what += std::string(setup.chroot) + " failed";
            throw std::system_error(failure[0], std::system_category(), what);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }

    pid_t id() const noexcept { return pid_; }

    bool running() {
        if (reaped_) return false;
        int status = 0;
        pid_t r;
        while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {}
        if (r == 0) return true;
        reap(r, status);
        return false;
    }

    // The wait status (as waitpid gives it) once the child has ended.
    int wait() {
        if (reaped_) return status_;
        int status = 0;
        pid_t r;
        while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {}
        reap(r, status);
        return status_;
    }

private:
    void reap(pid_t result, int status) {
        reaped_ = true;
        status_ = result == pid_ ? status : 0;  // not ours to reap (SIGCHLD ignored): nothing known
    }

    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
};

// Both ends of a pipe, closed when it goes out of scope (each end may be closed earlier).
class Pipe {
public:
    Pipe() {
        if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "pipe(2) failed");
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() {
        close_read();
        close_write();
    }
    int read_end() const noexcept { return fds_[0]; }
    int write_end() const noexcept { return fds_[1]; }
    void close_read() noexcept { close(fds_[0]); }
    void close_write() noexcept { close(fds_[1]); }

private:
    static void close(int& fd) noexcept {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    int fds_[2] = {-1, -1};
};

// Reads a file descriptor one character at a time, through a buffer.
class FdReader {
public:
    explicit FdReader(int fd) : fd_(fd) {}
    bool get(char& c) {
        if (pos_ == end_ && !fill()) return false;
        c = buf_[pos_++];
        return true;
    }

private:
    bool fill() {
        ssize_t n;
        while ((n = ::read(fd_, buf_, sizeof buf_)) < 0 && errno == EINTR) {}
        if (n <= 0) return false;
        pos_ = 0;
        end_ = static_cast<std::size_t>(n);
        return true;
    }
    int fd_;
    char buf_[4096];
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
};

inline void write_all(int fd, const std::string& data) {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the command closed its stdin: what it did not read it did not want
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace detail

IMGCREATE_DECL CommandResult run(const Command& cmd) {
    if (cmd.argv.empty()) throw Error("cannot run an empty command", "command");
    std::string detached_text;
    for (const auto& m : cmd.detach_mounts) detached_text += " " + m.string();
    log::debug("running: ", detail::argv_string(cmd.argv),
               cmd.chroot.empty() ? std::string() : "  (chrooted in " + cmd.chroot.string() + ")",
               detached_text.empty() ? std::string() : "  (in a mount namespace without" + detached_text + ")");

    std::filesystem::path exe = cmd.argv.front();
    if (cmd.chroot.empty() && exe.string().find('/') == std::string::npos) {
        exe = find_program(cmd.argv.front());
        if (exe.empty())
            throw CommandError(cmd.argv, 127, {}, "was not found on this host (is the package that provides it installed?)");
    }
    const std::string exe_path = detail::launch_path(exe.string());
    const detail::CStrings argv(cmd.argv);
    const detail::CStrings envp(cmd.env ? detail::environment_strings(*cmd.env) : detail::inherited_environment());
    const std::string cwd = (cmd.cwd.empty() ? std::filesystem::current_path() : cmd.cwd).string();
    const std::string chroot = cmd.chroot.string();

    detail::Pipe out;
    detail::Pipe in;
    detail::ChildSetup setup;
    setup.exe = exe_path.c_str();
    setup.argv = argv.get();
    setup.envp = envp.get();
    setup.cwd = cwd.c_str();
    setup.chroot = chroot.empty() ? nullptr : chroot.c_str();
    std::vector<std::string> detached;
    for (const auto& m : cmd.detach_mounts) detached.push_back(m.string());
    const detail::CStrings detach(detached);
    setup.detach = detached.empty() ? nullptr : detach.get();
    setup.stdin_fd = in.read_end();
    setup.output_fd = out.write_end();
    setup.own_process_group = true;
    std::optional<detail::ChildProcess> started;
    try {
        started.emplace(setup);
    } catch (const std::system_error& e) {
        throw CommandError(cmd.argv, 127, {}, std::string("could not be started: ") + e.what());
    }
    detail::ChildProcess& child = *started;
    out.close_write();
    in.close_read();

    std::string output;
    std::thread reader([&] {
        detail::FdReader from(out.read_end());
        auto keep = [&](const std::string& line) {
            if (cmd.log_output) log::debug("  | ", line);
            output += line;
            output += '\n';
        };
        std::string line;
        if (!cmd.on_redraw) {
            for (char c; from.get(c);) {
                if (c == '\n') {
                    keep(line);
                    line.clear();
                } else {
                    line += c;
                }
            }
            if (!line.empty()) keep(line);
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
        for (char c; from.get(c);) {
            if (c == '\r' || c == '\n')
                end_piece(c == '\r');
            else
                line += c;
        }
        if (!line.empty()) end_piece(false);
    });
    if (cmd.input) detail::write_all(in.write_end(), *cmd.input);
    in.close_write();

    // Children run in their own process group, so a terminal's Ctrl-C reaches only us: poll
    // for it (and for the timeout) and stop the whole group ourselves.
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
    const int native = child.wait();
    result.exit_status = WIFSIGNALED(native) ? 128 + WTERMSIG(native) : WEXITSTATUS(native);
    result.output = std::move(output);

    if (result.timed_out)
        throw CommandError(cmd.argv, result.exit_status, detail::tail_of(result.output, cmd.tail_lines),
                           "did not finish within " + detail::seconds_text(cmd.timeout) + " and was stopped");
    if (cmd.check && result.exit_status != 0)
        throw CommandError(cmd.argv, result.exit_status, detail::tail_of(result.output, cmd.tail_lines));
    return result;
}

IMGCREATE_DECL CommandResult run(std::vector<std::string> argv) {
    Command cmd;
    cmd.argv = std::move(argv);
    return run(cmd);
}

IMGCREATE_DECL CommandResult run_in_root(const std::filesystem::path& root, std::vector<std::string> argv) {
    Command cmd;
    cmd.argv = std::move(argv);
    cmd.chroot = root;
    cmd.env = clean_environment();
    return run(cmd);
}

IMGCREATE_DECL int run_interactive_in_root(const std::filesystem::path& root, const std::vector<std::string>& argv,
                                           const std::optional<std::map<std::string, std::string>>& vars) {
    log::debug("running interactively: ", detail::argv_string(argv), "  (chrooted in ", root.string(), ")");
    std::map<std::string, std::string> env;
    if (vars) {
        env = *vars;
    } else {
        env = clean_environment();
        env["PS1"] = "imgcreate-chroot# ";
    }
    const std::string exe_path = detail::launch_path(argv.front());
    const detail::CStrings c_argv(argv);
    const detail::CStrings envp(detail::environment_strings(env));
    const std::string chroot = root.string();
    detail::ChildSetup setup;
    setup.exe = exe_path.c_str();
    setup.argv = c_argv.get();
    setup.envp = envp.get();
    setup.chroot = chroot.c_str();
    detail::ChildProcess child(setup);
    // The shell owns Ctrl-C while it runs: don't let it abort the build behind it.
    struct sigaction ignore{}, old_int{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ignore, &old_int);
    const int status = child.wait();
    ::sigaction(SIGINT, &old_int, nullptr);
    return WIFEXITED(status) ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? WTERMSIG(status) : status);
}

}  // namespace imgcreate
