// imgcreate — the live initramfs. Like livecd-tools, a dracut config naming dmsquash-live is
// written into the root before the packages go in, so the kernel package's own scripts build a
// live initramfs. A root with a kernel but no dracut (a minimal or foreign userspace) gets one
// built by the host's dracut against the root's kernel modules; that build is cached by
// kernel, modules and config, since it takes about a minute.
#pragma once

#include <imgcreate/mount/user_namespace.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>

namespace imgcreate::boot {

// Where the live dracut config goes inside the root.
inline const std::filesystem::path live_dracut_conf_path = "etc/dracut.conf.d/99-liveos.conf";

// Drivers a live system needs to find its media and run from it: CD-ROM and disk
// controllers (IDE, SATA, SCSI, USB, virtio), and the filesystems and device-mapper
// targets of the live stack.
inline std::string live_drivers() {
    return "sr_mod sd_mod cdrom ata_piix ahci usb_storage uas xhci_pci ehci_pci virtio_blk virtio_pci virtio_scsi "
           "squashfs loop dm_mod dm_snapshot overlay";
}
inline std::string live_filesystems() { return "vfat msdos isofs ext4 xfs btrfs squashfs overlay"; }

// 99-liveos.conf. `extra` is livecd-creator's --dracut-conf-args: empty or starting with '+'
// keeps the defaults and adds the rest as lines; anything else replaces the defaults.
// The drivers and filesystems are always added: without them the media is never found.
inline std::string live_dracut_conf(const std::string& compression, const std::string& extra = {},
                                    const std::string& drivers = live_drivers(),
                                    const std::string& filesystems = live_filesystems()) {
    std::string conf = "# Live image settings, written for the build and removed before the image is packaged.\n";
    if (extra.empty() || extra.front() == '+') {
        conf += "hostonly=\"no\"\n";
        conf += "add_dracutmodules+=\" dmsquash-live \"\n";
        conf += "mdadmconf=\"no\"\nlvmconf=\"no\"\nearly_microcode=\"no\"\n";
        conf += "compress=\"" + compression + "\"\n";
        if (extra.size() > 1) conf += extra.substr(1) + (extra.back() == '\n' ? "" : "\n");
    } else {
        conf += extra + (extra.back() == '\n' ? "" : "\n");
    }
    conf += "filesystems+=\" " + filesystems + " \"\n";
    conf += "add_drivers+=\" " + drivers + " \"\n";
    return conf;
}

// The kernel's module directory inside the root, merged /usr or not.
inline std::filesystem::path kernel_module_dir(const std::filesystem::path& root, const std::string& version) {
    for (const char* dir : {"usr/lib/modules", "lib/modules"}) {
        auto candidate = root / dir / version;
        if (std::filesystem::is_directory(candidate)) return candidate;
    }
    return {};
}

// The initramfs the image's packages built for `version`, if any (dracut's and older names).
inline std::filesystem::path installed_initramfs(const std::filesystem::path& root, const std::string& version) {
    for (const auto& name : {"boot/initramfs-" + version + ".img", "boot/initrd-" + version + ".img",
                             "boot/initrd.img-" + version}) {
        if (std::filesystem::is_regular_file(root / name)) return root / name;
    }
    auto in_modules = kernel_module_dir(root, version);
    if (!in_modules.empty() && std::filesystem::is_regular_file(in_modules / "initramfs.img")) return in_modules / "initramfs.img";
    return {};
}

namespace detail {

// FNV-1a: a stable, dependency-free fingerprint for cache keys (not for security).
inline std::uint64_t fnv1a(std::uint64_t hash, const std::string& data) {
    for (unsigned char c : data) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    return hash;
}

inline std::string read_whole(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace detail

// Of the modules named in `wanted`, those the kernel at `moddir` has (as a module or built
// in): dracut refuses to build when asked for a module the kernel lacks, and a trimmed
// kernel lacks many.
inline std::string available_modules(const std::filesystem::path& moddir, const std::string& wanted) {
    auto normal = [](std::string name) {
        for (auto& c : name) if (c == '-') c = '_';
        return name;
    };
    std::string known;
    for (const char* index : {"modules.dep", "modules.builtin"}) {
        std::ifstream in(moddir / index);
        std::string line;
        while (std::getline(in, line)) {
            auto path = line.substr(0, line.find(':'));
            auto base = std::filesystem::path(path).filename().string();
            base = base.substr(0, base.find(".ko"));
            known += " " + normal(base) + " ";
        }
    }
    std::istringstream words(wanted);
    std::string word, kept;
    while (words >> word)
        if (known.find(" " + normal(word) + " ") != std::string::npos) kept += (kept.empty() ? "" : " ") + word;
    return kept;
}

struct HostInitramfs {
    std::filesystem::path root;           // the install root with the kernel
    std::string kernel_version;
    std::string dracut_conf_args;         // livecd-creator's --dracut-conf-args
    std::string compression = "xz";
    std::filesystem::path cache_dir;      // empty: no cache
    std::optional<long long> epoch;       // SOURCE_DATE_EPOCH for a reproducible cpio
};

// The host's systemd, plymouth, keymaps and LUKS support do not belong in an initramfs for
// another system's kernel; without systemd the initramfs is also much smaller and starts in a
// fraction of the time under emulation. dmsquash-live runs on dracut's own init.
inline std::string host_dracut_omitted_modules() {
    return "systemd systemd-initrd systemd-udevd systemd-journald systemd-sysctl systemd-modules-load dracut-systemd "
           "plymouth i18n crypt";
}

inline std::vector<std::string> host_dracut_argv(const HostInitramfs& job, const std::filesystem::path& confdir,
                                                 const std::filesystem::path& output) {
    return {"dracut", "--quiet", "--force", "--no-hostonly", "--reproducible", "--no-early-microcode",
            "--conf", "/dev/null", "--confdir", confdir.string(),
            "--kver", job.kernel_version, "--kmoddir", kernel_module_dir(job.root, job.kernel_version).string(),
            "--add", "dmsquash-live", "--omit", host_dracut_omitted_modules(), "--compress", job.compression,
            output.string()};
}

// Builds (or takes from the cache) an initramfs for a kernel in the root with the host's
// dracut, and copies it to `output`.
inline void build_host_initramfs(const HostInitramfs& job, const std::filesystem::path& output) {
    namespace fs = std::filesystem;
    const auto moddir = kernel_module_dir(job.root, job.kernel_version);
    if (moddir.empty())
        throw BootError("the image has kernel " + job.kernel_version + " but no /usr/lib/modules/" + job.kernel_version +
                        ": cannot build an initramfs for it", job.kernel_version);
    require_program("dracut", "dracut-core and dracut-live");

    std::uint64_t key = 14695981039346656037ULL;
    key = detail::fnv1a(key, job.kernel_version);
    key = detail::fnv1a(key, detail::read_whole(moddir / "modules.dep"));
    const auto conf = live_dracut_conf(job.compression, job.dracut_conf_args, available_modules(moddir, live_drivers()),
                                       available_modules(moddir, live_filesystems()));
    HostInitramfs keyed = job;  // the options, not where this build's root happens to be
    keyed.root = "/nonexistent";
    for (const auto& arg : host_dracut_argv(keyed, "", "")) key = detail::fnv1a(key, arg + '\0');
    key = detail::fnv1a(key, conf + job.compression + (job.epoch ? std::to_string(*job.epoch) : ""));
    Command version;  // dracut 059 prints its version and exits 1
    version.argv = {"dracut", "--version"};
    version.check = false;
    key = detail::fnv1a(key, run(version).output);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
    const fs::path cached = job.cache_dir.empty() ? fs::path()
                                                  : job.cache_dir / ("initramfs-" + job.kernel_version + "-" + hex + ".img");
    if (!cached.empty() && fs::is_regular_file(cached)) {
        log::info("initramfs for ", job.kernel_version, ": reusing the host-built ", cached.string());
        fs::copy_file(cached, output, fs::copy_options::overwrite_existing);
        return;
    }

    log::info("the image has kernel ", job.kernel_version, " but no initramfs (no dracut inside): building one with "
              "the host's dracut against the image's modules (about a minute)");
    // dracut records its arguments inside the image: they must not name this build's
    // directory, so it sees the config and the modules under a path made from the key alone.
    // Builds with the same key take turns on it.
    // A build without root cannot write the host's /run: dracut then runs in a mount namespace of
    // its own in which a private directory is bound on /run, so it sees the same path.
    const fs::path seen = fs::path("/run/imgcreate-dracut") / hex;
    const bool userns = mount::in_user_namespace();
    const fs::path private_run = userns ? output.parent_path() / ".imgcreate-dracut-run" : fs::path();
    struct RemovePrivateRun {
        fs::path dir;
        ~RemovePrivateRun() {
            std::error_code ec;
            if (!dir.empty()) fs::remove_all(dir, ec);
        }
    } remove_private_run{private_run};
    const fs::path work = userns ? private_run / "imgcreate-dracut" / hex : seen;
    fs::create_directories(work.parent_path());
    UniqueFd lock(::open((work.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (lock) ::flock(lock.get(), LOCK_EX);
    if (!cached.empty() && fs::is_regular_file(cached)) {
        fs::copy_file(cached, output, fs::copy_options::overwrite_existing);
        return;
    }
    fs::remove_all(work);
    fs::create_directories(work / "conf.d");
    std::ofstream(work / "conf.d" / "99-liveos.conf") << conf;
    fs::create_directories(work / "lib/modules");  // dracut insists on a .../lib/modules/<version> path
    fs::create_directory_symlink(moddir, work / "lib/modules" / job.kernel_version);
    Command cmd;
    cmd.argv = host_dracut_argv(job, seen / "conf.d", seen / "initramfs.img");
    for (std::size_t i = 0; i + 1 < cmd.argv.size(); ++i)
        if (cmd.argv[i] == "--kmoddir") cmd.argv[i + 1] = (seen / "lib/modules" / job.kernel_version).string();
    if (userns) {
        std::vector<std::string> wrapped = {require_program("unshare", "util-linux").string(), "--mount",
                                            "--propagation", "private", "--", "/bin/sh", "-c",
                                            "mount --bind \"$0\" /run && exec \"$@\"", private_run.string()};
        wrapped.insert(wrapped.end(), cmd.argv.begin(), cmd.argv.end());
        cmd.argv = std::move(wrapped);
    }
    cmd.env = clean_environment();
    (*cmd.env)["TMPDIR"] = seen.string();
    // The host's files belong to the host's root, which a user namespace shows as nobody: dracut
    // archives them as root's, as it does for a build as root (its cpio owner, which it sets
    // itself only when not run as root).
    if (userns) (*cmd.env)["cpio_owner"] = "0:0";
    if (job.epoch) (*cmd.env)["SOURCE_DATE_EPOCH"] = std::to_string(*job.epoch);
    run(cmd);
    fs::permissions(work / "initramfs.img", fs::perms(0644));
    if (!cached.empty()) {
        fs::create_directories(job.cache_dir);
        fs::copy_file(work / "initramfs.img", cached.string() + ".partial", fs::copy_options::overwrite_existing);
        fs::rename(cached.string() + ".partial", cached);
    }
    fs::copy_file(work / "initramfs.img", output, fs::copy_options::overwrite_existing);
    fs::remove_all(work);
}

}  // namespace imgcreate::boot
