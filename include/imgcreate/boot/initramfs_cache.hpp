// imgcreate — the image's dracut, during the rpm transaction. The kernel package's scripts run the
// image's own dracut, and that is most of a build's time (20 s of 27 for the testdistro's disk
// image: half of it gzip -9 on one core). Two things make it shorter, neither changing what dracut
// decides:
//
// - The host's cores compress. When the image's dracut would compress with gzip (its choice, from
//   its configuration, with gzip and no pigz in the image), it gets the host's pigz instead, which
//   dracut itself prefers when present: the same gzip format and options (-9 -n -T -R), made on
//   every core. pigz writes the same bytes whatever the number of threads, so builds stay
//   reproducible. The host's pigz runs in the root with its own loader and libraries, copied in
//   for the transaction (ldd names them): the image's C library may be older than the host's.
// - With a cache the user keeps (--cache), the same packages with the same settings give the same
//   initramfs, so a later build of them copies the image instead.
//
// How: for one transaction, the scriptlets' PATH starts with a directory of the root holding a
// `dracut` that stands in for the image's. A call a build of this transaction's identity made
// before gets that build's image, written where this call asks; any other call runs the image's
// dracut (with DRACUT_COMPRESS_PIGZ naming the host's pigz, when it applies) and keeps a copy of
// what it wrote. After the transaction the copies go to <cache>/initramfs/<key>/, and the
// directory leaves the root.
//
// The key is a SHA-256 of every package's NEVRA and checksum, the rpm settings (--excludedocs,
// --instLangs, the database path), every file and link the root held before the transaction (the
// boot policies' dracut configuration among them) but /etc/fstab, SOURCE_DATE_EPOCH, the
// architecture and the host's pigz and libraries. A call matches when its arguments are the same
// but for the image's path. Images that depend on more than the packages and that configuration
// are never kept: calls with --hostonly, --sysroot, --local or options not known here, calls that
// write no image, and any call when the image's dracut configuration ends host-only or adds the
// fstab (which holds the layout's UUIDs, new in every build). The newest three keys are kept.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/support/build_dir.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>

#include <rpm/rpmcrypto.h>
#include <rpm/rpmpgp.h>

#include <sys/stat.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace imgcreate::boot {

// Where the stand-in lives during the transaction, relative to the root.
inline const std::filesystem::path initramfs_call_dir = ".imgcreate-initramfs";
inline constexpr std::size_t initramfs_keys_kept = 3;

// Which argument (0-based) of a dracut command line, without the program name, is the image it
// writes: its first operand. None when it names no image, or when what it writes depends on more
// than the root or is not an image: such calls always run dracut.
inline std::optional<std::size_t> dracut_image_argument(const std::vector<std::string>& args) {
    static const std::set<std::string, std::less<>> valued = {
        "kver", "add", "force-add", "omit", "drivers", "add-drivers", "force-drivers", "omit-drivers", "modules",
        "filesystems", "install", "install-optional", "fwdir", "libdirs", "fscks", "mount", "device",
        "add-device", "kmoddir", "conf", "confdir", "tmpdir", "compress", "squash-compressor", "prefix",
        "kernel-cmdline", "sshkey", "persistent-policy", "hostonly-nics", "stdlog"};
    static const std::set<std::string, std::less<>> flags = {
        "force", "kernel-only", "no-kernel", "strip", "aggressive-strip", "nostrip", "hardlink", "nohardlink",
        "noprefix", "mdadmconf", "nomdadmconf", "lvmconf", "nolvmconf", "debug", "verbose", "quiet", "no-hostonly",
        "no-host-only", "hostonly-cmdline", "no-hostonly-cmdline", "no-hostonly-default-device", "bzip2",
        "lzma", "xz", "lzo", "lz4", "zstd", "gzip", "no-compress", "early-microcode", "no-early-microcode",
        "reproducible", "no-reproducible", "no-hostonly-i18n", "hostonly-i18n", "no-machineid", "enhanced-cpio",
        "ro-mnt", "nofscks", "noimageifnotneeded", "parallel"};
    constexpr std::string_view short_valued = "amodIkcL";  // -a add, -m modules, -o omit, -d drivers, -I install,
                                                           // -k kmoddir, -c conf, -L stdlog
    constexpr std::string_view short_flags = "fvq";
    std::optional<std::size_t> image;
    bool operands_only = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (operands_only || a.empty() || a[0] != '-' || a == "-") {
            if (!image) image = i;
            continue;
        }
        if (a == "--") {
            operands_only = true;
            continue;
        }
        if (a.rfind("--", 0) == 0) {
            const auto eq = a.find('=');
            const std::string_view name = std::string_view(a).substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            if (valued.count(name)) {
                if (eq == std::string::npos && ++i >= args.size()) return std::nullopt;
            } else if (!flags.count(name) || eq != std::string::npos) {
                return std::nullopt;  // --hostonly, --sysroot, --regenerate-all, --uefi, ... or unknown
            }
            continue;
        }
        for (std::size_t c = 1; c < a.size(); ++c) {
            if (short_valued.find(a[c]) != std::string_view::npos) {
                if (c + 1 == a.size() && ++i >= args.size()) return std::nullopt;
                break;
            }
            if (short_flags.find(a[c]) == std::string_view::npos) return std::nullopt;  // -H, -l, -r, ...
        }
    }
    return image;
}

