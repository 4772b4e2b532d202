// Runs inside a qemu guest booted with SELinux on (this machine's kernel has none): the API
// filesystems of an install root bind the host's selinuxfs in with `load` covered by
// /dev/null, so a policy package's scriptlet cannot load a policy into the host kernel, and
// everything is gone after unmount. Prints SELINUXFS-PASS or SELINUXFS-FAIL: <why>.
#include <imgcreate/mount/api_filesystems.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

int fail(const std::string& why) {
    std::printf("SELINUXFS-FAIL: %s\n", why.c_str());
    return 1;
}

std::size_t mounts_below(const fs::path& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, point;
        fields >> id >> parent >> dev >> root >> point;
        if (point.rfind(dir.string() + "/", 0) == 0) ++n;
    }
    return n;
}

}  // namespace

int main() {
    struct stat host_load {};
    if (::stat("/sys/fs/selinux/load", &host_load) != 0 || !S_ISREG(host_load.st_mode))
        return fail("the guest has no selinuxfs at /sys/fs/selinux (boot with security=selinux selinux=1)");
    try {
        imgcreate::BuildContext ctx;
        ctx.build_dir = "/tmp/build";
        ctx.install_root = "/tmp/build/root";
        ctx.options.cache_dir = "/tmp/build/cache";
        fs::create_directories(ctx.install_root);
        imgcreate::mount::ApiFilesystems api;
        api.mount(ctx);
        const fs::path in_root = ctx.install_root / "sys/fs/selinux";
        struct stat st {};
        if (::stat((in_root / "load").c_str(), &st) != 0) return fail("the root has no sys/fs/selinux/load");
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
            return fail("the root's sys/fs/selinux/load is not /dev/null");
        // a policy written there goes nowhere (the real load would refuse this as a bad policy)
        const int fd = ::open((in_root / "load").c_str(), O_WRONLY);
        if (fd < 0 || ::write(fd, "not a policy", 12) != 12) return fail("writing the root's load failed");
        ::close(fd);
        // the rest of selinuxfs is the host's: enforce reads as the host's does
        std::string a, b;
        {
            std::ifstream host_enforce("/sys/fs/selinux/enforce"), root_enforce(in_root / "enforce");
            host_enforce >> a;
            root_enforce >> b;
        }
        if (a.empty() || a != b) return fail("the root's selinuxfs is not the host's (enforce '" + b + "' vs '" + a + "')");
        api.unmount(ctx);
        if (const auto left = mounts_below(ctx.install_root); left != 0)
            return fail(std::to_string(left) + " mounts left below the root after unmount");
        if (::stat("/sys/fs/selinux/load", &st) != 0 || !S_ISREG(st.st_mode))
            return fail("the host's selinuxfs load changed");
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    std::printf("SELINUXFS-PASS\n");
    return 0;
}
