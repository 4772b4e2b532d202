// imgcreate — a repository's metadata on this host: read in place for local repositories,
// fetched with librepo into a cache folder (one per repository id and URL set) for remote
// ones. A refresh lands in a temporary folder and replaces the cached copy only when it is
// complete and verified, so the cache never holds half a download.
#pragma once

#include <imgcreate/install/digest.hpp>
#include <imgcreate/install/librepo.hpp>
#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <chrono>
#include <fstream>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace imgcreate::install {

struct MetadataOptions {
    std::filesystem::path cache_dir;      // metadata and .solv caches; required for remote repos
    bool cache_only = false;              // livecd-creator --cacheonly: never touch the network
    std::chrono::seconds metadata_expire{48 * 3600};  // cached remote metadata younger than this is used as is
    lr::HandleOptions network;
};

struct MetadataFile {
    std::filesystem::path path;
    std::string checksum_type;
    std::string checksum;
    std::string href;                     // location in the repository, for a lazy download
    bool present() const { return !href.empty(); }
};

struct RepoMetadata {
    std::string repo_id;
    bool local = false;
    std::filesystem::path root;           // folder holding repodata/
    std::filesystem::path repomd;
    std::string cookie;                   // sha256 of repomd.xml: keys the .solv caches
    MetadataFile primary, filelists, comps;
    std::vector<std::string> base_urls;   // where package hrefs resolve (first preferred)
    std::filesystem::path cache;          // this repository's cache folder (.solv files)
};

namespace detail {

// file:///x and plain paths are local; anything with another scheme is remote.
inline std::optional<std::filesystem::path> local_path_of(const std::string& url) {
    if (url.rfind("file://", 0) == 0) return std::filesystem::path(url.substr(7));
    if (url.find("://") == std::string::npos && !url.empty()) return std::filesystem::absolute(url);
    return std::nullopt;
}

inline std::string hex_hash(const std::string& s) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016zx", std::hash<std::string>{}(s));
    return buf;
}

inline std::string cache_key(const RepoConfig& repo) {
    std::string all;
    for (const auto& u : repo.baseurls) all += u + '\n';
    all += repo.mirrorlist + '\n' + repo.metalink;
    std::string id;
    for (char c : repo.id) id += (c == '/' ? '_' : c);
    return id + "-" + hex_hash(all);
}

inline std::string file_checksum(const std::string& repo, const std::filesystem::path& path, LrChecksumType type) {
    const char* name = lr_checksum_type_to_str(type);
    try {
        return file_digest(path, name ? name : "unknown");
    } catch (const Error& e) {
        throw RepoError(repo, e.what());
    }
}

// The encoding an XML declaration names when expat cannot read it, else empty. librepo
// 1.14 crashes on a document in an encoding expat does not know (found by the fuzzer).
inline std::string declared_encoding(int fd) {
    char buf[256];
    const auto n = ::pread(fd, buf, sizeof buf, 0);
    const std::string head(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (head.rfind("<?xml", 0) != 0) return {};
    const auto end = head.find("?>");
    const auto at = head.find("encoding=");
    if (at == std::string::npos || (end != std::string::npos && at > end) || at + 10 > head.size()) return {};
    const char quote = head[at + 9];
    const auto close = head.find(quote, at + 10);
    if ((quote != '"' && quote != '\'') || close == std::string::npos) return {};
    std::string name = head.substr(at + 10, close - at - 10);
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* known : {"utf-8", "us-ascii", "iso-8859-1", "utf-16", "utf-16le", "utf-16be"})
        if (lower == known) return {};
    return name.empty() ? std::string("(empty)") : name;
}

inline lr::RepoMdPtr parse_repomd(const std::string& repo, const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw RepoError(repo, errno_message("cannot read repository index", path, errno) +
                                  "\n  is this a repository? createrepo_c makes repodata/repomd.xml");
    if (auto encoding = declared_encoding(fd); !encoding.empty()) {
        ::close(fd);
        throw RepoError(repo, "malformed repository index " + path.string() + ": unsupported XML encoding '" +
                                  encoding + "' (createrepo_c writes UTF-8)");
    }
    lr::RepoMdPtr md(lr_yum_repomd_init());
    lr::ErrorSlot err;
    const bool ok = lr_yum_repomd_parse_file(md.get(), fd, nullptr, nullptr, err.out());
    ::close(fd);
    if (!ok) throw RepoError(repo, "malformed repository index " + path.string() + ": " + err.message());
    return md;
}

inline MetadataFile record_file(const LrYumRepoMd* md, const char* type, const std::filesystem::path& root) {
    auto* rec = lr_yum_repomd_get_record(const_cast<LrYumRepoMd*>(md), type);
    if (!rec || !rec->location_href) return {};
    return {root / rec->location_href, rec->checksum_type ? rec->checksum_type : "", rec->checksum ? rec->checksum : "",
            rec->location_href};
}

