// imgcreate — packages fetched into the package cache in parallel with librepo, each checked
// against the checksum primary.xml gives for it. A file already in the cache with the right
// checksum is used as is (so a second build runs offline); a file that fails its checksum is
// fetched once more, then the build stops with a clear error.
#pragma once

#include <imgcreate/install/librepo.hpp>
#include <imgcreate/install/metadata.hpp>
#include <imgcreate/install/package.hpp>
#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace imgcreate::install {

struct DownloadOptions {
    std::filesystem::path package_dir;    // the package cache; required for remote packages
    bool cache_only = false;              // never download: every package must already be cached
    bool verify_local = true;             // check packages of local repositories too
    lr::HandleOptions network{3, 4, 30, "imgcreate"};
};

namespace detail {

inline bool checksum_matches(const Package& pkg, const std::filesystem::path& file) {
    const auto type = lr_checksum_type(pkg.checksum_type.c_str());
    if (type == LR_CHECKSUM_UNKNOWN || pkg.checksum.empty()) return std::filesystem::exists(file);
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    gboolean matches = FALSE;
    lr::ErrorSlot err;
    const bool ok = lr_checksum_fd_cmp(type, fd, pkg.checksum.c_str(), FALSE, &matches, err.out());
    ::close(fd);
    return ok && matches;
}

inline std::string human_size(double bytes) { return lr::human_size(bytes); }

// Totals over all transfers, redrawn as one status line on a terminal.
class DownloadProgress {
public:
    // `source`: the repository the packages come from ("'fedora'", "3 repositories").
    DownloadProgress(std::size_t count, std::uint64_t bytes, std::string source)
        : count_(count), total_(bytes), source_(std::move(source)), start_(clock::now()) {}

    struct Slot {
        DownloadProgress* progress;
        const Package* package;
        double now = 0;
    };

    static int on_progress(void* data, double, double now) {
        auto* slot = static_cast<Slot*>(data);
        slot->progress->received_ += now - slot->now;
        slot->now = now;
        slot->progress->draw();
        return LR_CB_OK;
    }
    static int on_end(void* data, LrTransferStatus status, const char* msg) {
        auto* slot = static_cast<Slot*>(data);
        auto* self = slot->progress;
        if (status == LR_TRANSFER_SUCCESSFUL || status == LR_TRANSFER_ALREADYEXISTS) {
            ++self->done_;
            if (!Logger::instance().interactive())
                log::info("downloaded ", slot->package->nevra(), " (", human_size(slot->package->download_size), ") [",
                          self->done_, "/", self->count_, "]");
        }
        (void)msg;
        self->draw();
        return LR_CB_OK;
    }
    void finish() { Logger::instance().clear_status(); }

private:
    using clock = std::chrono::steady_clock;
    void draw() {
        if (!Logger::instance().interactive()) return;
        const double secs = std::chrono::duration<double>(clock::now() - start_).count();
        const double rate = secs > 0 ? received_ / secs : 0;
        const double left = rate > 0 && total_ > received_ ? (static_cast<double>(total_) - received_) / rate : 0;
        char line[256];
        std::snprintf(line, sizeof line, "Downloading packages from %s: %zu/%zu  %s/%s  %s/s  ETA %d:%02d",
                      source_.c_str(), done_, count_,
                      human_size(received_).c_str(), human_size(static_cast<double>(total_)).c_str(),
                      human_size(rate).c_str(), static_cast<int>(left) / 60, static_cast<int>(left) % 60);
        if (line == last_) return;  // curl reports far more often than the line changes
        last_ = line;
        Logger::instance().status(line);
    }
    std::size_t count_, done_ = 0;
    std::uint64_t total_;
    std::string source_, last_;
    double received_ = 0;
    clock::time_point start_;
};

}  // namespace detail

// Where a package of `repo` lives in the package cache.
inline std::filesystem::path cached_package_path(const DownloadOptions& opts, const RepoConfig& repo, const Package& pkg) {
    return opts.package_dir / detail::cache_key(repo) / std::filesystem::path(pkg.location).filename();
}

