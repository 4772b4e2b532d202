// imgcreate — `lang`: the system locale in /etc/locale.conf (what systemd and localectl read).
// `--addsupport` only selects langpacks, which is the package set's business, not this file's.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

namespace imgcreate::configure {

inline constexpr const char* default_lang = "en_US.UTF-8";  // what livecd-tools writes for a bare `lang`

inline void apply_lang(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.lang) return;
    std::string lang = ks.lang->lang.empty() ? default_lang : ks.lang->lang;
    std::string text = root.exists("/etc/locale.conf") ? root.read_file("/etc/locale.conf") : std::string();
    write_in_root(root, "/etc/locale.conf", set_assignments(text, {{"LANG", "\"" + lang + "\""}}));
    log::info("lang: /etc/locale.conf: LANG=\"", lang, "\"");
}

}  // namespace imgcreate::configure
