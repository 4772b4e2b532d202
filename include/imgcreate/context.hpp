// imgcreate — what every step and policy of a build shares: the kickstart, the options the
// user chose, the build directory and install root, the undo stack and the phase timings.
#pragma once

#include <imgcreate/support/cleanup.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate {

namespace kickstart {
struct Kickstart;
}

// The options livecd-creator and image-creator users set on the command line.
struct CreatorOptions {
    std::string name;                       // output base name; from the kickstart's file name by default
    std::string fslabel;                    // filesystem / ISO volume label (<= 32 characters); empty: the name's first 32
    std::string title;                      // boot menu title
    std::string product;                    // product name in the boot menu
    std::string releasever;                 // $releasever for repositories
    std::filesystem::path tmpdir = "/var/tmp";  // where the build dir is made
    std::filesystem::path outdir = ".";     // where the deliverable is moved at the end
    std::filesystem::path cache_dir;        // package + metadata cache; empty: inside the build dir
    std::filesystem::path base_on;          // an existing image to build on
    std::vector<std::filesystem::path> repo_files;  // extra .repo files or dirs (--repo)
    std::string pkgverify_level = "all";    // all | signature | digest | none
    std::string compression = "xz";         // squashfs compressor
    bool cacheonly = false;                 // never touch the network
    bool nocleanup = false;                 // keep the build dir (mounts are still undone)
    bool skip_minimize = false;
    bool tree_on_disk = false;              // MkfsMount: install into the build dir on disk, never into memory
    bool skip_compression = false;
    std::filesystem::path lockfile;         // install exactly this resolved set
    std::filesystem::path lockfile_out;     // write the resolved set here
    std::chrono::milliseconds script_timeout{0};  // stop a %pre/%pre-install/%post running longer; 0: no limit

    // Live ISOs (LiveImage).
    bool flat_squashfs = false;             // squash the tree itself; the live system runs on overlayfs
    bool syslinux = false;                  // isolinux for BIOS booting instead of GRUB2
    bool nomacboot = false;                 // accepted as livecd-creator does; no HFS image is made either way
    std::string dracut_conf_args;           // "+lines" adds to the live dracut config, other text replaces it
    std::optional<long long> source_date_epoch;  // reproducible output: every time stamp clamped to this

    // Disk images (DiskImage, appliance-creator).
    std::string disk_format = "raw";        // raw, qcow2, vmdk or vdi
    bool disk_compress = true;              // qcow2: compressed clusters (--no-compress: none)
    bool disk_checksum = false;             // a <image>.sha256 beside each disk image
    unsigned vmem_mib = 512;                // the libvirt domain's memory
    unsigned vcpu = 1;                      // the libvirt domain's processors
    std::string appliance_version, appliance_release;  // recorded in the libvirt domain's description
    std::map<std::string, std::uint64_t> disk_size_mib;  // a disk's size (--disk-size); absent: what it needs
    bool disk_name_directory = false;       // deliver into outdir/<name>/, as appliance-creator does
    std::string disk_package = "none";      // or an archive in outdir: zip, zip.64, tar, tar.gz, tar.bz2 (-p)
    std::filesystem::path disk_include;     // a file, or a directory's entries, delivered with the disks (-i)
};

// Wall-clock seconds of each step, in the order they ran.
struct PhaseTimings {
    std::vector<std::pair<std::string, double>> phases;

    template <typename F> decltype(auto) time(const std::string& phase, F&& work) {
        auto start = std::chrono::steady_clock::now();
        struct Record {
            PhaseTimings& self;
            std::string phase;
            std::chrono::steady_clock::time_point start;
            ~Record() {
                self.phases.emplace_back(phase, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            }
        } record{*this, phase, start};
        return std::forward<F>(work)();
    }
    double total() const {
        double t = 0;
        for (const auto& p : phases) t += p.second;
        return t;
    }
};

// package name -> installed versions (e.g. {"kernel", {"6.1.0-13-amd64"}}), as livecd-tools reports it.
using KernelVersions = std::map<std::string, std::vector<std::string>>;

struct BuildContext {
    std::shared_ptr<const kickstart::Kickstart> kickstart;  // may be null for programmatic builds
    CreatorOptions options;
    std::filesystem::path build_dir;     // <tmpdir>/imgcreate-XXXXXX, made by the creator in mount()
    std::filesystem::path install_root;  // set by the MountPolicy in mount()
    std::filesystem::path output;        // the deliverable, set by the StagePolicy in package()
    CleanupStack cleanup;                // undo actions of every step, run newest first
    // Directories the build made in the root only to mount on (proc, sys, dev, var/cache/dnf and
    // their parents), relative, in the order made. The install policy drops those a package
    // owns; a TreeStage output leaves out the rest when they are empty.
    std::vector<std::filesystem::path> scaffolding;
    // Set by a mount policy that wrote root.img reproducibly itself (MkfsMount under
    // SOURCE_DATE_EPOCH): a stage need not write it again.
    bool root_image_reproducible = false;
    // Set while /proc waits for its package (a build in a user namespace, where rpm could not give a
    // mounted proc the owner its package names: the namespace does not map the host's root). The
    // install policy calls it once the package owning /proc is unpacked, or before installing
    // when none does; it mounts /proc and clears itself.
    std::function<void()> mount_proc;
    // Set by a boot policy that keeps initramfs images between builds (boot/initramfs_cache.hpp).
    // An install policy calls it just before its rpm transaction with what identifies the
    // transaction (every package's checksum, the rpm settings); it answers with a directory for the
    // front of the scriptlets' PATH and what to call once the transaction has succeeded.
    struct TransactionHook {
        std::string script_path_first;
        std::function<void()> succeeded;
    };
    std::function<TransactionHook(const std::string& identity)> before_transaction;
    // Packages a policy needs in the image beyond what %packages asks for, each with why (said
    // when no repository has it), set before install(): DiskMount adds lvm2 for a layout with
    // LVM, as anaconda does, since the image activates its volume group with it when it boots.
    struct AddedPackage {
        std::string name;
        std::string why;
    };
    std::vector<AddedPackage> added_packages;
    PhaseTimings timings;

    // The package cache: options.cache_dir, or <build_dir>/cache.
    std::filesystem::path cache_dir() const {
        return options.cache_dir.empty() ? build_dir / "cache" : options.cache_dir;
    }
};

}  // namespace imgcreate
