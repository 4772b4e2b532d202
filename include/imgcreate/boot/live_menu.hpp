// imgcreate — what a live ISO's boot menus show, as plain data: the boot loader writers
// (grub.hpp, isolinux.hpp) turn it into configuration text and nothing else, so the text
// can be checked line by line in tests.
#pragma once

#include <string>
#include <vector>

namespace imgcreate::boot {

// One kernel on the ISO: images/pxeboot/vmlinuz<index> and initrd<index>.img.
struct LiveKernel {
    std::string package;   // the rpm that installed it ("kernel", "kernel-debug")
    std::string version;   // "6.1.0-56-amd64"
    bool is_default = false;
};

struct LiveMenu {
    std::string title = "Linux";             // menu heading
    std::string product = "Linux";           // what the entries start: "Start <product>"
    std::string label;                       // ISO volume id; the boot loader finds the media by it
    std::string kernel_args;                 // root=live:CDLABEL=... rd.live.image and the user's
    std::vector<LiveKernel> kernels;         // in ISO index order; the default one first
    long long timeout_seconds = 10;          // until the default entry boots
    bool check_media = false;                // checkisomd5 is in the image: offer rd.live.check
    bool memtest = false;                    // a memtest86+ binary is at isolinux/memtest
    std::string images_dir = "images/pxeboot";
};

// The kernel command line of a live boot: how dmsquash-live finds the media, then what the
// kickstart's `bootloader --append` asks for. A flat squashfs has no ext4 image inside to
// put a device-mapper snapshot on, so the live system runs on overlayfs.
inline std::string live_kernel_args(const std::string& label, bool flat_squashfs, const std::string& append) {
    std::string args = "root=live:CDLABEL=" + label + " rd.live.image";
    if (flat_squashfs && append.find("rd.live.overlay.overlayfs") == std::string::npos)
        args += " rd.live.overlay.overlayfs";
    if (!append.empty()) args += " " + append;
    return args;
}

// How a menu entry names a kernel: the default one is just the product, others add their
// package (livecd-tools' convention, so users of its media recognise the entries).
inline std::string kernel_entry_name(const LiveMenu& menu, const LiveKernel& kernel) {
    if (kernel.is_default) return menu.product;
    std::string flavour = kernel.package.rfind("kernel-", 0) == 0 ? kernel.package.substr(7) : kernel.package;
    return menu.product + " (" + flavour + (flavour.empty() ? "" : " ") + kernel.version + ")";
}

}  // namespace imgcreate::boot