inline void describe(RepoMetadata& meta, const std::string& repo) {
    auto md = parse_repomd(repo, meta.repomd);
    meta.cookie = file_checksum(repo, meta.repomd, LR_CHECKSUM_SHA256);
    meta.primary = record_file(md.get(), "primary", meta.root);
    meta.filelists = record_file(md.get(), "filelists", meta.root);
    meta.comps = record_file(md.get(), "group_gz", meta.root);
    if (!meta.comps.present() || !std::filesystem::exists(meta.comps.path))
        meta.comps = record_file(md.get(), "group", meta.root);
    if (!meta.primary.present())
        throw RepoError(repo, meta.repomd.string() + " lists no primary metadata: the repository is incomplete");
}

inline std::vector<std::string> remote_urls(const RepoConfig& repo) {
    std::vector<std::string> urls;
    for (const auto& u : repo.baseurls) urls.push_back(u);
    return urls;
}

// Downloads repomd.xml, then (when it differs from the cached one) the files we need, into
// `work`. Returns true when the cached copy is still current.
inline bool download_metadata(const RepoConfig& repo, const MetadataOptions& opts, const std::filesystem::path& work,
                              const std::filesystem::path& cached_repomd) {
    namespace fs = std::filesystem;
    auto handle = lr::make_handle(repo, remote_urls(repo), opts.network);
    const std::string dest = work.string();
    lr::detail::setopt(handle.get(), repo.id, LRO_DESTDIR, dest.c_str());
    std::vector<std::string> none;
    lr::CStrings only_repomd(none);
    lr::detail::setopt(handle.get(), repo.id, LRO_YUMDLIST, only_repomd.get());
    lr::PerformWatch watch(handle.get(), repo.id, "Downloading metadata");
    lr::ResultPtr result(lr_result_init());
    lr::ErrorSlot err;
    if (!lr_handle_perform(handle.get(), result.get(), err.out())) {
        watch.finish();
        throw RepoError(repo.id, lr::failure_message(repo, "cannot download repository metadata", err.message(),
                                                     watch.failures()));
    }
    if (fs::exists(cached_repomd) &&
        file_checksum(repo.id, cached_repomd, LR_CHECKSUM_SHA256) ==
            file_checksum(repo.id, work / "repodata/repomd.xml", LR_CHECKSUM_SHA256))
        return true;

    std::vector<std::string> wanted{"primary", "group", "group_gz"};
    lr::CStrings wanted_list(wanted);
    lr::detail::setopt(handle.get(), repo.id, LRO_YUMDLIST, wanted_list.get());
    lr::detail::setopt(handle.get(), repo.id, LRO_UPDATE, 1L);
    lr::ErrorSlot err2;
    if (!lr_handle_perform(handle.get(), result.get(), err2.out())) {
        watch.finish();
        throw RepoError(repo.id, lr::failure_message(repo, "cannot download repository metadata", err2.message(),
                                                     watch.failures()));
    }
    watch.finish();
    std::uintmax_t bytes = 0;
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(work))
        if (e.is_regular_file()) bytes += e.file_size(), ++files;
    log::info("repository '", repo.id, "': downloaded ", files, " metadata files (", lr::human_size(static_cast<double>(bytes)), ")");
    // The mirrors librepo resolved become the bases packages are fetched from in cache-only runs.
    char** mirrors = nullptr;
    lr::ErrorSlot err3;
    if (lr_handle_getinfo(handle.get(), err3.out(), LRI_MIRRORS, &mirrors) && mirrors) {
        std::ofstream out(work / "mirrors");
        for (char** m = mirrors; *m; ++m) out << *m << '\n';
        g_strfreev(mirrors);
    }
    return false;
}

inline void replace_dir(const std::filesystem::path& fresh, const std::filesystem::path& target) {
    namespace fs = std::filesystem;
    const fs::path old = target.string() + ".old";
    fs::remove_all(old);
    if (fs::exists(target)) fs::rename(target, old);
    fs::rename(fresh, target);
    fs::remove_all(old);
}

