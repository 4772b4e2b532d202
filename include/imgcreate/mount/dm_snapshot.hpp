// imgcreate — DmSnapshot: a device-mapper snapshot of a read-only origin (a live image's
// rootfs.img on a loop device) with writes going to a separate copy-on-write file, as
// dmsquash-live runs a live system and as livecd-tools' editliveos/liveimage-mount open a
// live image for changes without touching the original. Made with the device-mapper ioctls
// (no libdevmapper, no dmsetup); removed on destruction, deferred if the device is still
// open, so nothing is left behind.
#pragma once

#include <imgcreate/mount/loop_device.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace imgcreate::mount {

namespace detail {

// One DM ioctl buffer: the header, then (for a table load) one target spec and its
// parameters.
class DmRequest {
public:
    explicit DmRequest(const std::string& name, std::size_t extra = 0) : buffer_(sizeof(dm_ioctl) + extra + 4096) {
        auto* io = header();
        io->version[0] = DM_VERSION_MAJOR;
        io->version[1] = 0;
        io->version[2] = 0;
        io->data_size = static_cast<__u32>(buffer_.size());
        io->data_start = sizeof(dm_ioctl);
        std::strncpy(io->name, name.c_str(), DM_NAME_LEN - 1);
    }
    dm_ioctl* header() { return reinterpret_cast<dm_ioctl*>(buffer_.data()); }

    void add_target(std::uint64_t sectors, const std::string& type, const std::string& params) {
        auto* spec = reinterpret_cast<dm_target_spec*>(buffer_.data() + sizeof(dm_ioctl));
        spec->sector_start = 0;
        spec->length = sectors;
        std::strncpy(spec->target_type, type.c_str(), DM_MAX_TYPE_NAME - 1);
        char* text = reinterpret_cast<char*>(spec + 1);
        std::strcpy(text, params.c_str());
        spec->next = 0;
        header()->target_count = 1;
    }

private:
    std::vector<char> buffer_;
};

inline UniqueFd open_dm_control() {
    UniqueFd fd(::open("/dev/mapper/control", O_RDWR | O_CLOEXEC));
    if (!fd)
        throw MountError(errno_message("cannot open the device-mapper control", "/dev/mapper/control", errno) +
                             " (this kernel has no device-mapper: load dm_mod, or run inside a machine that has it)",
                         "/dev/mapper/control");
    return fd;
}

inline void dm_ioctl_call(int control, unsigned long request, DmRequest& req, const std::string& what) {
    if (::ioctl(control, request, req.header()) != 0)
        throw MountError(errno_message("device-mapper: cannot " + what, req.header()->name, errno), req.header()->name);
}

inline std::uint64_t device_sectors(int fd) {
    std::uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0) return 0;
    return bytes / 512;
}

inline std::string major_minor(const std::filesystem::path& device) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0) throw MountError(errno_message("cannot stat", device, errno), device.string());
    return std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
}

}  // namespace detail

class DmSnapshot {
public:
    // A snapshot named `name` of `origin_image` (attached read-only: the original never
    // changes) whose writes go to `cow_file` (created sparse, `cow_bytes` long, if missing).
    static DmSnapshot create(const std::string& name, const std::filesystem::path& origin_image,
                             const std::filesystem::path& cow_file, std::uint64_t cow_bytes = 512ull << 20) {
        if (!std::filesystem::exists(cow_file)) {
            UniqueFd fd(::open(cow_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
            if (!fd || ::ftruncate(fd.get(), static_cast<off_t>(cow_bytes)) != 0)
                throw MountError(errno_message("cannot create the copy-on-write file", cow_file, errno), cow_file.string());
        }
        DmSnapshot snap;
        snap.origin_.emplace(LoopDevice::attach(origin_image, true));
        snap.cow_.emplace(LoopDevice::attach(cow_file, false));
        const auto sectors = detail::device_sectors(snap.origin_->fd());
        auto control = detail::open_dm_control();

        detail::DmRequest create(name);
        detail::dm_ioctl_call(control.get(), DM_DEV_CREATE, create, "create " + name);
        snap.name_ = name;

        // "snapshot <origin> <cow> P 8": persistent exceptions, 4 KiB chunks.
        detail::DmRequest load(name, sizeof(dm_target_spec) + 128);
        load.add_target(sectors, "snapshot",
                        detail::major_minor(snap.origin_->path()) + " " + detail::major_minor(snap.cow_->path()) + " P 8");
        detail::dm_ioctl_call(control.get(), DM_TABLE_LOAD, load, "load the snapshot table of " + name);

        detail::DmRequest resume(name);
        detail::dm_ioctl_call(control.get(), DM_DEV_SUSPEND, resume, "activate " + name);  // no SUSPEND flag: resume
        snap.path_ = "/dev/mapper/" + name;
        if (!std::filesystem::exists(snap.path_)) {  // no udev: make the node ourselves
            const auto dev = resume.header()->dev;
            ::mknod(snap.path_.c_str(), S_IFBLK | 0600, static_cast<dev_t>(dev));
            snap.made_node_ = true;
        }
        log::debug("device-mapper snapshot ", snap.path_.string(), " of ", origin_image.string());
        return snap;
    }

    DmSnapshot(DmSnapshot&& other) noexcept { *this = std::move(other); }
    DmSnapshot& operator=(DmSnapshot&& other) noexcept {
        if (this != &other) {
            remove_quietly();
            name_ = std::exchange(other.name_, {});
            path_ = std::exchange(other.path_, {});
            made_node_ = std::exchange(other.made_node_, false);
            origin_ = std::move(other.origin_);
            cow_ = std::move(other.cow_);
        }
        return *this;
    }
    DmSnapshot(const DmSnapshot&) = delete;
    DmSnapshot& operator=(const DmSnapshot&) = delete;
    ~DmSnapshot() { remove_quietly(); }

    const std::filesystem::path& path() const noexcept { return path_; }
    const std::string& name() const noexcept { return name_; }

    // Removes the device now; if something still has it open, the kernel removes it when
    // the last user closes it (deferred remove), and this returns false.
    bool remove() {
        if (name_.empty()) return true;
        auto control = detail::open_dm_control();
        detail::DmRequest req(name_);
        bool now = true;
        if (::ioctl(control.get(), DM_DEV_REMOVE, req.header()) != 0) {
            if (errno != EBUSY) throw MountError(errno_message("device-mapper: cannot remove", name_, errno), name_);
            detail::DmRequest deferred(name_);
            deferred.header()->flags |= DM_DEFERRED_REMOVE;
            detail::dm_ioctl_call(control.get(), DM_DEV_REMOVE, deferred, "schedule the removal of " + name_);
            now = false;
        }
        if (made_node_) ::unlink(path_.c_str());
        name_.clear();
        origin_.reset();
        cow_.reset();
        return now;
    }

private:
    DmSnapshot() = default;
    void remove_quietly() noexcept {
        try {
            remove();
        } catch (const std::exception& e) {
            log::error(e.what());
        }
    }

    std::string name_;
    std::filesystem::path path_;
    bool made_node_ = false;
    std::optional<LoopDevice> origin_;  // held open: autoclear releases them after the snapshot goes
    std::optional<LoopDevice> cow_;
};

}  // namespace imgcreate::mount