namespace detail {

// One round of parallel downloads; returns the packages that failed, with librepo's reason.
inline std::vector<std::pair<Package*, std::string>> download_round(const std::vector<Package*>& pkgs,
                                                                     const std::map<std::string, const RepoConfig*>& repos,
                                                                     const DownloadOptions& opts) {
    std::map<std::string, lr::HandlePtr> handles;
    std::uint64_t bytes = 0;
    for (auto* p : pkgs) bytes += p->download_size;
    std::set<std::string> from;
    for (auto* p : pkgs) from.insert(p->repo);
    DownloadProgress progress(pkgs.size(), bytes,
                              from.size() == 1 ? "'" + *from.begin() + "'" : std::to_string(from.size()) + " repositories");
    std::vector<std::unique_ptr<DownloadProgress::Slot>> slots;
    lr::TargetList targets;
    std::vector<std::pair<Package*, LrPackageTarget*>> owned;
    for (auto* p : pkgs) {
        const RepoConfig& repo = *repos.at(p->repo);
        auto& h = handles[repo.id];
        if (!h) {
            std::vector<std::string> urls = repo.baseurls;
            if (urls.empty() && !p->base_url.empty()) urls.push_back(p->base_url);
            h = lr::make_handle(repo, urls, opts.network);
        }
        std::filesystem::create_directories(p->local_path.parent_path());
        std::error_code ec;
        std::filesystem::remove(p->local_path, ec);
        slots.push_back(std::make_unique<DownloadProgress::Slot>(DownloadProgress::Slot{&progress, p}));
        lr::ErrorSlot err;
        auto* t = lr_packagetarget_new_v3(h.get(), p->location.c_str(), p->local_path.c_str(),
                                          lr_checksum_type(p->checksum_type.c_str()), p->checksum.c_str(),
                                          static_cast<gint64>(p->download_size), nullptr, FALSE,
                                          &DownloadProgress::on_progress, slots.back().get(), &DownloadProgress::on_end,
                                          nullptr, 0, 0, err.out());
        if (!t) throw InstallError("cannot prepare the download of " + p->nevra() + ": " + err.message(), p->repo);
        targets.append(t);
        owned.emplace_back(p, t);
    }
    lr::ErrorSlot err;
    const bool ok = lr_download_packages(targets.get(), static_cast<LrPackageDownloadFlag>(0), err.out());
    progress.finish();
    if (!ok) throw InstallError("package download failed: " + err.message());
    std::vector<std::pair<Package*, std::string>> failed;
    for (auto& [p, t] : owned)
        if (t->err) failed.emplace_back(p, t->err);
        else if (!checksum_matches(*p, p->local_path)) failed.emplace_back(p, "checksum does not match primary.xml");
    return failed;
}

}  // namespace detail

// The folder of a repository read in place (file:// or a plain path), if it is one.
inline std::optional<std::filesystem::path> local_root(const RepoConfig& repo) {
    if (!repo.mirrorlist.empty() || !repo.metalink.empty() || repo.baseurls.empty()) return std::nullopt;
    return detail::local_path_of(repo.baseurls.front());
}

// Gives every package a verified local_path, downloading what the cache lacks.
inline void download_packages(std::vector<Package>& packages, const std::vector<RepoConfig>& repos,
                              const DownloadOptions& opts) {
    std::map<std::string, const RepoConfig*> by_id;
    for (const auto& r : repos) by_id[r.id] = &r;
    std::vector<Package*> needed;
    for (auto& p : packages) {
        auto it = by_id.find(p.repo);
        if (it == by_id.end())
            throw InstallError(p.nevra() + " comes from repository '" + p.repo + "', which is not configured", p.repo);
        const RepoConfig& repo = *it->second;
        if (auto root = local_root(repo)) {
            p.local_path = *root / p.location;
            if (!std::filesystem::exists(p.local_path))
                throw InstallError(p.local_path.string() + " is listed in repository '" + p.repo +
                                       "' but missing: run createrepo_c on it again", p.repo);
            if (opts.verify_local && !detail::checksum_matches(p, p.local_path))
                throw InstallError(p.local_path.string() + " does not match the " + p.checksum_type +
                                       " checksum in its repository's primary.xml: the repository is corrupt; "
                                       "run createrepo_c on it again",
                                   p.repo);
            continue;
        }
        if (opts.package_dir.empty()) throw InstallError("a package cache folder is needed to download " + p.nevra());
        p.local_path = cached_package_path(opts, repo, p);
        if (detail::checksum_matches(p, p.local_path)) continue;
        needed.push_back(&p);
    }
    if (needed.empty()) return;
    if (opts.cache_only) {
        std::string msg = std::to_string(needed.size()) + " packages are not in the package cache and cache-only mode forbids downloading them:";
        for (auto* p : needed) msg += "\n  " + p->nevra();
        throw InstallError(msg);
    }
    log::info("downloading ", needed.size(), " packages");
    auto failed = detail::download_round(needed, by_id, opts);
    if (failed.empty()) return;
    std::vector<Package*> again;
    for (auto& [p, why] : failed) {
        log::warning(p->nevra(), ": ", why, "; downloading it again");
        again.push_back(p);
    }
    failed = detail::download_round(again, by_id, opts);
    if (failed.empty()) return;
    std::string msg = std::to_string(failed.size()) + (failed.size() == 1 ? " package" : " packages") +
                      " could not be downloaded intact (tried twice):";
    for (auto& [p, why] : failed) {
        msg += "\n  " + p->nevra() + " from " + p->repo + " (" + p->location + "): " + why;
        std::error_code ec;
        std::filesystem::remove(p->local_path, ec);
    }
    msg += "\nThe repository may be corrupt or changing; refresh its metadata or try another mirror";
    throw InstallError(msg);
}

}  // namespace imgcreate::install