// The remote repository's cache folder, refreshed unless current, young enough or cache-only.
inline std::filesystem::path sync_remote(const RepoConfig& repo, const MetadataOptions& opts) {
    namespace fs = std::filesystem;
    if (opts.cache_dir.empty())
        throw RepoError(repo.id, "a remote repository needs a metadata cache folder (MetadataOptions::cache_dir)");
    const fs::path dir = opts.cache_dir / cache_key(repo);
    const fs::path repomd = dir / "repodata/repomd.xml";
    if (opts.cache_only) {
        if (!fs::exists(repomd))
            throw RepoError(repo.id, "no cached metadata in " + dir.string() +
                                         " and cache-only mode forbids downloading it: build once without --cacheonly");
        return dir;
    }
    if (fs::exists(repomd)) {
        const auto age = fs::file_time_type::clock::now() - fs::last_write_time(repomd);
        if (age < opts.metadata_expire) return dir;
    }
    fs::create_directories(opts.cache_dir);
    const fs::path work = dir.string() + ".tmp-" + std::to_string(::getpid());
    fs::remove_all(work);
    fs::create_directories(work);
    try {
        if (download_metadata(repo, opts, work, repomd)) {
            fs::remove_all(work);
            fs::last_write_time(repomd, fs::file_time_type::clock::now());
            return dir;
        }
        replace_dir(work, dir);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(work, ec);
        throw;
    }
    return dir;
}

}  // namespace detail

// Locates (and for remote repositories refreshes) the metadata of `repo`.
inline RepoMetadata locate_metadata(const RepoConfig& repo, const MetadataOptions& opts) {
    namespace fs = std::filesystem;
    RepoMetadata meta;
    meta.repo_id = repo.id;
    if (repo.baseurls.empty() && repo.mirrorlist.empty() && repo.metalink.empty())
        throw RepoError(repo.id, "has no baseurl, mirrorlist or metalink" +
                                     (repo.where().empty() ? std::string() : " (" + repo.where() + ")"));
    std::optional<fs::path> local;
    if (repo.mirrorlist.empty() && repo.metalink.empty() && !repo.baseurls.empty())
        local = detail::local_path_of(repo.baseurls.front());
    if (local) {
        meta.local = true;
        meta.root = *local;
        meta.base_urls = {"file://" + local->string()};
        if (!opts.cache_dir.empty()) meta.cache = opts.cache_dir / detail::cache_key(repo);
    } else {
        meta.root = meta.cache = detail::sync_remote(repo, opts);
        meta.base_urls = detail::remote_urls(repo);
        std::ifstream mirrors(meta.root / "mirrors");
        for (std::string line; std::getline(mirrors, line);)
            if (!line.empty() && std::find(meta.base_urls.begin(), meta.base_urls.end(), line) == meta.base_urls.end())
                meta.base_urls.push_back(line);
    }
    meta.repomd = meta.root / "repodata/repomd.xml";
    detail::describe(meta, repo.id);
    return meta;
}

// Fails with a clear message unless `file` has the checksum repomd.xml lists for it.
inline void verify_metadata_file(const std::string& repo, const MetadataFile& file) {
    const auto type = lr_checksum_type(file.checksum_type.c_str());
    if (type == LR_CHECKSUM_UNKNOWN)
        throw RepoError(repo, "unknown checksum type '" + file.checksum_type + "' for " + file.href);
    const std::string actual = detail::file_checksum(repo, file.path, type);
    if (actual != file.checksum)
        throw RepoError(repo, file.href + " does not match the checksum in repomd.xml (expected " + file.checksum_type +
                                  " " + file.checksum + ", found " + actual +
                                  "): the repository is corrupt or was changed while being read");
}

// Makes sure a metadata file a remote repository did not download up front (filelists) is
// in the cache and verified.
inline void fetch_metadata_file(const RepoConfig& repo, const RepoMetadata& meta, const MetadataFile& file,
                                const MetadataOptions& opts) {
    namespace fs = std::filesystem;
    if (meta.local || fs::exists(file.path)) return;
    if (opts.cache_only)
        throw RepoError(repo.id, file.href + " is not in the cache and cache-only mode forbids downloading it");
    auto handle = lr::make_handle(repo, meta.base_urls, opts.network);
    const fs::path part = file.path.string() + ".part";
    fs::create_directories(file.path.parent_path());
    lr::ErrorSlot err;
    auto* target = lr_packagetarget_new_v3(handle.get(), file.href.c_str(), part.c_str(),
                                           lr_checksum_type(file.checksum_type.c_str()), file.checksum.c_str(), 0,
                                           nullptr, FALSE, nullptr, nullptr, nullptr, nullptr, 0, 0, err.out());
    if (!target) throw RepoError(repo.id, "cannot prepare download of " + file.href + ": " + err.message());
    lr::TargetList targets;
    targets.append(target);
    lr::ErrorSlot err2;
    const bool ok = lr_download_packages(targets.get(), LR_PACKAGEDOWNLOAD_FAILFAST, err2.out());
    if (!ok || target->err) {
        std::error_code ec;
        fs::remove(part, ec);
        throw RepoError(repo.id, "cannot download " + file.href + ": " + (target->err ? target->err : err2.message()));
    }
    fs::rename(part, file.path);
}

}  // namespace imgcreate::install
