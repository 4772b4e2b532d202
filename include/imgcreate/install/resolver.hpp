// imgcreate — the start of install(): repositories and %packages in, the exact set of
// packages to install out, as livecd-tools would pick them through dnf.
//
//   auto result = imgcreate::install::resolve(repos, request, {.metadata = {.cache_dir = cache}});
//   for (const auto& pkg : result.packages) ...   // NEVRA, repo, location, checksum
#pragma once

#include <imgcreate/install/comps.hpp>
#include <imgcreate/install/package.hpp>
#include <imgcreate/install/package_pool.hpp>
#include <imgcreate/install/package_request.hpp>
#include <imgcreate/install/problems.hpp>
#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/install/selection.hpp>
#include <imgcreate/install/solv/solver.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace imgcreate::install {

struct ResolveOptions {
    MetadataOptions metadata;
    std::string arch = solv::host_arch();
    std::vector<std::string> installonly = default_installonly();
    std::set<std::string> installed;  // names of the packages already in the root (--base-on)
};

struct ResolveTimings {
    double load_s = 0, select_s = 0, solve_s = 0;
};

struct Resolution {
    std::vector<Package> packages;        // sorted by name, then arch
    std::vector<std::string> warnings;
    ResolveTimings timings;
};

// A solve that failed; what() lists libsolv's problems with the kickstart lines involved.
class ResolveError : public InstallError {
public:
    explicit ResolveError(std::string message) : InstallError(std::move(message)) {}
};

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Paths named in %packages, which may need filelists to be found.
inline std::vector<std::string> requested_paths(const PackageRequest& request) {
    std::vector<std::string> paths;
    for (const auto& e : request.entries)
        if ((e.kind == EntryKind::package || e.kind == EntryKind::exclude) && PackageQuery::is_filename(e.name))
            paths.push_back(e.name);
    return paths;
}

// libdnf's solver settings for an install.
inline void configure_solver(solv::Solver& solver, const PackageRequest& request) {
    solver.set_flag(SOLVER_FLAG_ALLOW_VENDORCHANGE, true);
    solver.set_flag(SOLVER_FLAG_DUP_ALLOW_VENDORCHANGE, true);
    solver.set_flag(SOLVER_FLAG_KEEP_ORPHANS, true);
    solver.set_flag(SOLVER_FLAG_BEST_OBEY_POLICY, true);
    solver.set_flag(SOLVER_FLAG_YUM_OBSOLETES, true);
#ifdef SOLVER_FLAG_URPM_REORDER
    solver.set_flag(SOLVER_FLAG_URPM_REORDER, true);
#endif
    if (request.exclude_weakdeps) solver.set_flag(SOLVER_FLAG_IGNORE_RECOMMENDED, true);
}

}  // namespace detail

// Loads every enabled repository into a pool (filelists too when `request` needs them).
inline PackagePool load_repositories(const std::vector<RepoConfig>& repos, const PackageRequest& request,
                                     const ResolveOptions& options) {
    PackagePool pool(options.arch);
    pool.load(repos, options.metadata);
    if (pool.needs_filelists(detail::requested_paths(request))) {
        log::debug("a file dependency is outside primary.xml: loading filelists");
        pool.load_filelists();
    }
    pool.prepare();
    return pool;
}

// Selects and solves on an already loaded pool.
inline Resolution resolve(PackagePool& pool, const PackageRequest& request, const ResolveOptions& options = {}) {
    Resolution result;
    auto t = std::chrono::steady_clock::now();
    const Comps comps(pool);
    Selection selection = select(pool, request, comps, options.installonly, options.installed);
    result.warnings = selection.warnings;
    result.timings.select_s = detail::seconds_since(t);

    t = std::chrono::steady_clock::now();
    solv::Solver solver(pool.pool());
    detail::configure_solver(solver, request);
    if (solver.solve(selection.job) != 0) throw ResolveError(describe_problems(solver, selection));
    const auto installs = solver.transaction().installs();
    result.timings.solve_s = detail::seconds_since(t);

    // In id order, package data paged in from .solv files is read sequentially (10x faster).
    std::vector<Id> ids(installs.begin(), installs.end());
    std::sort(ids.begin(), ids.end());
    for (Id p : ids)
        if (!pool.is_comps(p)) result.packages.push_back(pool.package(p));
    std::sort(result.packages.begin(), result.packages.end(), [](const Package& a, const Package& b) {
        return std::tie(a.name, a.arch, a.version, a.release) < std::tie(b.name, b.arch, b.version, b.release);
    });
    return result;
}

inline Resolution resolve(const std::vector<RepoConfig>& repos, const PackageRequest& request,
                          const ResolveOptions& options = {}) {
    const auto t = std::chrono::steady_clock::now();
    PackagePool pool = load_repositories(repos, request, options);
    const double load = detail::seconds_since(t);
    Resolution result = resolve(pool, request, options);
    result.timings.load_s = load;
    log::info("resolved ", result.packages.size(), " packages (load ", log::duration(load), ", select ",
              log::duration(result.timings.select_s), ", solve ", log::duration(result.timings.solve_s), ")");
    return result;
}

}  // namespace imgcreate::install