// The `dracut` first on the scriptlets' PATH during the transaction (a POSIX shell script, run in
// the root).
inline std::string initramfs_stand_in_script() {
    return R"SH(#!/bin/sh
# Put first on the rpm scriptlets' PATH by imgcreate for one transaction, and removed with it.
# A dracut call a build of the same packages made before gets that build's image; any other
# runs the image's dracut, with the host's pigz for its gzip when the build offers one, and
# copies of the files its arguments name (its image among them) are left for the build to keep.
dir=/.imgcreate-initramfs
for entry in "$dir"/cached/*; do
    [ -f "$entry/args" ] && [ -f "$entry/image" ] || continue
    index=$(cat "$entry/index") || continue
    n=0 out= same=yes
    exec 3<"$entry/args"
    for arg in "$@"; do
        n=$((n + 1))
        if ! IFS= read -r want <&3; then same=no; break; fi
        if [ "$n" = "$index" ]; then out=$arg; elif [ "x$arg" != "x$want" ]; then same=no; break; fi
    done
    if IFS= read -r want <&3; then same=no; fi
    exec 3<&-
    [ "$same" = yes ] && [ -n "$out" ] || continue
    if cp "$entry/image" "$out.imgcreate-part" && chmod "$(cat "$entry/mode")" "$out.imgcreate-part" &&
        mv -f "$out.imgcreate-part" "$out"; then
        echo "${entry##*/}" >>"$dir/reused"
        exit 0
    fi
    rm -f "$out.imgcreate-part"
done
# whether the image has a program of that name where dracut looks for it
image_has() {
    for d in /usr/sbin /usr/bin /sbin /bin; do [ -x "$d/$1" ] && return 0; done
    return 1
}
# dracut compresses with gzip when its configuration names gzip or pigz, or names nothing and the
# image has gzip; it prefers pigz, and DRACUT_COMPRESS_PIGZ says where pigz is
if [ -z "${DRACUT_COMPRESS_PIGZ:-}" ] && [ -x "$dir/host/pigz" ] && image_has gzip && ! image_has pigz &&
    "$dir/host/pigz" --imgcreate-probe; then
    DRACUT_COMPRESS_PIGZ=$dir/host/pigz
    export DRACUT_COMPRESS_PIGZ
fi
call=
if [ -e "$dir/keep" ]; then
    call=$dir/calls/$$
    mkdir -p "$dir/calls" || call=
fi
for dracut in /usr/bin/dracut /usr/sbin/dracut /bin/dracut /sbin/dracut; do
    [ -x "$dracut" ] || continue
    "$dracut" "$@"
    status=$?
    if [ "$status" = 0 ] && [ -n "$call" ]; then
        n=0
        for arg in "$@"; do
            n=$((n + 1))
            if [ -f "$arg" ]; then cp -p "$arg" "$call.$n" 2>/dev/null; fi
        done
        printf '%s\0' "$@" >"$call.args"
    fi
    exit "$status"
done
echo "dracut: command not found" >&2
exit 127
)SH";
}

