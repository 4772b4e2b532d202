// Shared by the mount and fault tests: a scratch dir, what of it the host holds (mounts,
// loop devices, build dirs), and builds run in a forked child so the test process itself
// never enters a build's mount namespace and can see the host's mount table.
#pragma once

#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/error.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace imgcreate::test {

namespace fs = std::filesystem;

struct ScratchDir {
    fs::path path;
    explicit ScratchDir(const fs::path& under = "/var/tmp") {
        fs::create_directories(under);
        path = make_build_dir(under);
    }
    ~ScratchDir() {
        // Never delete through a mount a failed test left behind.
        if (mounts_below(path).empty()) fs::remove_all(path);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

// Loop devices whose backing file is at or below `dir` (what `losetup -a | grep dir` shows).
inline std::vector<std::string> loops_below(const fs::path& dir) {
    std::vector<std::string> out;
    const auto prefix = dir.string();
    for (const auto& b : mount::bound_loop_devices()) {
        auto file = b.backing_file.string();
        if (file == prefix || file.rfind(prefix + "/", 0) == 0) out.push_back(b.device.string() + " -> " + file);
    }
    return out;
}

// The kernel may release an autoclear loop device a moment after its last user goes.
inline std::vector<std::string> loops_below_after_settling(const fs::path& dir) {
    auto loops = loops_below(dir);
    for (int i = 0; i < 200 && !loops.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        loops = loops_below(dir);
    }
    return loops;
}

inline std::vector<std::string> mount_points_below(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& m : mounts_below(dir)) out.push_back(m.string());
    return out;
}

inline std::vector<std::string> entries_of(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
    return out;
}

inline std::string slurp(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A forked child running `work`; what `work` returns (or the exception it throws) comes
// back as report(), its exit code as exit_code() (128+N when killed by signal N).
class Child {
public:
    explicit Child(std::function<std::string()> work) {
        if (::pipe(pipe_) != 0) throw std::runtime_error("pipe failed");
        std::fflush(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::close(pipe_[0]);
            std::string report;
            int code = 0;
            try {
                report = work();
            } catch (const std::exception& e) {
                report = e.what();
                code = 1;
            }
            for (std::size_t done = 0; done < report.size();) {
                auto n = ::write(pipe_[1], report.data() + done, report.size() - done);
                if (n <= 0) break;
                done += static_cast<std::size_t>(n);
            }
            ::_exit(code);
        }
        ::close(pipe_[1]);
    }
    ~Child() {
        if (!waited_) {
            ::kill(pid_, SIGKILL);
            wait();
        }
        ::close(pipe_[0]);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const { ::kill(pid_, sig); }

    // Waits for the child; returns its report.
    const std::string& wait() {
        if (waited_) return report_;
        char buf[4096];
        for (;;) {
            auto n = ::read(pipe_[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            report_.append(buf, static_cast<std::size_t>(n));
        }
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exit_code_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        waited_ = true;
        return report_;
    }
    int exit_code() {
        wait();
        return exit_code_;
    }

private:
    int pipe_[2]{-1, -1};
    pid_t pid_ = -1;
    bool waited_ = false;
    std::string report_;
    int exit_code_ = -1;
};

// Runs `work` in a child and returns its report; the child's failure becomes the report.
inline std::string in_child(std::function<std::string()> work) {
    Child child(std::move(work));
    return child.wait();
}

// Polls for `file` to appear (a child reached a named point).
inline bool wait_for_file(const fs::path& file, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!fs::exists(file)) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

}  // namespace imgcreate::test
