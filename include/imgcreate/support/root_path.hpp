// imgcreate — files inside an install root, never outside it. Every path is resolved by the
// kernel relative to the root (openat2 with RESOLVE_IN_ROOT), so an absolute symlink such as
// `etc -> /tmp/outside` shipped by a package resolves to <root>/tmp/outside, not the host's.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace imgcreate {

namespace detail {
inline int openat2_in_root(int root_fd, const std::string& rel, std::uint64_t flags, std::uint64_t mode) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    // O_TMPFILE includes O_DIRECTORY: test all its bits, or a plain directory open would pass a mode (EINVAL).
    const bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
    how.mode = creates ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
    }
}

// "/etc//hostname" -> "etc/hostname"; "" or "/" -> ".".
inline std::string relative_in_root(const std::filesystem::path& path) {
    std::string s = path.lexically_normal().string();
    std::size_t start = s.find_first_not_of('/');
    if (start == std::string::npos) return ".";
    s = s.substr(start);
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s.empty() ? "." : s;
}
}  // namespace detail

class RootDir {
public:
    explicit RootDir(std::filesystem::path root) : path_(std::move(root)) {
        fd_.reset(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd_) throw Error(errno_message("cannot open install root", path_, errno), "root", path_.string());
    }

    const std::filesystem::path& path() const noexcept { return path_; }
    int fd() const noexcept { return fd_.get(); }

    // Opens `rel` (absolute or relative: both mean inside the root) with open(2) flags.
    UniqueFd open(const std::filesystem::path& rel, int flags, mode_t mode = 0644) const {
        auto r = detail::relative_in_root(rel);
        int fd = detail::openat2_in_root(fd_.get(), r, static_cast<std::uint64_t>(flags), mode);
        if (fd < 0) throw_error("cannot open", rel, errno);
        return UniqueFd(fd);
    }

    bool exists(const std::filesystem::path& rel) const {
        int fd = detail::openat2_in_root(fd_.get(), detail::relative_in_root(rel), O_PATH, 0);
        if (fd >= 0) { ::close(fd); return true; }
        return false;
    }

    bool is_regular_file(const std::filesystem::path& rel) const {
        int fd = detail::openat2_in_root(fd_.get(), detail::relative_in_root(rel), O_PATH, 0);
        if (fd < 0) return false;
        struct stat st {};
        const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        ::close(fd);
        return regular;
    }

    bool is_directory(const std::filesystem::path& rel) const {
        int fd = detail::openat2_in_root(fd_.get(), detail::relative_in_root(rel), O_PATH | O_DIRECTORY, 0);
        if (fd >= 0) { ::close(fd); return true; }
        return false;
    }

    // Like `mkdir -p` inside the root. Symlinked components are followed, within the root.
    void mkdirs(const std::filesystem::path& rel, mode_t mode = 0755) const {
        std::filesystem::path current;
        for (const auto& part : std::filesystem::path(detail::relative_in_root(rel))) {
            if (part == ".") continue;
            auto parent = open_dir(current);
            if (::mkdirat(parent.get(), part.c_str(), mode) != 0 && errno != EEXIST)
                throw_error("cannot create directory", current / part, errno);
            current /= part;
            if (!is_directory(current)) throw_error("cannot create directory", current, ENOTDIR);
        }
    }

