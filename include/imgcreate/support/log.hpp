// imgcreate — the one logger. Messages go to stderr at or above the console level and to an
// optional log file at every level, each line stamped with the seconds since start.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace imgcreate {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3, quiet = 4 };

class Logger {
public:
    static Logger& instance() {
        static Logger logger;
        return logger;
    }

    void set_console_level(LogLevel level) {
        std::lock_guard lock(mutex_);
        console_level_ = level;
    }
    LogLevel console_level() const { return console_level_; }

    // Every message from now on is also appended to `path` (all levels). False when it cannot be
    // opened for appending.
    bool open_file(const std::string& path) {
        std::lock_guard lock(mutex_);
        file_.close();
        file_.open(path, std::ios::app);
        return file_.is_open();
    }
    void close_file() {
        std::lock_guard lock(mutex_);
        file_.close();
    }

    void write(LogLevel level, std::string_view message) {
        std::lock_guard lock(mutex_);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (file_.is_open()) {
            char stamp[32];
            std::snprintf(stamp, sizeof stamp, "[%9.3f] ", t);
            file_ << stamp << prefix(level) << message << '\n';
            file_.flush();
        }
        if (level >= console_level_ && console_level_ != LogLevel::quiet) {
            std::string line = std::string(prefix(level)) + std::string(message) + '\n';
            clear_status_line_locked();
            std::fwrite(line.data(), 1, line.size(), stderr);
            redraw_status_line_locked();
        }
    }

    // A single line that redraws itself on a terminal (progress); ignored off a terminal.
    void status(std::string_view text) {
        std::lock_guard lock(mutex_);
        if (!stderr_is_tty_ || console_level_ > LogLevel::info) return;
        status_ = std::string(text);
        redraw_status_line_locked();
    }
    void clear_status() {
        std::lock_guard lock(mutex_);
        clear_status_line_locked();
        status_.clear();
    }
    bool interactive() const { return stderr_is_tty_; }

private:
    Logger() : start_(std::chrono::steady_clock::now()), stderr_is_tty_(::isatty(2) == 1) {}

    static std::string_view prefix(LogLevel level) {
        switch (level) {
            case LogLevel::debug: return "debug: ";
            case LogLevel::warning: return "warning: ";
            case LogLevel::error: return "error: ";
            default: return "";
        }
    }
    void clear_status_line_locked() {
        if (!status_.empty()) std::fputs("\r\033[K", stderr);
    }
    void redraw_status_line_locked() {
        if (status_.empty()) return;
        std::fputs("\r\033[K", stderr);
        std::fwrite(status_.data(), 1, status_.size(), stderr);
        std::fflush(stderr);
    }

    std::mutex mutex_;
    std::chrono::steady_clock::time_point start_;
    bool stderr_is_tty_;
    LogLevel console_level_ = LogLevel::info;
    std::ofstream file_;
    std::string status_;
};

namespace log {

// A duration as people read it in a log line: "41 µs", "3.2 ms", "250 ms", "3.27 s", "2 min 05 s".
inline std::string duration(double seconds) {
    char buf[48];
    if (seconds < 0) seconds = 0;
    if (seconds < 1e-3)
        std::snprintf(buf, sizeof buf, "%.0f µs", seconds * 1e6);
    else if (seconds < 1e-2)
        std::snprintf(buf, sizeof buf, "%.1f ms", seconds * 1e3);
    else if (seconds < 1)
        std::snprintf(buf, sizeof buf, "%.0f ms", seconds * 1e3);
    else if (seconds < 60)
        std::snprintf(buf, sizeof buf, "%.2f s", seconds);
    else
        std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
    return buf;
}
template <typename Rep, typename Period> std::string duration(std::chrono::duration<Rep, Period> d) {
    return duration(std::chrono::duration<double>(d).count());
}

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
    std::ostringstream out;
    (out << ... << args);
    return out.str();
}
}  // namespace detail

template <typename... Args> void debug(const Args&... args) {
    auto& l = Logger::instance();
    l.write(LogLevel::debug, detail::concat(args...));
}
template <typename... Args> void info(const Args&... args) {
    Logger::instance().write(LogLevel::info, detail::concat(args...));
}
template <typename... Args> void warning(const Args&... args) {
    Logger::instance().write(LogLevel::warning, detail::concat(args...));
}
template <typename... Args> void error(const Args&... args) {
    Logger::instance().write(LogLevel::error, detail::concat(args...));
}
}  // namespace log

}  // namespace imgcreate
