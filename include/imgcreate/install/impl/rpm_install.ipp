// imgcreate — the bodies of install/rpm_install.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/install/rpm_install.hpp>

#include <imgcreate/concepts.hpp>
#include <imgcreate/configure/rpm_macros.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/install/download.hpp>
#include <imgcreate/install/kernel_versions.hpp>
#include <imgcreate/install/librepo.hpp>
#include <imgcreate/install/lockfile.hpp>
#include <imgcreate/install/package_request.hpp>
#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/install/resolver.hpp>
#include <imgcreate/install/rpmdb.hpp>
#include <imgcreate/install/signature.hpp>
#include <imgcreate/install/transaction.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/lock.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace imgcreate::install {

namespace detail {

// What a kickstart `repo` and `url` line both say of a repository.
template <typename Line> RepoConfig repo_from_line(const std::string& id, const std::string& baseurl, const Line& r) {
    RepoConfig repo;
    repo.id = id;
    repo.name = id;
    if (!baseurl.empty()) repo.baseurls = {baseurl};
    repo.mirrorlist = r.mirrorlist;
    repo.metalink = r.metalink;
    repo.proxy = r.proxy;
    repo.noverifyssl = r.noverifyssl;
    repo.sslcacert = r.sslcacert;
    repo.sslclientcert = r.sslclientcert;
    repo.sslclientkey = r.sslclientkey;
    repo.source_file = r.origin.file;
    repo.source_line = r.origin.line;
    return repo;  // a kickstart line has no gpgkey: gpgcheck stays off, as in livecd-tools
}

inline RepoConfig repo_from_kickstart(const kickstart::RepoData& r) {
    RepoConfig repo = repo_from_line(r.name, r.baseurl, r);
    if (r.cost) repo.cost = static_cast<int>(*r.cost);
    repo.includepkgs = r.includepkgs;
    repo.excludepkgs = r.excludepkgs;
    return repo;
}

// The kickstart's `url` line as a repository named "url" (anaconda's installation source;
// livecd-tools ignores the line, dnf-based builders use it).
inline RepoConfig repo_from_kickstart_url(const kickstart::Url& u) { return repo_from_line("url", u.url, u); }

inline std::vector<RepoConfig> repositories(const BuildContext& ctx) {
    RepoVariables vars;
    vars.releasever = ctx.options.releasever;
    std::vector<RepoConfig> repos;
    if (ctx.kickstart && ctx.kickstart->url) {
        auto repo = repo_from_kickstart_url(*ctx.kickstart->url);
        substitute_variables(repo, vars);
        repos.push_back(std::move(repo));
    }
    if (ctx.kickstart) {
        for (const auto& r : ctx.kickstart->repos) {
            auto repo = repo_from_kickstart(r);
            substitute_variables(repo, vars);
            repos.push_back(std::move(repo));
        }
    }
    for (const auto& file : ctx.options.repo_files)
        for (auto& repo : read_repo_files(file, vars)) repos.push_back(std::move(repo));
    if (repos.empty())
        throw InstallError("no package repository: add a 'repo --name=... --baseurl=...' line to the kickstart "
                           "or pass a .repo file");
    return merge_same_id(std::move(repos));
}

inline EntryKind entry_kind(kickstart::PackageKind kind) {
    switch (kind) {
        case kickstart::PackageKind::exclude: return EntryKind::exclude;
        case kickstart::PackageKind::group: return EntryKind::group;
        case kickstart::PackageKind::exclude_group: return EntryKind::exclude_group;
        case kickstart::PackageKind::environment: return EntryKind::environment;
        case kickstart::PackageKind::exclude_environment: return EntryKind::exclude_group;
        case kickstart::PackageKind::module: return EntryKind::module;
        default: return EntryKind::package;
    }
}

inline PackageRequest package_request(const kickstart::Packages& packages) {
    PackageRequest request;
    for (const auto& e : packages.entries) {
        PackageEntry entry;
        entry.kind = entry_kind(e.kind);
        entry.name = e.name;
        entry.nodefaults = e.nodefaults;
        entry.optional = e.optional;
        entry.file = e.origin.file;
        entry.line = e.origin.line;
        request.entries.push_back(std::move(entry));
    }
    request.nocore = packages.nocore;
    request.ignoremissing = packages.ignoremissing;
    request.exclude_weakdeps = packages.exclude_weakdeps;
    request.multilib = packages.multilib;
    request.inst_langs = packages.inst_langs;
    request.excludedocs = packages.excludedocs;
    request.file = packages.origin.file;
    request.line = packages.origin.line;
    return request;
}

// A gpgkey URL as a local file. file:// URLs and absolute paths are used where they are;
// http://, https:// and ftp:// keys are downloaded (through the repository's proxy, with its
// TLS settings) into `key_dir`, where a cache-only build finds them again.
inline std::filesystem::path key_file(const RepoConfig& repo, const std::string& url, const std::filesystem::path& key_dir,
                                      bool cache_only = false) {
    if (url.rfind("file://", 0) == 0) return url.substr(7);
    if (!url.empty() && url.front() == '/') return url;
    const bool remote = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0 || url.rfind("ftp://", 0) == 0;
    if (!remote)
        throw RepoError(repo.id, "gpgkey " + url + " is neither a file:// URL, an absolute path nor an http(s)/ftp URL");
    // one file per URL: the last path element, made unique by a hash of the whole URL
    std::string base = url.substr(url.find_last_of('/') + 1);
    base = base.substr(0, base.find_first_of("?#"));
    if (base.empty() || base == "." || base == "..") base = "key";
    std::uint64_t h = 14695981039346656037ULL;  // FNV-1a: the same name on every run
    for (unsigned char c : url) h = (h ^ c) * 1099511628211ULL;
    char tag[17];
    std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(h));
    const std::filesystem::path target = key_dir / repo.id / (std::string(tag, 8) + "-" + base);
    if (cache_only) {
        if (std::filesystem::exists(target)) return target;
        throw RepoError(repo.id, "gpgkey " + url + " is not in the cache (" + target.string() +
                                     ") and --cacheonly forbids downloading it: run once without --cacheonly");
    }
    std::filesystem::create_directories(target.parent_path());
    const std::filesystem::path partial = target.string() + ".part";
    lr::HandlePtr handle = lr::new_handle();
    lr::detail::set_transport(handle.get(), repo);
    lr::detail::setopt(handle.get(), repo.id, LRO_CONNECTTIMEOUT, 30L);
    lr::detail::setopt(handle.get(), repo.id, LRO_INTERRUPTIBLE, 0L);
    const int fd = ::open(partial.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);  // librepo fdopen()s it "w+"
    if (fd < 0) throw RepoError(repo.id, errno_message("cannot write the gpgkey download", partial, errno));
    GError* gerr = nullptr;
    const gboolean ok = lr_download_url(handle.get(), url.c_str(), fd, &gerr);
    ::close(fd);
    if (!ok) {
        std::string why = gerr && gerr->message ? gerr->message : "download failed";
        if (gerr) g_error_free(gerr);
        std::error_code ec;
        std::filesystem::remove(partial, ec);
        throw RepoError(repo.id, "cannot download its gpgkey " + url + ": " + why);
    }
    std::filesystem::rename(partial, target);
    log::debug("repo " + repo.id + ": gpgkey " + url + " downloaded to " + target.string());
    return target;
}

