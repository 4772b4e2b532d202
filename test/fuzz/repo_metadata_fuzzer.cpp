// libFuzzer target: any bytes given to the repository loader end in a loaded pool or an
// imgcreate::Error — never a crash, a hang, a leak or another exception.
//
// The first byte picks what the rest becomes, in a local repository on tmpfs:
//   even: repodata/repomd.xml itself (librepo's parser, then our reading of its records);
//   odd:  primary.xml and comps.xml (split at the first "\n@@\n"), listed in a generated
//         repomd.xml with their real checksums so they reach libsolv's rpmmd and comps
//         readers through PackagePool::load, then the comps groups are read back.
#include <imgcreate/install/comps.hpp>
#include <imgcreate/install/package_pool.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace imgcreate;
using namespace imgcreate::install;

const fs::path& repo_dir() {
    static const fs::path dir = [] {
        // The runner names a folder on tmpfs and removes it; alone, a folder of our own.
        const char* env = std::getenv("IMGCREATE_FUZZ_REPO");
        fs::path d = env ? fs::path(env) : fs::temp_directory_path() / ("imgcreate-repo-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(d / "repodata");
        std::atexit([] { std::error_code ec; fs::remove_all(repo_dir(), ec); });
        return d;
    }();
    return dir;
}

void write(const fs::path& path, std::string_view bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string record(const char* type, const std::string& href, const fs::path& file) {
    const std::string sum = install::detail::file_checksum("fuzz", file, LR_CHECKSUM_SHA256);
    return std::string("<data type=\"") + type + "\"><checksum type=\"sha256\">" + sum +
           "</checksum><location href=\"" + href + "\"/><size>" + std::to_string(fs::file_size(file)) + "</size></data>\n";
}

void load() {
    RepoConfig config;
    config.id = "fuzz";
    config.baseurls = {"file://" + repo_dir().string()};
    PackagePool pool("x86_64");
    pool.load({config}, MetadataOptions{});  // no cache dir: every load reads the XML
    Comps comps(pool);
    (void)comps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const fs::path dir = repo_dir();
    std::error_code ec;
    fs::remove(dir / "repodata/primary.xml", ec);
    fs::remove(dir / "repodata/comps.xml", ec);
    if (data[0] % 2 == 0) {
        write(dir / "repodata/repomd.xml", bytes);
    } else {
        const auto split = bytes.find("\n@@\n");
        write(dir / "repodata/primary.xml", bytes.substr(0, split));
        std::string repomd = "<?xml version=\"1.0\"?>\n<repomd xmlns=\"http://linux.duke.edu/metadata/repo\">\n";
        repomd += record("primary", "repodata/primary.xml", dir / "repodata/primary.xml");
        if (split != std::string_view::npos) {
            write(dir / "repodata/comps.xml", bytes.substr(split + 4));
            repomd += record("group", "repodata/comps.xml", dir / "repodata/comps.xml");
        }
        write(dir / "repodata/repomd.xml", repomd + "</repomd>\n");
    }
    try {
        load();
    } catch (const imgcreate::Error&) {
    }
    return 0;
}
