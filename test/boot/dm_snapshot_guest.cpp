// Runs inside a qemu guest as its init's payload (this kernel has no device-mapper; the
// guest's has): DmSnapshot gives a writable view of an image whose original never changes,
// and leaves no device behind. Prints DMSNAPSHOT-PASS or DMSNAPSHOT-FAIL: <why>.
#include <imgcreate/mount/dm_snapshot.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

std::string read_at(const fs::path& path, std::size_t size) {
    std::string data(size, '\0');
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT);
    if (fd < 0) fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return "(cannot open " + path.string() + ")";
    void* buf = nullptr;
    ::posix_memalign(&buf, 4096, 4096);
    ssize_t n = ::pread(fd, buf, 4096, 0);
    ::close(fd);
    if (n > 0) std::memcpy(data.data(), buf, size);
    std::free(buf);
    return data;
}

bool write_at(const fs::path& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return false;
    std::string block(4096, '\0');
    block.replace(0, text.size(), text);
    bool ok = ::pwrite(fd, block.data(), block.size(), 0) == 4096 && ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

int fail(const std::string& why) {
    std::printf("DMSNAPSHOT-FAIL: %s\n", why.c_str());
    return 1;
}

}  // namespace

int main() {
    const fs::path origin = "/tmp/origin.img", cow = "/tmp/cow.img";
    {
        std::string image(8 << 20, '\0');
        image.replace(0, 8, "ORIGINAL");
        std::ofstream(origin, std::ios::binary) << image;
    }
    try {
        {
            auto snap = imgcreate::mount::DmSnapshot::create("imgcreate-test", origin, cow, 4 << 20);
            if (read_at(snap.path(), 8) != "ORIGINAL") return fail("the snapshot does not show the origin's data");
            if (!write_at(snap.path(), "CHANGED!")) return fail("cannot write through the snapshot");
            if (read_at(snap.path(), 8) != "CHANGED!") return fail("the snapshot does not show what was written");
            if (read_at(origin, 8) != "ORIGINAL") return fail("writing through the snapshot changed the original");
            if (!snap.remove()) return fail("the snapshot could not be removed at once");
        }
        if (fs::exists("/dev/mapper/imgcreate-test")) return fail("/dev/mapper/imgcreate-test is left behind");
        std::ifstream devices("/proc/partitions");
        std::string all((std::istreambuf_iterator<char>(devices)), {});
        if (all.find("dm-0") != std::string::npos) return fail("dm-0 is left behind:\n" + all);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    std::printf("DMSNAPSHOT-PASS\n");
    return 0;
}