// What the kickstart's %packages resolve to in the repositories (or what the lockfile holds).
inline std::vector<Package> resolved_packages(const BuildContext& ctx, const std::filesystem::path& dbpath,
                                              const std::vector<RepoConfig>& repos, const PackageRequest& request) {
    if (!ctx.options.lockfile.empty()) return read_lockfile(ctx.options.lockfile, repos);
    ResolveOptions options;
    options.metadata.cache_dir = ctx.cache_dir() / "metadata";
    options.metadata.cache_only = ctx.options.cacheonly;
    for (const auto& p : installed_packages(ctx.install_root, detect_dbpath(ctx.install_root, dbpath)))
        options.installed.insert(p.name);
    auto resolution = resolve(repos, request, options);
    for (const auto& w : resolution.warnings) log::warning(w);
    if (!ctx.options.lockfile_out.empty()) write_lockfile(ctx.options.lockfile_out, resolution.packages);
    return std::move(resolution.packages);
}

inline TransactionOptions transaction_options(const BuildContext& ctx, const std::filesystem::path& dbpath,
                                              const std::vector<RepoConfig>& repos) {
    TransactionOptions options;
    options.verify = parse_verify_level(ctx.options.pkgverify_level);
    options.dbpath = dbpath;
    options.mount_proc = ctx.mount_proc;
    if (ctx.kickstart) options.macros = configure::macro_settings(*ctx.kickstart);
    for (const auto& repo : repos) {
        if (!repo.gpgcheck) {
            options.repos_without_gpgcheck.insert(repo.id);
            continue;
        }
        for (const auto& url : repo.gpgkeys)
            options.repo_keys[repo.id].push_back(key_file(repo, url, ctx.cache_dir() / "gpgkeys", ctx.options.cacheonly));
    }
    return options;
}

