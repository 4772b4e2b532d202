// imgcreate — every enabled repository loaded into one libsolv pool. Primary and comps are
// read from XML once and then from .solv caches keyed by repomd.xml's checksum; filelists
// are only read when some file dependency (or a requested path) is one primary does not list.
#pragma once

#include <imgcreate/install/metadata.hpp>
#include <imgcreate/install/package.hpp>
#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/install/solv/file.hpp>
#include <imgcreate/install/solv/pool.hpp>
#include <imgcreate/install/solv/repo.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace imgcreate::install {

struct LoadedRepo {
    RepoConfig config;
    RepoMetadata meta;
    solv::RepoRef packages;
    std::optional<solv::RepoRef> comps;
    bool filelists_loaded = false;
    bool from_cache = false;
};

// createrepo_c's rule for which file paths primary.xml carries.
inline bool primary_lists_path(std::string_view path) {
    return path.rfind("/etc/", 0) == 0 || path == "/usr/lib/sendmail" || path.find("bin/") != std::string_view::npos;
}

namespace detail {

inline std::filesystem::path solv_cache_path(const RepoMetadata& meta, const std::string& suffix) {
    if (meta.cache.empty()) return {};
    return meta.cache / "solv" / (meta.cookie + suffix);
}

// Writes through a temporary name and renames, so a cache file is whole or absent.
template <typename Write>
void write_cache_atomically(const std::filesystem::path& path, Write&& write) {
    namespace fs = std::filesystem;
    if (path.empty()) return;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
    try {
        auto f = solv::SolvFile::open_plain(tmp, "wb");
        const std::string err = write(f);
        if (!err.empty()) throw InstallError("cannot write cache " + path.string() + ": " + err);
        f.close(tmp);
        fs::rename(tmp, path);
    } catch (const std::exception& e) {
        fs::remove(tmp, ec);
        log::warning(e.what(), " (continuing without it)");
    }
}

// Drops cache files of earlier repomd versions.
inline void prune_old_caches(const RepoMetadata& meta) {
    namespace fs = std::filesystem;
    if (meta.cache.empty() || !fs::exists(meta.cache / "solv")) return;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(meta.cache / "solv", ec))
        if (e.path().filename().string().rfind(meta.cookie, 0) != 0) fs::remove(e.path(), ec);
}

}  // namespace detail

class PackagePool {
public:
    explicit PackagePool(const std::string& arch = solv::host_arch()) : pool_(arch), arch_(arch) {}
    PackagePool(PackagePool&&) = default;

    const std::string& arch() const { return arch_; }
    solv::Pool& pool() { return pool_; }
    const solv::Pool& pool() const { return pool_; }
    const std::vector<LoadedRepo>& repos() const { return repos_; }

    // Loads primary and comps of every enabled repository, in order.
    void load(const std::vector<RepoConfig>& configs, const MetadataOptions& opts) {
        opts_ = opts;
        for (const auto& c : merge_same_id(configs))
            if (c.enabled) load_one(c);
    }

    // True when a file dependency in the pool, or one of `paths`, is not covered by primary.
    bool needs_filelists(const std::vector<std::string>& paths = {}) const {
        for (const auto& p : paths)
            if (!p.empty() && (p[0] == '/' || p.rfind("*/", 0) == 0) && !primary_lists_path(p)) return true;
        const ::Pool* pool = pool_.get();
        const std::vector<char> used = names_used_in_dependencies();
        for (Id id = 1; id < pool->ss.nstrings; ++id) {
            const char* s = pool->ss.stringspace + pool->ss.strings[id];
            if (s[0] == '/' && used[id] && !primary_lists_path(s)) return true;
        }
        return false;
    }

    void load_filelists() {
        for (auto& r : repos_) {
            if (r.filelists_loaded || !r.meta.filelists.present()) continue;
            load_filelists(r);
        }
    }

    // Adds file provides and indexes providers; call after loading, before selecting.
    void prepare() { pool_.prepare(); }

    bool is_comps(Id p) const {
        const Solvable* s = pool_.solvable(p);
        return s->repo && s->repo->appdata == &comps_marker_;
    }
    const LoadedRepo* repo_of(Id p) const {
        const Solvable* s = pool_.solvable(p);
        for (const auto& r : repos_)
            if (s->repo == r.packages.get()) return &r;
        return nullptr;
    }

    Package package(Id p) const {
        Solvable* s = pool_.solvable(p);
        Package pkg;
        pkg.name = pool_.id2str(s->name);
        split_evr(pool_.id2str(s->evr), pkg);
        pkg.arch = pool_.id2str(s->arch);
        const LoadedRepo* repo = repo_of(p);
        if (repo) pkg.repo = repo->config.id;
        unsigned int medianr = 0;
        if (const char* loc = solvable_get_location(s, &medianr)) pkg.location = loc;
        Id type = 0;
        if (const char* sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type)) {
            pkg.checksum = sum;
            pkg.checksum_type = solv_chksum_type2str(type);
        }
        pkg.download_size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
        pkg.install_size = solvable_lookup_num(s, SOLVABLE_INSTALLSIZE, 0);
        if (repo && !repo->meta.base_urls.empty()) pkg.base_url = repo->meta.base_urls.front();
        if (repo && repo->meta.local) pkg.local_path = repo->meta.root / pkg.location;
        return pkg;
    }

