// imgcreate — GLib's log (librepo's, in its "librepo" domain) through imgcreate's logger.
// GLib's default handler would print straight to stderr ("(process:N): librepo-WARNING **:
// ..."), ahead of the error line that explains it and without the log file seeing it.
#pragma once

#include <imgcreate/support/log.hpp>

#include <glib.h>

#include <mutex>
#include <set>
#include <string>

namespace imgcreate {

namespace detail {
extern "C" inline void log_glib_message(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
    std::string text = std::string(domain ? domain : "glib") + ": " + (message ? message : "");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) log::warning(text);
    else log::debug(text);
}
}  // namespace detail

// From now on, `domain`'s messages go to the log: warnings and worse as warnings, the rest
// as debug lines. Once per domain; later calls do nothing.
inline void route_glib_log(const std::string& domain) {
    static std::mutex mutex;
    static std::set<std::string> routed;
    std::lock_guard lock(mutex);
    if (!routed.insert(domain).second) return;
    const auto all = static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION);
    g_log_set_handler(routed.find(domain)->c_str(), all, detail::log_glib_message, nullptr);
}

}  // namespace imgcreate