// What the image's dracut runs for pigz (DRACUT_COMPRESS_PIGZ): the host's pigz through the host's
// loader and libraries, copied to <dir>/host (`loader` empty: pigz is static), on `threads` threads.
// Without arguments (dracut's auto-detected choice) it compresses as dracut's pigz does.
inline std::string host_pigz_script(bool loader, unsigned threads) {
    const std::string run = loader ? "/.imgcreate-initramfs/host/ld.so --library-path /.imgcreate-initramfs/host/lib "
                                     "/.imgcreate-initramfs/host/pigz.bin"
                                   : "/.imgcreate-initramfs/host/pigz.bin";
    return "#!/bin/sh\n"
           "# The build host's pigz, for the image's dracut during one transaction (imgcreate).\n"
           "if [ \"$*\" = --imgcreate-probe ]; then exec " + run + " -V >/dev/null 2>&1; fi\n"
           "[ $# -gt 0 ] || set -- -9 -n -T -R\n"
           "echo \"$*\" >>/.imgcreate-initramfs/compressed\n"
           "exec " + run + " -p " + std::to_string(threads) + " \"$@\"\n";
}

namespace detail {

class Sha256 {
public:
    Sha256() {
        static const int ready = rpmInitCrypto();
        (void)ready;
        ctx_ = rpmDigestInit(PGPHASHALGO_SHA256, RPMDIGEST_NONE);
        if (!ctx_) throw Error("rpm cannot compute SHA-256 digests");
    }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    ~Sha256() {
        if (ctx_) rpmDigestFinal(ctx_, nullptr, nullptr, 0);
    }
    Sha256& add(std::string_view bytes) {
        rpmDigestUpdate(ctx_, bytes.data(), bytes.size());
        return *this;
    }
    Sha256& field(std::string_view bytes) { return add(std::to_string(bytes.size()) + ":").add(bytes); }
    std::string hex() {
        void* out = nullptr;
        size_t len = 0;
        rpmDigestFinal(ctx_, &out, &len, 1);
        ctx_ = nullptr;
        std::string text(static_cast<const char*>(out));
        std::free(out);
        return text;
    }

private:
    DIGEST_CTX ctx_ = nullptr;
};

inline std::string read_all(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_cache_file(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw Error("cannot write " + file.string());
}

// The host's pigz and what it needs to run in a root whose C library may be another: its loader
// and libraries, as ldd names them.
struct HostPigz {
    std::filesystem::path program, loader;  // loader empty: a static pigz
    std::vector<std::pair<std::string, std::filesystem::path>> libraries;  // name the program asks for, file
};

// None when the host has no pigz, or ldd cannot say what it needs.
inline std::optional<HostPigz> host_pigz() {
    HostPigz pigz;
    pigz.program = find_program("pigz");
    if (pigz.program.empty() || find_program("ldd").empty()) return std::nullopt;
    Command ldd;
    ldd.argv = {"ldd", pigz.program.string()};
    ldd.check = false;
    ldd.log_output = false;
    const auto listed = run(ldd);
    bool is_static = false;
    std::istringstream in(listed.output);
    for (std::string line; std::getline(in, line);) {
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos) continue;
        line = line.substr(start);
        if (line.find("not a dynamic executable") != std::string::npos || line.find("statically linked") != std::string::npos) {
            is_static = true;
            continue;
        }
        const auto arrow = line.find(" => ");
        const std::string name = line.substr(0, arrow == std::string::npos ? line.find(" (") : arrow);
        std::string file = arrow == std::string::npos ? name : line.substr(arrow + 4);
        file = file.substr(0, file.find(" ("));
        if (arrow == std::string::npos && name.front() != '/') continue;  // linux-vdso.so.1: the kernel's
        if (file.empty() || file.front() != '/') return std::nullopt;     // "not found"
        if (name.front() == '/') pigz.loader = file;
        else pigz.libraries.emplace_back(name, file);
    }
    if (is_static) return pigz.libraries.empty() && pigz.loader.empty() ? std::optional<HostPigz>(pigz) : std::nullopt;
    if (listed.exit_status != 0 || pigz.loader.empty()) return std::nullopt;
    return pigz;
}

// Copies the host's pigz and what it needs to <dir>/host, with the script the image's dracut runs,
// and answers with a digest of every file copied (what the images it makes depend on).
inline std::string install_host_pigz(const std::filesystem::path& dir, const HostPigz& pigz) {
    namespace fs = std::filesystem;
    const fs::path host = dir / "host";
    fs::create_directories(host / "lib");
    std::vector<std::pair<fs::path, fs::path>> copies = {{pigz.program, host / "pigz.bin"}};
    if (!pigz.loader.empty()) copies.emplace_back(pigz.loader, host / "ld.so");
    for (const auto& [name, file] : pigz.libraries) {
        if (name.find('/') != std::string::npos) throw Error("ldd names a library with a '/' in its name: " + name);
        copies.emplace_back(file, host / "lib" / name);
    }
    Sha256 digest;
    for (const auto& [from, to] : copies) {
        fs::copy_file(from, to, fs::copy_options::overwrite_existing);  // the file a link names
        fs::permissions(to, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
        digest.field(to.lexically_relative(host).string()).field(read_all(to));
    }
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    write_cache_file(host / "pigz", host_pigz_script(!pigz.loader.empty(), threads));
    fs::permissions(host / "pigz", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                       fs::perms::others_read | fs::perms::others_exec);
    return digest.hex();
}

// Whether the image's dracut configuration puts the root's fstab (or the build host's devices) into
// the initramfs: add_fstab or use_fstab set, or hostonly yes in the end. Files in
// /etc/dracut.conf.d replace /usr/lib/dracut/dracut.conf.d's of the same name, read in name order
// after /etc/dracut.conf.
inline bool dracut_reads_fstab(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::map<std::string, fs::path> confs;
    std::error_code ec;
    for (const char* dir : {"usr/lib/dracut/dracut.conf.d", "etc/dracut.conf.d"})
        for (const auto& e : fs::directory_iterator(root / dir, ec))
            if (e.path().extension() == ".conf") confs[e.path().filename().string()] = e.path();
    std::vector<fs::path> order = {root / "etc/dracut.conf"};
    for (const auto& [name, path] : confs) order.push_back(path);
    bool hostonly = false;
    for (const auto& conf : order) {
        std::istringstream in(read_all(conf));
        for (std::string line; std::getline(in, line);) {
            const auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') continue;
            line = line.substr(start);
            if (line.rfind("add_fstab", 0) == 0 || line.rfind("use_fstab", 0) == 0) return true;
            if (line.rfind("hostonly=", 0) == 0) {
                std::string value = line.substr(9);
                value.erase(std::remove(value.begin(), value.end(), '"'), value.end());
                value.erase(std::remove(value.begin(), value.end(), '\''), value.end());
                hostonly = value.rfind("yes", 0) == 0;
            }
        }
    }
    return hostonly;
}

// What the root held before the transaction: every file's and link's path and mode, a link's target
// and a file's bytes, below mount points not included. None when it holds a system already (a build on
// an existing image): its files are not all named by the transaction.
inline std::optional<std::string> pre_transaction_root(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    struct stat top{};
    if (::lstat(root.c_str(), &top) != 0) return std::nullopt;
    Sha256 hash;
    std::size_t entries = 0;
    std::error_code ec;
    // what is mounted in the root (/proc, /sys, /dev, the package cache) is not the root's: a bind
    // mount of a directory on the root's own filesystem has the same st_dev, so the mount table says
    std::set<fs::path> mounted;
    const fs::path base = fs::weakly_canonical(root, ec);
    if (ec) return std::nullopt;
    for (const auto& m : mounts_below(base))
        if (m != base) mounted.insert(m.lexically_relative(base));
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
    std::vector<std::pair<std::string, std::string>> seen;
    for (; !ec && it != end; it.increment(ec)) {
        const auto rel = it->path().lexically_relative(root);
        if (rel == initramfs_call_dir || mounted.count(rel)) {
            it.disable_recursion_pending();
            continue;
        }
        // The layout's fstab (new UUIDs in every build): only an initramfs that reads it depends on
        // it, and such images are never kept (dracut_reads_fstab).
        if (rel == "etc/fstab") continue;
        struct stat st{};
        if (::lstat(it->path().c_str(), &st) != 0) return std::nullopt;
        if (++entries > 4096) return std::nullopt;
        std::string what = std::to_string(st.st_mode);
        if (S_ISDIR(st.st_mode)) {
            // directories say nothing of their own to dracut: the layout's mount points are
            // made here, which differ between layouts of the same system
            if (st.st_dev != top.st_dev) it.disable_recursion_pending();  // /proc, /sys, /dev and the like
            continue;
        } else if (S_ISLNK(st.st_mode)) {
            what += " " + fs::read_symlink(it->path(), ec).string();
        } else if (S_ISREG(st.st_mode)) {
            if (st.st_size > (16 << 20)) return std::nullopt;
            what += " " + read_all(it->path());
        }
        seen.emplace_back(rel.string(), std::move(what));
    }
    if (ec) return std::nullopt;
    std::sort(seen.begin(), seen.end());
    for (const auto& [path, what] : seen) hash.field(path).field(what);
    return hash.hex();
}

struct InitramfsState {
    std::filesystem::path root, store;  // store: <cache>/initramfs/<key>, empty when nothing is kept
    std::string key;
};

// The cached calls of this key into the root, for the stand-in to find.
inline std::size_t offer_cached(const InitramfsState& s) {
    namespace fs = std::filesystem;
    std::size_t offered = 0;
    std::error_code ec;
    if (!fs::is_directory(s.store, ec)) return 0;
    for (const auto& entry : fs::directory_iterator(s.store)) {
        if (!fs::exists(entry.path() / "image", ec)) continue;
        const auto to = s.root / initramfs_call_dir / "cached" / entry.path().filename();
        fs::create_directories(to);
        for (const char* name : {"args", "index", "mode"}) fs::copy_file(entry.path() / name, to / name);
        fs::create_hard_link(entry.path() / "image", to / "image", ec);
        if (ec) fs::copy_file(entry.path() / "image", to / "image");
        ++offered;
    }
    fs::last_write_time(s.store, fs::file_time_type::clock::now(), ec);  // most recently used
    return offered;
}

// A call that ran dracut, into the cache: its arguments with the image's replaced by a blank line,
// which argument that is, the image and its mode.
inline bool keep_call(const InitramfsState& s, const std::filesystem::path& args_file, std::size_t number) {
    namespace fs = std::filesystem;
    const std::string raw = read_all(args_file);
    std::vector<std::string> args;
    for (std::size_t at = 0; at < raw.size();) {
        const auto nul = raw.find('\0', at);
        if (nul == std::string::npos) return false;
        args.push_back(raw.substr(at, nul - at));
        at = nul + 1;
    }
    const auto image = dracut_image_argument(args);
    if (!image) return false;
    const fs::path copy = args_file.parent_path() / (args_file.stem().string() + "." + std::to_string(*image + 1));
    struct stat st{};
    if (::stat(copy.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return false;
    std::string lines;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i].find('\n') != std::string::npos) return false;
        lines += (i == *image ? std::string() : args[i]) + "\n";
    }
    const fs::path to = s.store / std::to_string(number);
    const fs::path part = s.store / (std::to_string(number) + ".part");
    fs::remove_all(part);
    fs::create_directories(part);
    write_cache_file(part / "args", lines);
    write_cache_file(part / "index", std::to_string(*image + 1) + "\n");
    char mode[8];
    std::snprintf(mode, sizeof mode, "%o", static_cast<unsigned>(st.st_mode & 07777));
    write_cache_file(part / "mode", std::string(mode) + "\n");
    std::error_code ec;
    fs::rename(copy, part / "image", ec);
    if (ec) fs::copy_file(copy, part / "image");
    fs::remove_all(to);
    fs::rename(part, to);
    log::info("kept the initramfs image ", args[*image], " (", (st.st_size + (1 << 20) - 1) >> 20,
              " MiB) in ", s.store.string(), ": a later build of the same packages reuses it");
    return true;
}

// Only the newest keys stay.
inline void prune(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<std::pair<fs::file_time_type, fs::path>> keys;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory(ec)) keys.emplace_back(e.last_write_time(ec), e.path());
    if (keys.size() <= initramfs_keys_kept) return;
    std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = initramfs_keys_kept; i < keys.size(); ++i) fs::remove_all(keys[i].second, ec);
}

