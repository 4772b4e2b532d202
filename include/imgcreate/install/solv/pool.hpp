// imgcreate — an owned libsolv Pool set up for RPM: distribution type, architecture and
// the map of candidates the solver may consider (repository and kickstart excludes).
#pragma once

#include <imgcreate/install/solv/queue.hpp>
#include <imgcreate/support/log.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/utsname.h>

namespace imgcreate::install::solv {

namespace detail {
// libsolv prints its errors to stderr itself unless given a callback.
extern "C" inline void log_solv_message(::Pool*, void*, int type, const char* message) {
    std::string text = std::string("libsolv: ") + (message ? message : "");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (type & (SOLV_FATAL | SOLV_ERROR)) log::warning(text);
    else log::debug(text);
}
}  // namespace detail

inline std::string host_arch() {
    struct utsname u {};
    ::uname(&u);
    return u.machine;
}

class Pool {
public:
    explicit Pool(const std::string& arch = host_arch()) : pool_(pool_create()), considered_(std::make_unique<Map>()) {
        // Debian's libsolv defaults to Debian semantics: without this, noarch packages are
        // uninstallable and rpm version comparison is wrong.
        pool_setdebugcallback(pool_, detail::log_solv_message, nullptr);
        pool_setdisttype(pool_, DISTTYPE_RPM);
        pool_setarch(pool_, arch.c_str());
        // Excludes change the considered map after providers are indexed (as libdnf does).
        pool_set_flag(pool_, POOL_FLAG_WHATPROVIDESWITHDISABLED, 1);
        // Fedora's libsolv (and so dnf) lets x86_64 and i686 builds of one name coexist; Debian's
        // is built without that default, so both arches (--multilib) would be "cannot install both".
        pool_set_flag(pool_, POOL_FLAG_IMPLICITOBSOLETEUSESCOLORS, 1);
        map_init(considered_.get(), 0);
    }
    ~Pool() {
        if (!pool_) return;
        pool_->considered = nullptr;
        map_free(considered_.get());
        pool_free(pool_);
    }
    Pool(Pool&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), considered_(std::move(o.considered_)) {}
    Pool& operator=(Pool&&) = delete;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    ::Pool* get() const noexcept { return pool_; }

    Id str2id(std::string_view s, bool create = true) const {
        return pool_strn2id(pool_, s.data(), static_cast<unsigned>(s.size()), create ? 1 : 0);
    }
    const char* id2str(Id id) const { return pool_id2str(pool_, id); }
    const char* dep2str(Id id) const { return pool_dep2str(pool_, id); }
    std::string solvable2str(Id p) const { return pool_solvid2str(pool_, p); }
    Id rel(Id name, Id evr, int flags) const { return pool_rel2id(pool_, name, evr, flags, 1); }
    Solvable* solvable(Id p) const { return pool_id2solvable(pool_, p); }
    Id nsolvables() const noexcept { return pool_->nsolvables; }
    const char* arch_str(Id p) const { return pool_id2str(pool_, solvable(p)->arch); }

    // Adds file provides for the file dependencies in use, then indexes what provides what.
    void prepare() {
        pool_addfileprovides(pool_);
        pool_createwhatprovides(pool_);
    }
    IdQueue whatprovides(Id dep) const {
        IdQueue q;
        for (Id* pp = pool_->whatprovidesdata + pool_whatprovides(pool_, dep); *pp; ++pp) q.push(*pp);
        return q;
    }

    // Only solvables not in `excluded` take part in solving; empty means all do.
    void set_excluded(const std::vector<Id>& excluded) {
        if (excluded.empty()) {
            pool_->considered = nullptr;
            return;
        }
        map_free(considered_.get());
        map_init(considered_.get(), pool_->nsolvables);
        map_setall(considered_.get());
        for (Id p : excluded) MAPCLR(considered_.get(), p);
        pool_->considered = considered_.get();
    }
    bool is_considered(Id p) const { return !pool_->considered || MAPTST(pool_->considered, p); }

private:
    ::Pool* pool_;
    std::unique_ptr<Map> considered_;
};

}  // namespace imgcreate::install::solv
