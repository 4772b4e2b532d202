// Boot tests: a live ISO started in qemu (TCG: no KVM here), its serial console captured,
// and the demo init's marker looked for. At most two guests run at once on this machine,
// whoever starts them: each guest holds one of two lock files while it runs.
#pragma once

#include <imgcreate/support/process.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>

namespace imgcreate::test {

enum class Firmware { bios, uefi };
enum class Medium { cdrom, disk };

struct Guest {
    std::filesystem::path iso;
    Firmware firmware = Firmware::bios;
    Medium medium = Medium::cdrom;
    std::string disk_format = "raw";  // a Medium::disk image's format (qcow2 for a converted disk image)
    std::vector<std::filesystem::path> more_disks;  // Medium::disk: the guest's sdb, sdc, ... (disk_format too)
    std::filesystem::path serial_log;
    std::chrono::seconds timeout{600};  // TCG on a busy 2-core machine is slow
};

struct GuestResult {
    std::string console;  // the serial log, \r and ANSI escapes removed
    bool timed_out = false;
};

inline std::string strip_terminal_codes(const std::string& raw) {
    static const std::regex escapes("\x1b\\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>c]|\r");
    return std::regex_replace(raw, escapes, "");
}

// Holds one of the two guest slots until destroyed.
class GuestSlot {
public:
    GuestSlot() {
        for (;;) {
            for (int i = 0; i < 2; ++i) {
                auto path = "/tmp/imgcreate-qemu-slot-" + std::to_string(i) + ".lock";
                UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
                if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
                    fd_ = std::move(fd);
                    return;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }

private:
    UniqueFd fd_;
};

inline std::vector<std::string> qemu_argv(const Guest& guest) {
    std::vector<std::string> argv = {"qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-nographic", "-no-reboot",
                                     "-monitor", "none", "-serial", "file:" + guest.serial_log.string()};
    if (guest.firmware == Firmware::uefi) argv.insert(argv.end(), {"-bios", "/usr/share/ovmf/OVMF.fd"});
    if (guest.medium == Medium::cdrom)
        argv.insert(argv.end(), {"-cdrom", guest.iso.string(), "-boot", "d"});
    else  // the ISO file as a hard disk, as `dd` to a USB stick makes it; writes are thrown away
        argv.insert(argv.end(), {"-drive", "file=" + guest.iso.string() + ",format=" + guest.disk_format + ",media=disk,snapshot=on",
                                 "-boot", "c"});
    for (const auto& disk : guest.more_disks)
        argv.insert(argv.end(), {"-drive", "file=" + disk.string() + ",format=" + guest.disk_format + ",media=disk,snapshot=on"});
    return argv;
}

inline GuestResult boot(const Guest& guest) {
    GuestSlot slot;
    std::filesystem::remove(guest.serial_log);
    Command cmd;
    cmd.argv = qemu_argv(guest);
    cmd.timeout = guest.timeout;
    cmd.check = false;
    cmd.log_output = false;
    GuestResult result;
    try {
        result.timed_out = run(cmd).timed_out;
    } catch (const CommandError& e) {  // a timeout is reported as an error by run()
        result.timed_out = e.what() && std::string(e.what()).find("did not finish") != std::string::npos;
        if (!result.timed_out) throw;
    }
    std::ifstream in(guest.serial_log, std::ios::binary);
    std::ostringstream raw;
    raw << in.rdbuf();
    result.console = strip_terminal_codes(raw.str());
    return result;
}

// The line the demo init prints: "IMGCREATE-DEMO-BOOTED root=<device> <fstype>".
inline std::string booted_line(const std::string& console) {
    std::istringstream lines(console);
    for (std::string line; std::getline(lines, line);) {
        auto at = line.find("IMGCREATE-DEMO-BOOTED root=");
        if (at != std::string::npos) return line.substr(at);
    }
    return {};
}

// A guest that is only the demo kernel and a small initramfs: busybox, the kernel's modules,
// the given programs (with the shared libraries they need) and an init script. For the
// tests of pieces this machine's kernel lacks (device-mapper, SELinux).
struct KernelGuest {
    std::filesystem::path work;     // everything goes here
    std::filesystem::path root;     // the initramfs tree, filled by prepare()
    std::filesystem::path vmlinuz;

    // Unpacks the demo repository's kernel package into work/root. False if the demo
    // repository is not built.
    bool prepare(const std::filesystem::path& demo_repo) {
        namespace fs = std::filesystem;
        fs::path kernel_rpm;
        if (!fs::is_directory(demo_repo)) return false;
        for (const auto& e : fs::directory_iterator(demo_repo))
            if (e.path().filename().string().rfind("kernel-", 0) == 0) kernel_rpm = e.path();
        if (kernel_rpm.empty()) return false;
        fs::remove_all(work);
        root = work / "root";
        fs::create_directories(root);
        run({"sh", "-c", "cd '" + root.string() + "' && rpm2cpio '" + kernel_rpm.string() + "' | cpio -idm --quiet"});
        for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "lib/modules"}) fs::create_directories(root / d);
        for (const auto& e : fs::directory_iterator(root / "usr/lib/modules"))
            fs::rename(e.path(), root / "lib/modules" / e.path().filename());
        for (const auto& e : fs::directory_iterator(root / "boot")) vmlinuz = work / "vmlinuz", fs::rename(e.path(), vmlinuz);
        fs::copy_file("/bin/busybox", root / "bin/busybox");
        fs::create_symlink("busybox", root / "bin/sh");
        return true;
    }

    // Puts `program` at /<its file name> in the guest, with the libraries ldd names.
    void add_program(const std::filesystem::path& program) {
        namespace fs = std::filesystem;
        fs::copy_file(program, root / program.filename(), fs::copy_options::overwrite_existing);
        Command ldd;
        ldd.argv = {"ldd", program.string()};
        ldd.check = false;  // "not a dynamic executable" for a static one
        std::istringstream lines(run(ldd).output);
        static const std::regex lib(R"((/[^ ]+) \(0x)");
        for (std::string line; std::getline(lines, line);) {
            std::smatch m;
            if (!std::regex_search(line, m, lib)) continue;
            const fs::path from = m[1].str();
            const fs::path to = root / from.relative_path();
            fs::create_directories(to.parent_path());
            if (!fs::exists(to)) fs::copy_file(fs::canonical(from), to);
        }
    }

    // Writes /init, packs the initramfs, boots it with `append` added to the kernel command
    // line and returns the serial console.
    std::string boot(const std::string& init, const std::string& append = "") {
        namespace fs = std::filesystem;
        std::ofstream(root / "init") << init;
        fs::permissions(root / "init", fs::perms(0755));
        run({"sh", "-c", "cd '" + root.string() + "' && find . | cpio -o -H newc --quiet | gzip -1 > ../initrd.img"});
        GuestSlot slot;
        Command qemu;
        qemu.argv = {"qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot", "-monitor", "none",
                     "-serial", "file:" + (work / "serial.log").string(), "-kernel", vmlinuz.string(),
                     "-initrd", (work / "initrd.img").string(), "-append", "console=ttyS0 panic=-1 quiet " + append};
        qemu.timeout = std::chrono::seconds(400);
        qemu.check = false;
        qemu.log_output = false;
        run(qemu);
        std::ifstream in(work / "serial.log", std::ios::binary);
        return strip_terminal_codes(std::string((std::istreambuf_iterator<char>(in)), {}));
    }
};

}  // namespace imgcreate::test
