// imgcreate — the bodies of configure/script.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/configure/script.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/root_path.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imgcreate::configure {

IMGCREATE_DECL std::string describe(const kickstart::Script& script) {
    std::string where = script.origin.file.empty() ? std::string("<string>") : script.origin.file;
    if (script.origin.line > 0) where += ":" + std::to_string(script.origin.line);
    return std::string(kickstart::section_name(script.type)) + " script at " + where;
}

namespace detail {

inline const std::filesystem::path anaconda_sysroot = "/mnt/sysimage";

// Eight letters and digits from the kernel's random source.
inline std::string random_suffix() {
    static constexpr char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char bytes[8];
    ssize_t got;
    while ((got = ::getrandom(bytes, sizeof bytes, 0)) < 0 && errno == EINTR) {}
    if (got != static_cast<ssize_t>(sizeof bytes))
        throw ConfigError(errno_message("cannot pick a script file name: getrandom", {}, errno));
    std::string s;
    for (unsigned char b : bytes) s += chars[b % (sizeof chars - 1)];
    return s;
}

inline void write_fd(int fd, const std::string& text, const std::string& what) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw ConfigError(errno_message("cannot write the script file", what, errno), what);
        done += static_cast<std::size_t>(n);
    }
}

// The script body as a file the interpreter runs, removed when this goes away. Chrooted
// scripts get theirs in the root's /tmp (written through RootDir), host scripts in the
// host's temporary directory.
class ScriptFile {
public:
    ScriptFile(const kickstart::Script& script, const std::optional<RootDir>& root) {
        if (root) {
            root_ = &*root;
            if (!root->exists("/tmp")) {
                root->mkdirs("/tmp");
                root->chmod("/tmp", 01777);
            }
            for (;;) {
                run_path_ = "/tmp/ks-script-" + random_suffix();
                int fd = imgcreate::detail::openat2_in_root(root->fd(), run_path_.relative_path().string(),
                                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0700);
                if (fd < 0 && errno == EEXIST) continue;
                if (fd < 0) throw ConfigError(errno_message("cannot create the script file in", root->path() / "tmp", errno));
                UniqueFd owned(fd);
                write_fd(fd, script.body, run_path_.string());
                ::fchmod(fd, 0700);
                break;
            }
        } else {
            std::string tmpl = (std::filesystem::temp_directory_path() / "ks-script-XXXXXX").string();
            UniqueFd fd(::mkstemp(tmpl.data()));
            if (!fd) throw ConfigError(errno_message("cannot create the script file", tmpl, errno));
            run_path_ = tmpl;
            write_fd(fd.get(), script.body, tmpl);
            ::fchmod(fd.get(), 0700);
        }
    }
    ScriptFile(const ScriptFile&) = delete;
    ScriptFile& operator=(const ScriptFile&) = delete;
    ~ScriptFile() {
        try {
            if (root_) root_->remove(run_path_);
            else ::unlink(run_path_.c_str());
        } catch (const std::exception& e) {
            log::warning("cannot remove the script file ", run_path_.string(), ": ", e.what());
        }
    }
    // The path the interpreter is given (inside the root for chrooted scripts).
    const std::filesystem::path& path() const { return run_path_; }

private:
    const RootDir* root_ = nullptr;
    std::filesystem::path run_path_;
};

inline std::optional<std::filesystem::path> below_sysroot(const std::filesystem::path& host_path) {
    auto rel = host_path.lexically_normal().lexically_relative(anaconda_sysroot);
    if (rel.empty() || *rel.begin() == "..") return std::nullopt;
    return "/" / rel;
}

// Writes the script's output where --log names, as anaconda places it.
inline void write_script_log(const kickstart::Script& script, const ScriptRunOptions& options,
                             const std::string& output) {
    if (!script.log || script.log->empty()) return;
    std::filesystem::path target = *script.log;
    std::optional<std::filesystem::path> in_root;
    if (script.chroot) in_root = target;
    else if (!options.install_root.empty()) in_root = below_sysroot(target);
    try {
        if (in_root) {
            RootDir root(options.install_root);
            root.mkdirs(in_root->parent_path());
            root.write_file(*in_root, output, 0600);
            log::debug(describe(script), ": output written to ", in_root->string(), " in the install root");
            return;
        }
        if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        out << output;
        if (!out) throw ConfigError(errno_message("cannot write", target, errno));
        log::debug(describe(script), ": output written to ", target.string());
    } catch (const Error& e) {
        log::warning(describe(script), ": cannot write its --log file ", target.string(), ": ", e.what());
    }
}