    // Replaces the file atomically (temporary file in the same directory, then rename).
    void write_file(const std::filesystem::path& rel, std::string_view content, mode_t mode = 0644) const {
        auto [dir, name] = open_parent(rel);
        std::string tmp = "." + name + ".imgcreate-tmp";
        UniqueFd fd(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!fd) throw_error("cannot write", rel, errno);
        write_all(fd.get(), content, rel);
        if (::fchmod(fd.get(), mode) != 0) throw_error("cannot set mode of", rel, errno);
        fd.reset();
        if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) {
            int err = errno;
            ::unlinkat(dir.get(), tmp.c_str(), 0);
            throw_error("cannot write", rel, err);
        }
    }

    void append_file(const std::filesystem::path& rel, std::string_view content, mode_t mode = 0644) const {
        auto fd = open(rel, O_WRONLY | O_CREAT | O_APPEND, mode);
        write_all(fd.get(), content, rel);
    }

    std::string read_file(const std::filesystem::path& rel) const {
        auto fd = open(rel, O_RDONLY);
        std::string out;
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_error("cannot read", rel, errno);
            if (n == 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }

    // Creates (or replaces) a symlink at `rel` pointing to `target` (stored verbatim).
    void symlink(const std::filesystem::path& rel, const std::string& target) const {
        auto [dir, name] = open_parent(rel);
        if (::unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT && errno != EISDIR)
            throw_error("cannot replace", rel, errno);
        if (::symlinkat(target.c_str(), dir.get(), name.c_str()) != 0) throw_error("cannot create symlink", rel, errno);
    }

    // Removes a file or an empty directory; absent is fine.
    void remove(const std::filesystem::path& rel) const {
        auto [dir, name] = open_parent(rel, false);
        if (!dir) return;
        if (::unlinkat(dir.get(), name.c_str(), 0) == 0 || errno == ENOENT) return;
        if (errno == EISDIR && ::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR) == 0) return;
        throw_error("cannot remove", rel, errno);
    }

    void chown(const std::filesystem::path& rel, uid_t uid, gid_t gid) const {
        auto fd = open(rel, O_PATH | O_NOFOLLOW);
        if (::fchownat(fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
            throw_error("cannot change owner of", rel, errno);
    }

    void chmod(const std::filesystem::path& rel, mode_t mode) const {
        auto fd = open(rel, O_RDONLY | O_NOFOLLOW);
        if (::fchmod(fd.get(), mode) != 0) throw_error("cannot change mode of", rel, errno);
    }

    // The host path that `rel` resolves to now (for tools that need a path). The answer is
    // only as good as the moment it was asked: prefer the fd-based calls above for writes.
    std::filesystem::path host_path(const std::filesystem::path& rel) const {
        auto fd = open(rel, O_PATH);
        return std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd.get()));
    }

private:
    UniqueFd open_dir(const std::filesystem::path& rel) const {
        auto r = rel.empty() ? std::string(".") : detail::relative_in_root(rel);
        int fd = detail::openat2_in_root(fd_.get(), r, O_PATH | O_DIRECTORY, 0);
        if (fd < 0) throw_error("cannot open directory", rel, errno);
        return UniqueFd(fd);
    }

    std::pair<UniqueFd, std::string> open_parent(const std::filesystem::path& rel, bool must_exist = true) const {
        std::filesystem::path r = detail::relative_in_root(rel);
        std::string name = r.filename().string();
        if (name.empty() || name == "." || name == "..") throw_error("not a file path inside the root", rel, EINVAL);
        int fd = detail::openat2_in_root(fd_.get(), r.has_parent_path() ? r.parent_path().string() : ".",
                                         O_PATH | O_DIRECTORY, 0);
        if (fd < 0) {
            if (!must_exist && errno == ENOENT) return {UniqueFd(), name};
            throw_error("cannot open directory", r.parent_path(), errno);
        }
        return {UniqueFd(fd), name};
    }

    void write_all(int fd, std::string_view content, const std::filesystem::path& rel) const {
        while (!content.empty()) {
            ssize_t n = ::write(fd, content.data(), content.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_error("cannot write", rel, errno);
            content.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    [[noreturn]] void throw_error(const char* what, const std::filesystem::path& rel, int err) const {
        auto shown = "/" + detail::relative_in_root(rel);
        if (shown == "/.") shown = "/";
        throw Error(errno_message(std::string(what) + " " + shown + " in " + path_.string(), {}, err), "root",
                    path_.string());
    }

    std::filesystem::path path_;
    UniqueFd fd_;
};

}  // namespace imgcreate
