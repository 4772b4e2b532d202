// imgcreate — mksquashfs, on every core, with the compressor the user chose. livecd-tools'
// compressors: xz (its default), zstd, lz4, gzip (and lzo, lzma where mksquashfs has them).
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/process.hpp>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace imgcreate::stage {

struct SquashfsOptions {
    // livecd-creator --compression-type: a compressor, optionally followed by its
    // mksquashfs options ("xz -Xbcj x86"). "none" is --skip-compression's business.
    std::string compression = "xz";
    std::optional<long long> epoch;   // reproducible: -reproducible, every time = the epoch
    unsigned processors = 0;          // 0: every core
};

inline std::vector<std::string> mksquashfs_argv(const std::filesystem::path& source, const std::filesystem::path& image,
                                                const SquashfsOptions& options) {
    std::istringstream words(options.compression);
    std::string compressor;
    words >> compressor;
    if (compressor.empty()) compressor = "xz";
    static const std::vector<std::string> known = {"xz", "zstd", "lz4", "gzip", "lzo", "lzma"};
    if (std::find(known.begin(), known.end(), compressor) == known.end())
        throw StageError("unknown squashfs compression '" + compressor + "': choose xz, zstd, lz4 or gzip", compressor);
    std::vector<std::string> argv = {"mksquashfs", source.string(), image.string(), "-noappend", "-no-progress",
                                     "-comp", compressor};
    for (std::string w; words >> w;) argv.push_back(w);
    const unsigned cores = options.processors ? options.processors : std::max(1u, std::thread::hardware_concurrency());
    argv.insert(argv.end(), {"-processors", std::to_string(cores)});
    if (options.epoch) {
        const auto t = std::to_string(*options.epoch);
        argv.insert(argv.end(), {"-reproducible", "-mkfs-time", t, "-all-time", t});
    }
    return argv;
}

inline void make_squashfs(const std::filesystem::path& source, const std::filesystem::path& image,
                          const SquashfsOptions& options = {}) {
    require_program("mksquashfs", "squashfs-tools");
    std::error_code ec;
    std::filesystem::remove(image, ec);
    Command cmd;
    cmd.argv = mksquashfs_argv(source, image, options);
    // mksquashfs refuses -mkfs-time/-all-time when SOURCE_DATE_EPOCH is in its environment:
    // the options say the same, so it gets a clean one.
    cmd.env = clean_environment();
    run(cmd);
}

}  // namespace imgcreate::stage
