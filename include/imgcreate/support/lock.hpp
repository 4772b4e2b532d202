// imgcreate — an exclusive lock on a directory (flock on <dir>/.lock), so two builds sharing
// one package/metadata cache never write it at the same time. The kernel drops the lock when
// the holder exits, however it ends (SIGKILL included): a stale lock file is harmless.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>

namespace imgcreate {

class DirectoryLock {
public:
    // Takes the lock or fails at once naming the directory: a second build should not wait
    // silently behind the first for the length of a whole install.
    static DirectoryLock acquire(const std::filesystem::path& dir, const std::string& what) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw Error("cannot create the " + what + " " + dir.string() + ": " + ec.message(), dir.string());
        const auto file = dir / ".lock";
        UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (fd.get() < 0) throw Error(errno_message("cannot open the lock file", file, errno), dir.string());
        while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EINTR) continue;
            if (errno == EWOULDBLOCK)
                throw Error("the " + what + " " + dir.string() +
                                " is in use by another build: wait for it to finish, or give this build its own with --cache",
                            dir.string());
            throw Error(errno_message("cannot lock", file, errno), dir.string());
        }
        return DirectoryLock(std::move(fd));
    }

private:
    explicit DirectoryLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace imgcreate
