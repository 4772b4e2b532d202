// imgcreate — a FILE* opened through libsolv's solv_xfopen, which decompresses by suffix
// (.gz .xz .bz2 .zst), closed when the handle goes.
#pragma once

#include <imgcreate/support/error.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace imgcreate::install::solv {

class SolvFile {
public:
    SolvFile() = default;
    // Reads `path`, decompressing according to its suffix; throws InstallError when absent.
    static SolvFile open_read(const std::filesystem::path& path) {
        FILE* f = solv_xfopen(path.c_str(), "r");
        if (!f) throw InstallError(errno_message("cannot read", path, errno), path.string());
        return SolvFile(f);
    }
    // Opens `path` plainly (no decompression), e.g. for writing a .solv cache.
    static SolvFile open_plain(const std::filesystem::path& path, const char* mode) {
        FILE* f = std::fopen(path.c_str(), mode);
        if (!f) throw InstallError(errno_message("cannot open", path, errno), path.string());
        return SolvFile(f);
    }
    ~SolvFile() { if (file_) std::fclose(file_); }
    SolvFile(SolvFile&& o) noexcept : file_(std::exchange(o.file_, nullptr)) {}
    SolvFile& operator=(SolvFile&& o) noexcept {
        std::swap(file_, o.file_);
        return *this;
    }
    SolvFile(const SolvFile&) = delete;
    SolvFile& operator=(const SolvFile&) = delete;

    // Flushes and closes, reporting a failed write (a full disk) instead of losing it.
    void close(const std::filesystem::path& path) {
        FILE* f = std::exchange(file_, nullptr);
        if (f && std::fclose(f) != 0) throw InstallError(errno_message("cannot write", path, errno), path.string());
    }
    FILE* get() const noexcept { return file_; }

private:
    explicit SolvFile(FILE* f) : file_(f) {}
    FILE* file_ = nullptr;
};

}  // namespace imgcreate::install::solv