inline void after_transaction(const InitramfsState& s) {
    namespace fs = std::filesystem;
    const fs::path dir = s.root / initramfs_call_dir;
    std::error_code ec;
    if (fs::exists(dir / "compressed", ec)) {
        std::size_t images = 0;
        std::istringstream calls(read_all(dir / "compressed"));
        for (std::string call; std::getline(calls, call);) ++images;
        log::info("the image's dracut compressed ", images, images == 1 ? " initramfs" : " initramfs images",
                  " with the host's pigz on ", std::max(1u, std::thread::hardware_concurrency()),
                  " processors: gzip, as it chose, with the options it gives pigz");
    }
    if (fs::exists(dir / "reused", ec)) {
        std::istringstream reused(read_all(dir / "reused"));
        for (std::string entry; std::getline(reused, entry);)
            log::info("reused the initramfs image an earlier build of the same packages made (", (s.store / entry).string(),
                      "): dracut did not run for it");
    }
    std::size_t number = 0;
    if (!s.store.empty() && fs::is_directory(s.store, ec))
        for (const auto& e : fs::directory_iterator(s.store, ec)) {
            const auto n = std::atoi(e.path().filename().c_str());
            number = std::max<std::size_t>(number, static_cast<std::size_t>(n > 0 ? n : 0));
        }
    if (s.store.empty()) {
        // nothing is kept
    } else if (fs::is_directory(dir / "calls", ec) && dracut_reads_fstab(s.root)) {
        log::debug("initramfs images are not kept: the image's dracut configuration is host-only or adds the fstab");
    } else if (fs::is_directory(dir / "calls", ec)) {
        std::vector<fs::path> calls;
        for (const auto& e : fs::directory_iterator(dir / "calls"))
            if (e.path().extension() == ".args") calls.push_back(e.path());
        std::sort(calls.begin(), calls.end());
        for (const auto& call : calls) {
            try {
                fs::create_directories(s.store);
                if (keep_call(s, call, number + 1)) ++number;
            } catch (const std::exception& e) {
                log::warning("the initramfs image could not be kept for later builds: ", e.what());
            }
        }
        prune(s.store.parent_path());
    }
    fs::remove_all(dir);
}

}  // namespace detail