inline Command script_command(const kickstart::Script& script, const ScriptRunOptions& options,
                              const std::filesystem::path& file) {
    Command cmd;
    cmd.argv = {script.interpreter, file.string()};
    cmd.env = clean_environment();
    if (script.chroot) {
        cmd.chroot = options.install_root;
    } else {
        // Absolute: the script runs from /, whatever the build's working directory was.
        if (!options.install_root.empty())
            (*cmd.env)["INSTALL_ROOT"] = std::filesystem::absolute(options.install_root).lexically_normal().string();
        cmd.cwd = "/";
    }
    cmd.timeout = options.timeout;
    cmd.check = false;
    cmd.tail_lines = options.tail_lines;
    return cmd;
}

}  // namespace detail

IMGCREATE_DECL ScriptResult run_script(const kickstart::Script& script, const ScriptRunOptions& options) {
    if (script.chroot && options.install_root.empty())
        throw ConfigError(describe(script) + " runs chrooted but there is no install root yet", script.origin.file);
    std::optional<RootDir> root;
    if (script.chroot) root.emplace(options.install_root);
    detail::ScriptFile file(script, root);
    auto cmd = detail::script_command(script, options, file.path());

    log::info("running ", describe(script), script.chroot ? " in the install root" : " on the host",
              " (", script.interpreter, ")");
    ScriptResult result;
    const auto start = std::chrono::steady_clock::now();
    try {
        auto r = run(cmd);
        result.exit_status = r.exit_status;
        result.output = std::move(r.output);
    } catch (const InterruptedError&) {
        throw;
    } catch (const CommandError& e) {
        // With check off, run() only throws when the child could not start or ran out of time.
        result.exit_status = e.exit_status();
        result.output = e.output_tail();
        result.timed_out = options.timeout.count() > 0 && std::chrono::steady_clock::now() - start >= options.timeout;
        if (!result.timed_out) result.start_error = e.what();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log::debug(describe(script), " ended with exit status ", result.exit_status, " after ", log::duration(seconds));
    detail::write_script_log(script, options, result.output);
    return result;
}

namespace detail {

inline std::string failure_message(const kickstart::Script& script, const ScriptResult& r,
                                   const ScriptRunOptions& options) {
    std::string msg = describe(script);
    if (r.timed_out)
        msg += " did not finish within " + imgcreate::detail::seconds_text(options.timeout) + " and was stopped";
    else if (!r.start_error.empty())
        msg += " could not be started with " + script.interpreter +
               (script.chroot ? " inside the install root" : "") + " (is the interpreter installed there?)";
    else
        msg += " failed with exit status " + std::to_string(r.exit_status);
    std::string tail = imgcreate::detail::tail_of(r.output, options.tail_lines);
    if (tail.empty() && !r.start_error.empty()) tail = r.start_error;
    return msg + imgcreate::detail::indented_tail(tail);
}

}  // namespace detail

IMGCREATE_DECL void run_scripts(const kickstart::Kickstart& ks, kickstart::ScriptType type, const ScriptRunOptions& options) {
    for (const auto& script : ks.scripts) {
        if (script.type != type) continue;
        auto result = run_script(script, options);
        if (!result.failed()) continue;
        auto message = detail::failure_message(script, result, options);
        if (script.erroronfail || result.timed_out) throw ConfigError(message, describe(script));
        log::warning(message, "\n  (no --erroronfail: the build goes on)");
    }
}

IMGCREATE_DECL void run_scripts(const BuildContext& ctx, kickstart::ScriptType type) {
    if (!ctx.kickstart) return;
    ScriptRunOptions options;
    options.install_root = ctx.install_root;
    options.timeout = ctx.options.script_timeout;
    run_scripts(*ctx.kickstart, type, options);
}

}  // namespace imgcreate::configure
