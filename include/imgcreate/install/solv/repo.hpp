// imgcreate — a libsolv repository inside a Pool. The pool owns it (pool_free frees it),
// so this is a non-owning reference with the loading and writing operations we use.
#pragma once

#include <imgcreate/install/solv/file.hpp>
#include <imgcreate/install/solv/pool.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <filesystem>
#include <string>

namespace imgcreate::install::solv {

class RepoRef {
public:
    RepoRef(Pool& pool, const std::string& name) : repo_(repo_create(pool.get(), name.c_str())) {}

    std::string name() const { return repo_->name; }
    Id id() const noexcept { return repo_->repoid; }
    Id start() const noexcept { return repo_->start; }
    Id end() const noexcept { return repo_->end; }
    int count() const noexcept { return repo_->nsolvables; }
    ::Repo* get() const noexcept { return repo_; }

    // dnf's mapping: libsolv prefers higher numbers, dnf lower cost and lower priority.
    void set_cost(int cost) { repo_->subpriority = -cost; }
    void set_priority(int priority) { repo_->priority = -priority; }

    // Each loader returns libsolv's error text, empty on success.
    std::string add_primary(const SolvFile& f) { return check(repo_add_rpmmd(repo_, f.get(), nullptr, 0)); }
    std::string add_filelists(const SolvFile& f) {
        // Extends the solvables primary made; directory names stay out of the main string pool.
        return check(repo_add_rpmmd(repo_, f.get(), "FL", REPO_EXTEND_SOLVABLES | REPO_LOCALPOOL));
    }
    std::string add_comps(const SolvFile& f) { return check(repo_add_comps(repo_, f.get(), 0)); }
    std::string add_solv(const SolvFile& f) { return check(repo_add_solv(repo_, f.get(), 0)); }
    std::string add_solv_extension(const SolvFile& f) {
        return check(repo_add_solv(repo_, f.get(), REPO_EXTEND_SOLVABLES | REPO_LOCALPOOL));
    }

    std::string write(const SolvFile& f) const { return check(repo_write(repo_, f.get())); }
    // Writes only what resolving and downloading use: no descriptions, summaries, URLs,
    // licences, build hosts or times. The cache loads faster and takes less memory.
    std::string write_for_resolving(const SolvFile& f) const {
        return check(repo_write_filtered(repo_, f.get(), &resolving_keys, nullptr, nullptr));
    }
    // Writes only the most recently added repodata (an extension such as filelists).
    std::string write_last_repodata(const SolvFile& f) const {
        Repowriter* writer = repowriter_create(repo_);
        repowriter_set_repodatarange(writer, repo_->nrepodata - 1, repo_->nrepodata);
        repowriter_set_flags(writer, REPOWRITER_NO_STORAGE_SOLVABLE);
        int rc = repowriter_write(writer, f.get());
        repowriter_free(writer);
        return check(rc);
    }

private:
    static int resolving_keys(::Repo* repo, Repokey* key, void* data) {
        switch (key->name) {
            case SOLVABLE_SUMMARY: case SOLVABLE_DESCRIPTION: case SOLVABLE_PACKAGER: case SOLVABLE_URL:
            case SOLVABLE_BUILDTIME: case SOLVABLE_LICENSE: case SOLVABLE_GROUP: case SOLVABLE_BUILDHOST:
            case SOLVABLE_SOURCEARCH: case SOLVABLE_SOURCENAME: case SOLVABLE_SOURCEEVR: case SOLVABLE_HEADEREND:
            case SOLVABLE_AUTHORS: case SOLVABLE_EULA: case SOLVABLE_DISTRIBUTION:
                return KEY_STORAGE_DROPPED;
            default:
                return repo_write_stdkeyfilter(repo, key, data);
        }
    }
    std::string check(int rc) const {
        if (rc == 0) return {};
        const char* e = pool_errstr(repo_->pool);
        return e && *e ? e : "libsolv could not read it";
    }
    ::Repo* repo_;
};

}  // namespace imgcreate::install::solv
