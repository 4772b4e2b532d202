// imgcreate — an rpmio file handle (FD_t) that closes itself.
#pragma once

#include <imgcreate/support/error.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <utility>

#include <rpm/rpmio.h>

namespace imgcreate::install::rpm {

class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(FD_t fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, nullptr)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, nullptr));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    // Opens a package file for reading the way rpm itself does ("r.ufdio").
    static Fd open_package(const std::filesystem::path& path) {
        FD_t fd = Fopen(path.c_str(), "r.ufdio");
        if (fd == nullptr || Ferror(fd)) {
            int err = errno;
            std::string why = fd ? Fstrerror(fd) : "";
            if (fd) Fclose(fd);
            throw InstallError(why.empty() ? errno_message("cannot open package", path, err)
                                           : "cannot open package: " + path.string() + ": " + why,
                               path.string());
        }
        return Fd(fd);
    }

    // An rpmio handle on a duplicate of a plain descriptor (the scriptlet output file).
    static Fd duplicate(int fd) {
        FD_t dup = fdDup(fd);
        if (dup == nullptr) throw InstallError(errno_message("cannot duplicate descriptor", {}, errno));
        return Fd(dup);
    }

    FD_t get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ != nullptr; }
    void reset(FD_t fd = nullptr) noexcept {
        if (fd_) Fclose(fd_);
        fd_ = fd;
    }

private:
    FD_t fd_ = nullptr;
};

}  // namespace imgcreate::install::rpm
