// imgcreate — librpm's process-wide state: its configuration is read once, its macros are
// one global table and its log goes through one callback. Everything that touches them
// holds `library_lock()`, so two transactions in one process never see each other's macros.
#pragma once

#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>

namespace imgcreate::install::rpm {

inline std::recursive_mutex& library_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

namespace detail {
// Outside a LogCapture, rpm's messages go to the log too, never raw to stderr.
inline int log_rpm_message(rpmlogRec rec, rpmlogCallbackData) {
    std::string text = std::string("rpm: ") + (rpmlogRecMessage(rec) ? rpmlogRecMessage(rec) : "");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (rpmlogRecPriority(rec) <= RPMLOG_WARNING) log::warning(text);
    else log::debug(text);
    return 0;
}
}  // namespace detail

// Holds librpm for the caller and makes sure its configuration has been read.
[[nodiscard]] inline std::unique_lock<std::recursive_mutex> library_lock() {
    std::unique_lock lock(library_mutex());
    static bool configured = false;
    if (!configured) {
        rpmlogSetCallback(&detail::log_rpm_message, nullptr);
        if (rpmReadConfigFiles(nullptr, nullptr) != 0)
            throw InstallError("cannot read rpm's configuration (rpmrc, macros): is the 'rpm' package intact?");
        configured = true;
    }
    return lock;
}

inline std::string expand_macro(const std::string& expression) {
    char* value = rpmExpand(expression.c_str(), nullptr);
    std::string out = value ? value : "";
    free(value);
    return out;
}

// Macros defined at command-line level for the lifetime of the scope, then popped, so
// rpm's own defaults come back (Debian's %_dbpath would otherwise put the database in ~).
class MacroScope {
public:
    MacroScope() = default;
    explicit MacroScope(const std::vector<std::pair<std::string, std::string>>& macros) {
        for (const auto& [name, value] : macros) push(name, value);
    }
    MacroScope(MacroScope&& other) noexcept : pushed_(std::exchange(other.pushed_, {})) {}
    MacroScope& operator=(MacroScope&&) = delete;
    MacroScope(const MacroScope&) = delete;
    ~MacroScope() {
        for (auto it = pushed_.rbegin(); it != pushed_.rend(); ++it) rpmPopMacro(nullptr, it->c_str());
    }

    void push(const std::string& name, const std::string& value) {
        if (rpmPushMacro(nullptr, name.c_str(), nullptr, value.c_str(), RMIL_CMDLINE) != 0)
            throw InstallError("cannot define rpm macro %" + name + " as '" + value + "'");
        pushed_.push_back(name);
    }

private:
    std::vector<std::string> pushed_;
};

// While alive, rpm's log messages go to imgcreate's log instead of stderr, and the
// warnings and errors among them are kept so a failure can quote what rpm said.
class LogCapture {
public:
    LogCapture() {
        previous_ = rpmlogSetCallback(&LogCapture::on_message, this);
        previous_mask_ = rpmlogSetMask(RPMLOG_UPTO(RPMLOG_INFO));
    }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;
    ~LogCapture() {
        rpmlogSetCallback(previous_, nullptr);
        rpmlogSetMask(previous_mask_);
    }

    // Messages at warning level or worse since the last take().
    std::vector<std::string> take() { return std::exchange(messages_, {}); }
    std::string take_text() {
        std::string text;
        for (auto& m : take()) text += (text.empty() ? "" : "\n") + m;
        return text;
    }

private:
    static int on_message(rpmlogRec rec, rpmlogCallbackData data) {
        auto* self = static_cast<LogCapture*>(data);
        std::string text = rpmlogRecMessage(rec) ? rpmlogRecMessage(rec) : "";
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        const rpmlogLvl level = rpmlogRecPriority(rec);
        if (level <= RPMLOG_WARNING) {
            self->messages_.push_back(text);
            log::debug("rpm: ", level <= RPMLOG_ERR ? "error: " : "warning: ", text);
        } else {
            log::debug("rpm: ", text);
        }
        return 0;  // handled: rpm prints nothing itself
    }

    rpmlogCallback previous_ = nullptr;
    int previous_mask_ = 0;
    std::vector<std::string> messages_;
};

}  // namespace imgcreate::install::rpm
