// imgcreate — reproducible time stamps: every file of a tree whose mtime is later than
// SOURCE_DATE_EPOCH gets the epoch (atime follows), as tar --clamp-mtime does.
#pragma once

#include <imgcreate/support/error.hpp>

#include <cerrno>
#include <filesystem>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

namespace imgcreate::stage {

namespace detail {
inline long long clamp_epoch = 0;
inline int clamp_one(const char* path, const struct stat* st, int, struct FTW*) {
    struct timespec times[2];
    const bool newer = st->st_mtim.tv_sec > clamp_epoch || (st->st_mtim.tv_sec == clamp_epoch && st->st_mtim.tv_nsec);
    times[1] = newer ? timespec{static_cast<time_t>(clamp_epoch), 0} : st->st_mtim;
    times[0] = times[1];
    ::utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
    return 0;
}
}  // namespace detail

inline void clamp_times(const std::filesystem::path& tree, long long epoch) {
    detail::clamp_epoch = epoch;
    // FTW_DEPTH: a directory's own times are set after its entries, which would touch them.
    if (::nftw(tree.c_str(), detail::clamp_one, 64, FTW_PHYS | FTW_DEPTH) != 0)
        throw StageError(errno_message("cannot set the time stamps of", tree, errno), tree.string());
}

}  // namespace imgcreate::stage
