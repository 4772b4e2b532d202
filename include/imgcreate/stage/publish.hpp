// imgcreate — outputs appear whole or not at all: the deliverable is finished under the
// build dir and then renamed into the output dir; across filesystems it is copied to a
// hidden temporary name in the output dir first, then renamed.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <fcntl.h>

namespace imgcreate::stage {

// Moves `built` (a file or a directory tree) to `outdir/name`. Refuses to replace an
// existing output: a user's earlier image is never overwritten by surprise.
inline std::filesystem::path publish(const std::filesystem::path& built, const std::filesystem::path& outdir,
                                     const std::string& name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(outdir, ec);
    if (ec) throw StageError("cannot create the output directory " + outdir.string() + ": " + ec.message(), outdir.string());
    const fs::path target = outdir / name;
    if (fs::symlink_status(target, ec).type() != fs::file_type::not_found) throw OutputExistsError(target);
    // The rename is the build's point of no return: a signal that came before it (say, while the
    // last tool of the stage was exiting) still stops the build with nothing published.
    check_interrupted();

    // RENAME_NOREPLACE: a build of the same name finishing in between must not be overwritten.
    const auto exists = [&] { return OutputExistsError(target); };
    if (::renameat2(AT_FDCWD, built.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) return target;
    if (errno == EEXIST) throw exists();
    if (errno != EXDEV) throw StageError(errno_message("cannot move the image into place", target, errno), target.string());

    // Another filesystem: copy beside the target under a hidden name, then rename.
    const fs::path partial = outdir / ("." + name + ".partial");
    fs::remove_all(partial, ec);
    try {
        run({"cp", "-a", "--sparse=always", "--reflink=auto", built.string(), partial.string()});
        check_interrupted();
    } catch (const CommandError& e) {
        // cp's own last line says why (a full disk, most often): it leads the message.
        fs::remove_all(partial, ec);
        auto tail = e.output_tail();
        while (!tail.empty() && tail.back() == '\n') tail.pop_back();
        const auto why = tail.substr(tail.rfind('\n') == std::string::npos ? 0 : tail.rfind('\n') + 1);
        throw StageError("cannot copy " + name + " into " + outdir.string() + (why.empty() ? "" : ": " + why) +
                             " (" + e.argv().front() + " failed with exit status " + std::to_string(e.exit_status()) + ")",
                         target.string());
    } catch (...) {
        fs::remove_all(partial, ec);
        throw;
    }
    if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
        int err = errno;
        fs::remove_all(partial, ec);
        if (err == EEXIST) throw exists();
        throw StageError(errno_message("cannot move the image into place", target, err), target.string());
    }
    fs::remove_all(built, ec);
    return target;
}

}  // namespace imgcreate::stage