private:
    static void split_evr(std::string evr, Package& pkg) {
        if (auto colon = evr.find(':'); colon != std::string::npos) {
            pkg.epoch = evr.substr(0, colon);
            evr.erase(0, colon + 1);
        }
        auto dash = evr.rfind('-');
        pkg.version = evr.substr(0, dash);
        pkg.release = dash == std::string::npos ? std::string() : evr.substr(dash + 1);
    }

    // Marks every name a dependency of some package mentions, rich dependencies included.
    std::vector<char> names_used_in_dependencies() const {
        const ::Pool* pool = pool_.get();
        std::vector<char> used(static_cast<std::size_t>(pool->ss.nstrings), 0);
        for (Id p = 2; p < pool->nsolvables; ++p) {
            const Solvable* s = pool->solvables + p;
            if (!s->repo) continue;
            for (Offset off : {s->requires_, s->recommends, s->suggests, s->supplements, s->enhances, s->conflicts,
                               s->obsoletes}) {
                if (!off) continue;
                for (const Id* dp = s->repo->idarraydata + off; *dp; ++dp) mark(*dp, used);
            }
        }
        return used;
    }
    void mark(Id dep, std::vector<char>& used) const {
        while (ISRELDEP(dep)) {
            const Reldep* rd = GETRELDEP(pool_.get(), dep);
            if (rd->flags >= 8) mark(rd->evr, used);
            dep = rd->name;
        }
        if (dep > 0 && static_cast<std::size_t>(dep) < used.size()) used[static_cast<std::size_t>(dep)] = 1;
    }

    void load_one(const RepoConfig& config) {
        const auto t0 = std::chrono::steady_clock::now();
        RepoMetadata meta = locate_metadata(config, opts_);
        LoadedRepo r{config, meta, solv::RepoRef(pool_, config.id), std::nullopt};
        r.from_cache = load_cached(r.packages, detail::solv_cache_path(meta, ".solv"));
        if (!r.from_cache) {
            r.packages = fresh_repo(r.packages, config.id);
            load_xml(r.packages, config.id, meta.primary, "primary", &solv::RepoRef::add_primary);
            detail::prune_old_caches(meta);
            detail::write_cache_atomically(detail::solv_cache_path(meta, ".solv"),
                                           [&](const solv::SolvFile& f) { return r.packages.write_for_resolving(f); });
        }
        r.packages.set_cost(config.cost);
        r.packages.set_priority(config.priority);
        if (meta.comps.present()) load_comps(r);
        log::debug("repository ", config.id, ": ", r.packages.count(), " packages from ",
                   r.from_cache ? "the .solv cache" : "XML", " in ", log::duration(std::chrono::steady_clock::now() - t0));
        repos_.push_back(std::move(r));
    }

    void load_comps(LoadedRepo& r) {
        r.comps.emplace(pool_, r.config.id + ":comps");
        r.comps->get()->appdata = const_cast<int*>(&comps_marker_);
        const auto cache = detail::solv_cache_path(r.meta, "-comps.solv");
        if (load_cached(*r.comps, cache)) return;
        *r.comps = fresh_repo(*r.comps, r.config.id + ":comps");
        r.comps->get()->appdata = const_cast<int*>(&comps_marker_);
        fetch_metadata_file(r.config, r.meta, r.meta.comps, opts_);
        load_xml(*r.comps, r.config.id, r.meta.comps, "comps", &solv::RepoRef::add_comps);
        detail::write_cache_atomically(cache, [&](const solv::SolvFile& f) { return r.comps->write(f); });
    }

    void load_filelists(LoadedRepo& r) {
        const auto cache = detail::solv_cache_path(r.meta, "-filelists.solvx");
        if (!cache.empty() && std::filesystem::exists(cache)) {
            auto f = solv::SolvFile::open_plain(cache, "rb");
            if (r.packages.add_solv_extension(f).empty()) {
                r.filelists_loaded = true;
                return;
            }
            log::warning("repository ", r.config.id, ": unreadable cache ", cache.string(), ", reading XML");
        }
        fetch_metadata_file(r.config, r.meta, r.meta.filelists, opts_);
        load_xml(r.packages, r.config.id, r.meta.filelists, "filelists", &solv::RepoRef::add_filelists);
        r.filelists_loaded = true;
        detail::write_cache_atomically(cache, [&](const solv::SolvFile& f) { return r.packages.write_last_repodata(f); });
    }

    static bool load_cached(solv::RepoRef& repo, const std::filesystem::path& cache) {
        if (cache.empty() || !std::filesystem::exists(cache)) return false;
        auto f = solv::SolvFile::open_plain(cache, "rb");
        const std::string err = repo.add_solv(f);
        if (err.empty()) return true;
        log::warning("repository ", repo.name(), ": unreadable cache ", cache.string(), " (", err, "), reading XML");
        return false;
    }

    // A failed load may leave solvables behind: start the repository over.
    solv::RepoRef fresh_repo(solv::RepoRef& old, const std::string& name) {
        if (old.count() == 0) return old;
        repo_free(old.get(), 1);
        return solv::RepoRef(pool_, name);
    }

    template <typename Loader>
    void load_xml(solv::RepoRef& repo, const std::string& id, const MetadataFile& file, const char* what, Loader loader) {
        verify_metadata_file(id, file);
        auto f = solv::SolvFile::open_read(file.path);
        const std::string err = (repo.*loader)(f);
        if (!err.empty())
            throw RepoError(id, std::string("malformed ") + what + " metadata " + file.path.string() + ": " + err);
    }

    static constexpr int comps_marker_ = 0;  // Repo::appdata of comps repositories points here
    solv::Pool pool_;
    std::string arch_;
    MetadataOptions opts_;
    std::vector<LoadedRepo> repos_;
};

}  // namespace imgcreate::install
