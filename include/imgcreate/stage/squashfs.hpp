// imgcreate — mksquashfs, on every core, with the compressor the user chose. livecd-tools'
// compressors: xz (its default), zstd, lz4, gzip (and lzo, lzma where mksquashfs has them),
// plus its xz1m shorthand. On a terminal, mksquashfs's progress bar becomes the log's status
// line ("[200/600] squashing squashfs.img 33%", the look of the rpm transaction's progress);
// elsewhere there is no bar, only the log lines.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace imgcreate::stage {

// livecd-creator --compression-type None: use the compressor of the --base-on image. The
// live mount replaces it with what it finds there before anything is squashed.
inline const std::string compression_from_base = "None";

// livecd-tools' shorthand for a small-window xz.
inline const std::string xz1m_arguments = "xz -b 1M -Xdict-size 1M -no-recovery";

struct SquashfsOptions {
    // livecd-creator --compression-type: a compressor, optionally followed by its
    // mksquashfs options ("xz -Xbcj x86"), or xz1m.
    std::string compression = "xz";
    std::optional<long long> epoch;   // reproducible: -reproducible, every time = the epoch
    unsigned processors = 0;          // 0: every core
    // mksquashfs's cache size (-mem), MiB. 0: 32 MiB per processor, at least 64. Its own default
    // is a quarter of the machine's memory (450 MiB resident for a 340 MB tree here), and a larger
    // cache made it no faster: the output is the same bytes either way.
    unsigned memory_mib = 0;
    // Show mksquashfs's progress as the status line. Unset: when the log has a terminal.
    std::optional<bool> progress;
};

inline std::vector<std::string> mksquashfs_argv(const std::filesystem::path& source, const std::filesystem::path& image,
                                                const SquashfsOptions& options) {
    const std::string& compression =
        options.compression == "xz1m" || options.compression == "xz1M" ? xz1m_arguments : options.compression;
    std::istringstream words(compression);
    std::string compressor;
    words >> compressor;
    if (compressor.empty()) compressor = "xz";
    if (compressor == compression_from_base)
        throw StageError("--compression-type None was not resolved: it takes the compressor of a --base-on live ISO, "
                         "and this build has none", compressor);
    static const std::vector<std::string> known = {"xz", "zstd", "lz4", "gzip", "lzo", "lzma"};
    if (std::find(known.begin(), known.end(), compressor) == known.end())
        throw StageError("unknown squashfs compression '" + compressor + "': choose xz, zstd, lz4 or gzip", compressor);
    std::vector<std::string> argv = {"mksquashfs", source.string(), image.string(), "-noappend"};
    if (!options.progress.value_or(false)) argv.push_back("-no-progress");
    argv.insert(argv.end(), {"-comp", compressor});
    for (std::string w; words >> w;) argv.push_back(w);
    const unsigned cores = options.processors ? options.processors : std::max(1u, std::thread::hardware_concurrency());
    argv.insert(argv.end(), {"-processors", std::to_string(cores)});
    const unsigned memory = options.memory_mib ? options.memory_mib : std::max(64u, 32u * cores);
    argv.insert(argv.end(), {"-mem", std::to_string(memory) + "M"});
    if (options.epoch) {
        const auto t = std::to_string(*options.epoch);
        argv.insert(argv.end(), {"-reproducible", "-mkfs-time", t, "-all-time", t});
    }
    return argv;
}

// One redraw of mksquashfs's bar, "[====\     ] 200/600  33%", as {done, total, percent}.
struct SquashProgress {
    unsigned long long done = 0, total = 0;
    int percent = 0;
};

inline std::optional<SquashProgress> parse_mksquashfs_progress(const std::string& piece) {
    const auto close = piece.rfind(']');
    if (piece.empty() || piece.front() != '[' || close == std::string::npos) return std::nullopt;
    std::istringstream in(piece.substr(close + 1));
    SquashProgress p;
    char slash = 0, percent = 0;
    if (!(in >> p.done >> slash >> p.total >> p.percent >> percent) || slash != '/' || percent != '%') return std::nullopt;
    return p;
}

// The status line for one redraw.
inline std::string squash_status(const SquashProgress& p, const std::filesystem::path& image) {
    return "[" + std::to_string(p.done) + "/" + std::to_string(p.total) + "] squashing " + image.filename().string() +
           " " + std::to_string(p.percent) + "%";
}

// The compressor a squashfs image was made with (unsquashfs -s); gzip when it does not say,
// as livecd-tools assumes for old images.
inline std::string squashfs_compression(const std::filesystem::path& image) {
    require_program("unsquashfs", "squashfs-tools");
    Command cmd;
    cmd.argv = {"unsquashfs", "-s", image.string()};
    cmd.env = clean_environment();
    std::istringstream lines(run(cmd).output);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string key, value;
        if (words >> key >> value && key == "Compression") return value;
    }
    return "gzip";
}

inline void make_squashfs(const std::filesystem::path& source, const std::filesystem::path& image,
                          SquashfsOptions options = {}) {
    require_program("mksquashfs", "squashfs-tools");
    std::error_code ec;
    std::filesystem::remove(image, ec);
    auto& logger = Logger::instance();
    if (!options.progress) options.progress = logger.interactive() && logger.console_level() <= LogLevel::info;
    Command cmd;
    cmd.argv = mksquashfs_argv(source, image, options);
    const auto comp = std::find(cmd.argv.begin(), cmd.argv.end(), "-comp");
    log::info("squashing ", source.string(), " into ", image.string(), " (", *std::next(comp), ")");
    // mksquashfs refuses -mkfs-time/-all-time when SOURCE_DATE_EPOCH is in its environment:
    // the options say the same, so it gets a clean one.
    cmd.env = clean_environment();
    if (*options.progress) {
        cmd.on_redraw = [&image, &logger](const std::string& piece) {
            if (auto p = parse_mksquashfs_progress(piece)) logger.status(squash_status(*p, image));
        };
    }
    try {
        run(cmd);
    } catch (...) {
        logger.clear_status();
        throw;
    }
    logger.clear_status();
}

}  // namespace imgcreate::stage
