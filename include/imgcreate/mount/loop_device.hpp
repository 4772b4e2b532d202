// imgcreate — a loop device bound to an image file, the way systemd does it rather than
// through losetup: a free number from /dev/loop-control, then one LOOP_CONFIGURE ioctl that
// binds the file and sets LO_FLAGS_AUTOCLEAR at once. With autoclear the kernel releases the
// device when its last user goes — the mount on it, or this handle's descriptor — so no exit
// path of the process, SIGKILL included, can leave the device bound.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace imgcreate::mount {

namespace detail {

constexpr unsigned loop_major = 7;

// Opens /dev/loopN, making the node first: only loop0-7 exist at boot, and without udev
// (containers, build hosts) nothing creates the ones LOOP_CTL_GET_FREE hands out later.
inline UniqueFd open_loop_node(int number, bool read_only) {
    const std::string node = "/dev/loop" + std::to_string(number);
    struct stat st {};
    if (::stat(node.c_str(), &st) != 0) {
        if (errno != ENOENT) throw MountError(errno_message("cannot inspect the loop device", node, errno), node);
        if (::mknod(node.c_str(), S_IFBLK | 0660, makedev(loop_major, static_cast<unsigned>(number))) != 0 &&
            errno != EEXIST)
            throw MountError(errno_message("cannot create the loop device node", node, errno) +
                                 " (is /dev writable and is this process root?)",
                             node);
    }
    UniqueFd fd(::open(node.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!fd) throw MountError(errno_message("cannot open the loop device", node, errno), node);
    return fd;
}

}  // namespace detail

class LoopDevice {
public:
    // Binds `file` to a free loop device. The device stays bound while this handle or a
    // mount of it exists, and is released automatically after both are gone.
    static LoopDevice attach(const std::filesystem::path& file, bool read_only = false) {
        UniqueFd backing(::open(file.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
        if (!backing) throw MountError(errno_message("cannot open the image file", file, errno), file.string());
        UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
        if (!control)
            throw MountError(errno_message("cannot open the loop device control", "/dev/loop-control", errno) +
                                 " (load the 'loop' kernel module and run as root)",
                             "/dev/loop-control");

        loop_config config{};
        config.fd = static_cast<__u32>(backing.get());
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
        std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), file.c_str(), LO_NAME_SIZE - 1);

        // Another process may take the device between GET_FREE and CONFIGURE (EBUSY): ask
        // again. The bound is generous; each round costs two ioctls.
        for (int attempt = 0; attempt < 64; ++attempt) {
            int number = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
            if (number < 0)
                throw MountError(errno_message("no free loop device", "/dev/loop-control", errno), "/dev/loop-control");
            UniqueFd device = detail::open_loop_node(number, read_only);
            if (::ioctl(device.get(), LOOP_CONFIGURE, &config) == 0) {
                log::debug("bound ", file.string(), " to /dev/loop", number);
                return LoopDevice(std::move(device), number);
            }
            if (errno != EBUSY)
                throw MountError(errno_message("cannot bind " + file.string() + " to the loop device",
                                               "/dev/loop" + std::to_string(number), errno),
                                 file.string());
        }
        throw MountError("cannot bind " + file.string() + " to a loop device: every free device was taken by another "
                         "process first; try again", file.string());
    }

    LoopDevice(LoopDevice&&) noexcept = default;
    LoopDevice& operator=(LoopDevice&&) noexcept = default;
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    // Closing the last descriptor of an unmounted autoclear device releases it.
    ~LoopDevice() = default;

    std::filesystem::path path() const { return "/dev/loop" + std::to_string(number_); }
    int number() const noexcept { return number_; }
    int fd() const noexcept { return fd_.get(); }

    // Drops this handle's hold: from now on a mount of the device alone keeps it bound.
    void close() noexcept { fd_.reset(); }

private:
    LoopDevice(UniqueFd fd, int number) : fd_(std::move(fd)), number_(number) {}
    UniqueFd fd_;
    int number_ = -1;
};

// What `losetup -a` shows, read from sysfs: each bound loop device and its backing file.
struct LoopBinding {
    std::filesystem::path device;
    std::filesystem::path backing_file;
};

inline std::vector<LoopBinding> bound_loop_devices() {
    std::vector<LoopBinding> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/block", ec)) {
        const auto name = entry.path().filename().string();
        if (name.rfind("loop", 0) != 0) continue;
        std::ifstream in(entry.path() / "loop/backing_file");
        std::string backing;
        if (in && std::getline(in, backing) && !backing.empty()) out.push_back({"/dev/" + name, backing});
    }
    return out;
}

}  // namespace imgcreate::mount
