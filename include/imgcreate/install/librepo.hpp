// imgcreate — small owners for librepo's handles (LrHandle, LrResult, LrYumRepoMd, GError,
// package targets) and a handle set up from a RepoConfig.
#pragma once

#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/support/error.hpp>

#include <librepo/librepo.h>

#include <memory>
#include <string>
#include <vector>

namespace imgcreate::install::lr {

struct GErrorFree { void operator()(GError* e) const { g_error_free(e); } };
struct HandleFree { void operator()(LrHandle* h) const { lr_handle_free(h); } };
struct ResultFree { void operator()(LrResult* r) const { lr_result_free(r); } };
struct RepoMdFree { void operator()(LrYumRepoMd* r) const { lr_yum_repomd_free(r); } };

using ErrorPtr = std::unique_ptr<GError, GErrorFree>;
using HandlePtr = std::unique_ptr<LrHandle, HandleFree>;
using ResultPtr = std::unique_ptr<LrResult, ResultFree>;
using RepoMdPtr = std::unique_ptr<LrYumRepoMd, RepoMdFree>;

// Collects a GError** out-parameter and turns it into a message.
class ErrorSlot {
public:
    GError** out() noexcept { return &raw_; }
    ~ErrorSlot() { if (raw_) g_error_free(raw_); }
    std::string message() const { return raw_ ? raw_->message : "unknown librepo error"; }
    bool set() const noexcept { return raw_ != nullptr; }

private:
    GError* raw_ = nullptr;
};

// A NULL-terminated char* array over strings that outlive it.
class CStrings {
public:
    explicit CStrings(const std::vector<std::string>& strings) {
        for (const auto& s : strings) ptrs_.push_back(const_cast<char*>(s.c_str()));
        ptrs_.push_back(nullptr);
    }
    char** get() noexcept { return ptrs_.data(); }

private:
    std::vector<char*> ptrs_;
};

// GSList of LrPackageTarget* that frees the targets with the list.
class TargetList {
public:
    TargetList() = default;
    ~TargetList() { g_slist_free_full(list_, reinterpret_cast<GDestroyNotify>(lr_packagetarget_free)); }
    TargetList(const TargetList&) = delete;
    TargetList& operator=(const TargetList&) = delete;
    void append(LrPackageTarget* t) { list_ = g_slist_append(list_, t); }
    GSList* get() const noexcept { return list_; }
    template <typename F> void for_each(F&& f) const {
        for (GSList* e = list_; e; e = e->next) f(static_cast<LrPackageTarget*>(e->data));
    }

private:
    GSList* list_ = nullptr;
};

namespace detail {
template <typename T> void setopt(LrHandle* h, const std::string& repo, LrHandleOption opt, T value) {
    ErrorSlot err;
    if (!lr_handle_setopt(h, err.out(), opt, value)) throw RepoError(repo, "librepo rejected an option: " + err.message());
}
}  // namespace detail

struct HandleOptions {
    int retries = 3;
    int max_parallel = 4;
    long connect_timeout = 30;
    std::string user_agent = "imgcreate";
};

// A librepo handle pointing at the repository's baseurls, mirrorlist or metalink, with its
// proxy and TLS settings. `urls` are the baseurls as librepo wants them.
inline HandlePtr make_handle(const RepoConfig& repo, const std::vector<std::string>& urls, const HandleOptions& o) {
    HandlePtr h(lr_handle_init());
    const std::string& id = repo.id;
    detail::setopt(h.get(), id, LRO_REPOTYPE, LR_YUMREPO);
    if (!urls.empty()) {
        CStrings list(urls);
        detail::setopt(h.get(), id, LRO_URLS, list.get());
    }
    if (!repo.mirrorlist.empty()) detail::setopt(h.get(), id, LRO_MIRRORLISTURL, repo.mirrorlist.c_str());
    if (!repo.metalink.empty()) detail::setopt(h.get(), id, LRO_METALINKURL, repo.metalink.c_str());
    if (!repo.proxy.empty()) detail::setopt(h.get(), id, LRO_PROXY, repo.proxy.c_str());
    if (repo.noverifyssl) {
        detail::setopt(h.get(), id, LRO_SSLVERIFYPEER, 0L);
        detail::setopt(h.get(), id, LRO_SSLVERIFYHOST, 0L);
    }
    if (!repo.sslcacert.empty()) detail::setopt(h.get(), id, LRO_SSLCACERT, repo.sslcacert.c_str());
    detail::setopt(h.get(), id, LRO_CHECKSUM, 1L);
    detail::setopt(h.get(), id, LRO_ALLOWEDMIRRORFAILURES, static_cast<long>(o.retries));
    detail::setopt(h.get(), id, LRO_MAXPARALLELDOWNLOADS, static_cast<long>(o.max_parallel));
    detail::setopt(h.get(), id, LRO_CONNECTTIMEOUT, o.connect_timeout);
    detail::setopt(h.get(), id, LRO_LOWSPEEDTIME, 30L);
    detail::setopt(h.get(), id, LRO_USERAGENT, o.user_agent.c_str());
    detail::setopt(h.get(), id, LRO_INTERRUPTIBLE, 0L);
    return h;
}

}  // namespace imgcreate::install::lr
