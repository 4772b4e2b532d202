// imgcreate — small owners for librepo's handles (LrHandle, LrResult, LrYumRepoMd, GError,
// package targets) and a handle set up from a RepoConfig.
#pragma once

#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/glib_log.hpp>
#include <imgcreate/support/log.hpp>

#include <librepo/librepo.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <initializer_list>
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

// A fresh librepo handle; librepo's messages go to the log from its first one on.
inline HandlePtr new_handle() {
    route_glib_log("librepo");
    return HandlePtr(lr_handle_init());
}

namespace detail {
template <typename T> void setopt(LrHandle* h, const std::string& repo, LrHandleOption opt, T value) {
    ErrorSlot err;
    if (!lr_handle_setopt(h, err.out(), opt, value)) throw RepoError(repo, "librepo rejected an option: " + err.message());
}

// How the repository's server is reached: proxy and TLS (verification, CA, client certificate).
inline void set_transport(LrHandle* h, const RepoConfig& repo) {
    const std::string& id = repo.id;
    if (!repo.proxy.empty()) setopt(h, id, LRO_PROXY, repo.proxy.c_str());
    if (repo.noverifyssl) {
        setopt(h, id, LRO_SSLVERIFYPEER, 0L);
        setopt(h, id, LRO_SSLVERIFYHOST, 0L);
    }
    if (!repo.sslcacert.empty()) setopt(h, id, LRO_SSLCACERT, repo.sslcacert.c_str());
    if (!repo.sslclientcert.empty()) setopt(h, id, LRO_SSLCLIENTCERT, repo.sslclientcert.c_str());
    if (!repo.sslclientkey.empty()) setopt(h, id, LRO_SSLCLIENTKEY, repo.sslclientkey.c_str());
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
    HandlePtr h = new_handle();
    const std::string& id = repo.id;
    detail::setopt(h.get(), id, LRO_REPOTYPE, LR_YUMREPO);
    if (!urls.empty()) {
        CStrings list(urls);
        detail::setopt(h.get(), id, LRO_URLS, list.get());
    }
    if (!repo.mirrorlist.empty()) detail::setopt(h.get(), id, LRO_MIRRORLISTURL, repo.mirrorlist.c_str());
    if (!repo.metalink.empty()) detail::setopt(h.get(), id, LRO_METALINKURL, repo.metalink.c_str());
    detail::set_transport(h.get(), repo);
    detail::setopt(h.get(), id, LRO_CHECKSUM, 1L);
    detail::setopt(h.get(), id, LRO_ALLOWEDMIRRORFAILURES, static_cast<long>(o.retries));
    detail::setopt(h.get(), id, LRO_MAXPARALLELDOWNLOADS, static_cast<long>(o.max_parallel));
    detail::setopt(h.get(), id, LRO_CONNECTTIMEOUT, o.connect_timeout);
    detail::setopt(h.get(), id, LRO_LOWSPEEDTIME, 30L);
    detail::setopt(h.get(), id, LRO_USERAGENT, o.user_agent.c_str());
    detail::setopt(h.get(), id, LRO_INTERRUPTIBLE, 0L);
    return h;
}

// 1536 -> "1.5 KiB".
inline std::string human_size(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    while (bytes >= 1024 && u < 3) { bytes /= 1024; ++u; }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

// Why downloads from a repository failed: librepo's summary, then each mirror's own failure
// (which librepo's summary, "All mirrors were tried", leaves out), then where the repository
// was defined. The first line says what to do for the causes a user can fix.
inline std::string failure_message(const RepoConfig& repo, const std::string& what, const std::string& summary,
                                   const std::vector<std::string>& failures) {
    auto any = [&](std::initializer_list<const char*> needles) {
        for (const auto& f : failures)
            for (const char* n : needles)
                if (f.find(n) != std::string::npos) return true;
        for (const char* n : needles)
            if (summary.find(n) != std::string::npos) return true;
        return false;
    };
    auto every = [&](const char* needle) {
        return !failures.empty() && std::all_of(failures.begin(), failures.end(), [&](const std::string& f) {
            return f.find(needle) != std::string::npos;
        });
    };
    // A scheme curl knows but a repository cannot use (gopher://, dict://, ...) fails as a
    // refused connection; say what is wrong with it instead.
    auto odd_scheme = [&] {
        std::vector<std::string> urls = repo.baseurls;
        for (const auto* u : {&repo.mirrorlist, &repo.metalink})
            if (!u->empty()) urls.push_back(*u);
        return std::any_of(urls.begin(), urls.end(), [](const std::string& url) {
            const auto colon = url.find("://");
            if (colon == std::string::npos) return false;  // a plain path
            std::string scheme = url.substr(0, colon);
            std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
            return scheme != "http" && scheme != "https" && scheme != "ftp" && scheme != "file";
        });
    };
    std::string first = summary;
    if (any({"Curl error (1):"}) || odd_scheme())
        first = "the URL's scheme is not supported: use http://, https://, ftp:// or file://";
    else if (any({"SSL certificate problem", "Curl error (60)", "Curl error (77)"}))
        first = "the server's TLS certificate is not trusted: pass --sslcacert=CA-FILE (sslcacert= in a .repo file) "
                "naming the certificate that signed it, or --noverifyssl (sslverify=0) to skip the check";
    else if (any({"TLS fatal alert has been received", "alert certificate required", "alert handshake failure"}))
        first = "the server ended the TLS handshake: if it asks for a client certificate, pass --sslclientcert=CERT "
                "and --sslclientkey=KEY (sslclientcert=, sslclientkey= in a .repo file)";
    else if (any({"checksum doesn't match", "Checksum doesn't match", "checksum mismatch"}))
        first = "repomd.xml does not match the checksum the metalink gives: the mirrors are out of date or the "
                "metalink is wrong; try again later or use a baseurl";
    else if (every("Curl error (7)"))
        first = "no mirror accepted a connection: check the URLs and that the servers are up";
    else if (every("Curl error (6)"))
        first = "a host name cannot be resolved: check the URL, or set a proxy (--proxy=, proxy= in a .repo file) "
                "if this network needs one";
    std::string msg = what + ": " + first;
    if (first != summary) msg += "\n  " + summary;
    for (const auto& f : failures) msg += "\n  " + f;
    if (!repo.where().empty()) msg += "\n  (repository defined at " + repo.where() + ")";
    return msg;
}

// Progress and per-mirror failures of one lr_handle_perform (LRO_PROGRESSDATA, LRO_PROGRESSCB,
// LRO_HMFCB). On a terminal the progress is one status line; off it, nothing.
class PerformWatch {
public:
    PerformWatch(LrHandle* h, const std::string& repo, std::string label) : repo_(repo), label_(std::move(label)) {
        detail::setopt(h, repo, LRO_PROGRESSDATA, static_cast<void*>(this));
        detail::setopt(h, repo, LRO_PROGRESSCB, static_cast<LrProgressCb>(&PerformWatch::on_progress));
        detail::setopt(h, repo, LRO_HMFCB, static_cast<LrHandleMirrorFailureCb>(&PerformWatch::on_failure));
    }
    ~PerformWatch() { finish(); }
    PerformWatch(const PerformWatch&) = delete;
    PerformWatch& operator=(const PerformWatch&) = delete;

    const std::vector<std::string>& failures() const noexcept { return failures_; }
    void finish() {
        if (drawn_) Logger::instance().clear_status();
        drawn_ = false;
    }

private:
    static int on_progress(void* data, double total, double now) {
        auto* self = static_cast<PerformWatch*>(data);
        if (!Logger::instance().interactive()) return LR_CB_OK;
        std::string line = self->label_ + " for '" + self->repo_ + "': " + human_size(now) +
                           (total > 0 ? "/" + human_size(total) : std::string());
        if (self->drawn_ && line == self->last_) return LR_CB_OK;
        self->drawn_ = true;
        Logger::instance().status(line);
        self->last_ = std::move(line);
        return LR_CB_OK;
    }
    static int on_failure(void* data, const char* msg, const char* url, const char*) {
        auto* self = static_cast<PerformWatch*>(data);
        std::string line = std::string(url ? url : "?") + ": " + (msg ? msg : "failed");
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
        if (std::find(self->failures_.begin(), self->failures_.end(), line) == self->failures_.end())
            self->failures_.push_back(std::move(line));
        return LR_CB_OK;
    }

    std::string repo_, label_, last_;
    std::vector<std::string> failures_;
    bool drawn_ = false;
};

}  // namespace imgcreate::install::lr
