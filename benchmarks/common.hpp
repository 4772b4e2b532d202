// What every benchmark measures the same way: wall time of a piece of work, a program run in
// a child (wall time from fork to reaping, its CPU time and peak RSS from wait4), the best of
// several rounds, and this process's own peak RSS and CPU time.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace imgcreate::bench {

struct Measure {
    double seconds = 0;      // wall time
    double cpu_seconds = 0;  // user + system: what the machine's other load inflates least
    long peak_kb = 0;        // peak resident set (KiB)
    int status = 0;          // exit status; 128+N when killed by signal N
};

// Wall seconds `work` takes.
template <typename F> double seconds(F&& work) {
    const auto start = std::chrono::steady_clock::now();
    std::forward<F>(work)();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double cpu_seconds(const rusage& usage) {
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// This process's peak RSS so far (KiB).
inline long self_peak_kb() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

// This process's CPU time so far (seconds).
inline double self_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs argv to completion in a child, its stdout and stderr into `log`. Dirty pages are
// written out first so that one contender's writeback is not charged to the next. The peak
// RSS is the child's own or that of the largest program it waited for.
inline Measure measure(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::sync();
    std::fflush(nullptr);
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::execvp(args[0], args.data());
        std::perror("exec");
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    Measure m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.cpu_seconds = cpu_seconds(usage);
    m.peak_kb = usage.ru_maxrss;
    m.status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    return m;
}

// measure(), and a failed run is an error naming its log.
inline Measure measure_ok(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const auto m = measure(argv, log);
    if (m.status != 0)
        throw std::runtime_error(argv.front() + " failed in the benchmark (exit status " + std::to_string(m.status) +
                                 "): see " + log.string());
    return m;
}

// The least disturbed of several rounds: the fastest wall and CPU time, the largest peak.
inline Measure best(const std::vector<Measure>& runs) {
    Measure b = runs.front();
    for (const auto& m : runs) {
        b.seconds = std::min(b.seconds, m.seconds);
        b.cpu_seconds = std::min(b.cpu_seconds, m.cpu_seconds);
        b.peak_kb = std::max(b.peak_kb, m.peak_kb);
    }
    return b;
}

inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace imgcreate::bench