// Sets ctx.before_transaction so that the image's dracut, run by an install policy's transaction
// into a root that held no system, compresses on the host's cores (when it chooses gzip and the
// host has pigz), and, with a cache the user keeps, reuses or keeps the images it makes.
inline void stand_in_for_dracut(BuildContext& ctx) {
    ctx.before_transaction = [&ctx](const std::string& identity) -> BuildContext::TransactionHook {
        namespace fs = std::filesystem;
        const fs::path root = ctx.install_root;
        for (const char* dracut : {"usr/bin/dracut", "usr/sbin/dracut", "bin/dracut", "sbin/dracut"}) {
            std::error_code ec;
            if (fs::exists(root / dracut, ec) || fs::is_symlink(root / dracut, ec)) return {};  // built on a system
        }
        const auto pigz = detail::host_pigz();
        if (!pigz) log::debug("the host has no pigz (or ldd cannot list what it needs): the image's dracut compresses alone");
        std::optional<std::string> before;
        if (!ctx.options.cache_dir.empty() && !identity.empty()) {
            before = detail::pre_transaction_root(root);
            if (!before) log::debug("initramfs images are not kept for this build: the root held a system before the transaction");
        }
        if (!pigz && !before) return {};

        auto state = std::make_shared<detail::InitramfsState>();
        state->root = root;
        const fs::path dir = root / initramfs_call_dir;
        fs::remove_all(dir);
        fs::create_directories(dir / "bin");
        fs::permissions(dir, fs::perms::owner_all);
        detail::write_cache_file(dir / "bin/dracut", initramfs_stand_in_script());
        fs::permissions(dir / "bin/dracut", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                fs::perms::others_read | fs::perms::others_exec);
        std::string compressor = "none";
        if (pigz) {
            try {
                compressor = detail::install_host_pigz(dir, *pigz);
            } catch (const std::exception& e) {  // std::filesystem's errors too: the image's gzip then
                log::warning("the image's dracut compresses alone: the host's pigz could not be copied into the root: ",
                             e.what());
                std::error_code ec;
                fs::remove_all(dir / "host", ec);
            }
        }
        if (before) {
            utsname host{};
            ::uname(&host);
            const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
            detail::Sha256 key;
            key.field("imgcreate initramfs 2").field(identity).field(*before).field(host.machine).field(compressor);
            key.field(ctx.options.source_date_epoch ? std::to_string(*ctx.options.source_date_epoch) : (epoch ? epoch : ""));
            state->key = key.hex();
            state->store = ctx.options.cache_dir / "initramfs" / state->key;
            detail::write_cache_file(dir / "keep", "");
            const auto offered = detail::offer_cached(*state);
            log::debug("initramfs images kept for this package set: ", offered, " (", state->store.string(), ")");
        }
        return {"/" + initramfs_call_dir.string() + "/bin", [state] { detail::after_transaction(*state); }};
    };
}

}  // namespace imgcreate::boot
