// A small program for the download-progress tests: resolves the named packages from one
// repository at BASEURL and downloads them, with metadata and packages cached under CACHE.
//   install_download_driver BASEURL CACHE PACKAGE...
#include <imgcreate/install/download.hpp>
#include <imgcreate/install/resolver.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    using namespace imgcreate::install;
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s BASEURL CACHE PACKAGE...\n", argv[0]);
        return 2;
    }
    try {
        RepoConfig repo;
        repo.id = repo.name = "web";
        repo.baseurls = {argv[1]};
        PackageRequest request;
        request.nocore = true;
        for (int i = 3; i < argc; ++i) {
            PackageEntry e;
            e.name = argv[i];
            request.entries.push_back(e);
        }
        ResolveOptions options;
        options.arch = "x86_64";
        options.metadata.cache_dir = argv[2];
        const std::vector<RepoConfig> repos{repo};
        auto result = resolve(repos, request, options);
        DownloadOptions download;
        download.package_dir = std::filesystem::path(argv[2]) / "packages";
        download_packages(result.packages, repos, download);
        std::printf("%zu packages ready\n", result.packages.size());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
