// imgcreate — errors. One hierarchy: every failure a user can cause or meet is an
// imgcreate::Error whose what() starts with one line that says what went wrong.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate {

// Base of every error the toolkit throws. `step` names the build step or subsystem
// ("mount", "install", "kickstart", ...); `resource` the thing it was working on.
class Error : public std::runtime_error {
public:
    explicit Error(std::string message, std::string step = {}, std::string resource = {})
        : std::runtime_error(std::move(message)), step_(std::move(step)), resource_(std::move(resource)) {}

    const std::string& step() const noexcept { return step_; }
    const std::string& resource() const noexcept { return resource_; }

private:
    std::string step_;
    std::string resource_;
};

// A mistake in a kickstart file. what() reads "FILE:LINE: message" (as pykickstart's tools
// print it); file() and line() are kept for programs that place the cursor.
class KickstartError : public Error {
public:
    KickstartError(std::string file, std::size_t line, std::string message)
        : Error(format(file, line, message), "kickstart", file),
          file_(std::move(file)), line_(line), message_(std::move(message)) {}

    const std::string& file() const noexcept { return file_; }
    std::size_t line() const noexcept { return line_; }
    const std::string& message() const noexcept { return message_; }

private:
    static std::string format(const std::string& file, std::size_t line, const std::string& message) {
        std::string where = file.empty() ? std::string("<string>") : file;
        if (line > 0) where += ":" + std::to_string(line);
        return where + ": " + message;
    }
    std::string file_;
    std::size_t line_;
    std::string message_;
};

class MountError : public Error {
public:
    explicit MountError(std::string message, std::string resource = {})
        : Error(std::move(message), "mount", std::move(resource)) {}
};

class InstallError : public Error {
public:
    explicit InstallError(std::string message, std::string resource = {})
        : Error(std::move(message), "install", std::move(resource)) {}
};

class RepoError : public InstallError {
public:
    RepoError(std::string repo, std::string message)
        : InstallError("repository '" + repo + "': " + message, repo) {}
};

class ConfigError : public Error {
public:
    explicit ConfigError(std::string message, std::string resource = {})
        : Error(std::move(message), "configure", std::move(resource)) {}
};

class BootError : public Error {
public:
    explicit BootError(std::string message, std::string resource = {})
        : Error(std::move(message), "boot", std::move(resource)) {}
};

class StageError : public Error {
public:
    explicit StageError(std::string message, std::string resource = {})
        : Error(std::move(message), "package", std::move(resource)) {}
};

// The deliverable's path is taken: refused before the build starts (a stage policy's outputs())
// and, should it appear meanwhile, when the result is moved into place. A user's earlier image
// is never overwritten. path() is the output; the frontends reword the advice in their flags.
class OutputExistsError : public StageError {
public:
    explicit OutputExistsError(const std::filesystem::path& path)
        : StageError("the output " + path.string() +
                         " already exists: remove it, or build under another name (CreatorOptions::name) or "
                         "into another directory (CreatorOptions::outdir)",
                     path.string()),
          path_(path) {}
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// A step called before the step it depends on (e.g. install() before mount()).
class StepOrderError : public Error {
public:
    StepOrderError(const std::string& step, const std::string& needed)
        : Error(step + "() called too early: call " + needed + "() first", step) {}
};

// The build was interrupted by SIGINT or SIGTERM; thrown at the next safe point.
class InterruptedError : public Error {
public:
    explicit InterruptedError(int signal)
        : Error(std::string("interrupted by ") + (signal == 2 ? "SIGINT" : signal == 15 ? "SIGTERM" : "a signal")),
          signal_(signal) {}
    int signal() const noexcept { return signal_; }

private:
    int signal_;
};

namespace detail {

// "\n  last output:" and each line of `tail` on its own line, indented; "" for no output.
inline std::string indented_tail(const std::string& tail) {
    if (tail.empty()) return {};
    std::string out = "\n  last output:";
    std::size_t start = 0;
    while (start < tail.size()) {
        auto end = tail.find('\n', start);
        if (end == std::string::npos) end = tail.size();
        out += "\n    " + tail.substr(start, end - start);
        start = end + 1;
    }
    return out;
}

}  // namespace detail

// An external program failed. what() leads with the program and its exit status, then the
// full argv and the last lines it printed.
class CommandError : public Error {
public:
    CommandError(std::vector<std::string> argv, int exit_status, std::string output_tail, std::string reason = {})
        : Error(format(argv, exit_status, output_tail, reason), "command", argv.empty() ? "" : argv.front()),
          argv_(std::move(argv)), exit_status_(exit_status), output_tail_(std::move(output_tail)) {}

    const std::vector<std::string>& argv() const noexcept { return argv_; }
    int exit_status() const noexcept { return exit_status_; }
    const std::string& output_tail() const noexcept { return output_tail_; }

private:
    static std::string format(const std::vector<std::string>& argv, int status, const std::string& tail,
                              const std::string& reason) {
        std::string program = argv.empty() ? "<nothing>" : argv.front();
        std::string msg = program + (reason.empty() ? " failed with exit status " + std::to_string(status) : " " + reason);
        msg += "\n  command:";
        for (const auto& a : argv) msg += " " + quote(a);
        return msg + detail::indented_tail(tail);
    }
    static std::string quote(const std::string& s) {
        if (!s.empty() && s.find_first_of(" \t\n'\"\\$`*?[]{}();<>|&~#") == std::string::npos) return s;
        std::string q = "'";
        for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
        return q + "'";
    }
    std::vector<std::string> argv_;
    int exit_status_;
    std::string output_tail_;
};

// errno-carrying helper for failed system calls: "what: path: strerror".
inline std::string errno_message(const std::string& what, const std::filesystem::path& path, int err) {
    std::string msg = what;
    if (!path.empty()) msg += ": " + path.string();
    return msg + ": " + std::error_code(err, std::generic_category()).message();
}

}  // namespace imgcreate