// What the transaction installs, as one text: every package's NEVRA and checksum, and the rpm
// settings that change what lands in the root. Empty when a package has no checksum to name it by.
inline std::string transaction_identity(const std::vector<Package>& packages, const TransactionOptions& options) {
    std::vector<std::string> lines;
    for (const auto& p : packages) {
        if (p.checksum.empty()) return {};
        lines.push_back(p.name + "-" + (p.epoch.empty() ? "" : p.epoch + ":") + p.version + "-" + p.release + "." + p.arch +
                        " " + p.checksum_type + ":" + p.checksum);
    }
    std::sort(lines.begin(), lines.end());
    std::string identity = macros_file_text(options.macros) + "dbpath " + options.dbpath.string() + "\n";
    for (const auto& l : lines) identity += l + "\n";
    return identity;
}

}  // namespace detail

IMGCREATE_DECL void RpmInstall::check(const BuildContext& ctx) const {
    (void)parse_verify_level(ctx.options.pkgverify_level);
    if (ctx.options.base_on.empty()) (void)detail::repositories(ctx);
}

IMGCREATE_DECL void RpmInstall::install(BuildContext& ctx) {
    // Metadata and packages are written below the cache dir: one build at a time in it.
    const auto cache_lock = DirectoryLock::acquire(ctx.cache_dir(), "package cache");
    const auto repos = detail::repositories(ctx);
    auto request = ctx.kickstart ? detail::package_request(ctx.kickstart->packages) : PackageRequest{};
    for (const auto& added : ctx.added_packages) {
        const bool named = std::any_of(request.entries.begin(), request.entries.end(), [&](const PackageEntry& e) {
            return e.kind == EntryKind::package && spec_may_name(e.name, added.name);
        });
        if (named) continue;
        PackageEntry entry;
        entry.name = added.name;
        entry.file = added.why;
        entry.required = true;
        request.entries.push_back(entry);
    }
    // Sub-phases are logged, not added to ctx.timings: the creator times install() as a whole.
    PhaseTimings phases;
    auto packages = phases.time("resolve", [&] { return detail::resolved_packages(ctx, dbpath, repos, request); });
    phases.time("download", [&] {
        DownloadOptions download;
        download.package_dir = ctx.cache_dir() / "packages";
        download.cache_only = ctx.options.cacheonly;
        download.verify_local = false;  // rpm checks every payload digest itself
        download_packages(packages, repos, download);
    });
    auto options = detail::transaction_options(ctx, dbpath, repos);
    // The solver's pool and the metadata are gone: give their memory back before rpm's
    // transaction grows the heap again (it would otherwise stay part of the peak).
    ::malloc_trim(0);
    BuildContext::TransactionHook hook;
    if (ctx.before_transaction) {
        hook = ctx.before_transaction(detail::transaction_identity(packages, options));
        options.script_path_first = hook.script_path_first;
    }
    result = phases.time("transaction", [&] { return install_packages(ctx.install_root, packages, options, progress); });
    if (hook.succeeded) hook.succeeded();
    ::malloc_trim(0);
    std::string line = "install:";
    for (const auto& [name, seconds] : phases.phases) line += " " + name + " " + log::duration(seconds);
    log::info(line);
    ctx.scaffolding = unowned_paths(ctx.install_root, ctx.scaffolding, dbpath);
}

IMGCREATE_DECL KernelVersions RpmInstall::kernel_versions(const BuildContext& ctx) const {
    return install::kernel_versions(ctx.install_root, dbpath);
}

}  // namespace imgcreate::install
