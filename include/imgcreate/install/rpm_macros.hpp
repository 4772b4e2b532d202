// imgcreate — the rpm macros a kickstart's %packages options set, as livecd-tools sets them:
// used for the transaction and written to /etc/rpm/macros.imgcreate so that later rpm runs
// inside the image keep honouring them.
#pragma once

#include <imgcreate/support/root_path.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate::install {

struct MacroSettings {
    bool exclude_docs = false;                // %packages --excludedocs
    std::vector<std::string> install_langs;   // %packages --instLangs=a:b; empty: all languages
    bool selinux_disabled = false;            // selinux --disabled: no file contexts to apply
};

inline const std::filesystem::path macros_file_path = "/etc/rpm/macros.imgcreate";

inline std::string join_langs(const std::vector<std::string>& langs) {
    std::string joined;
    for (const auto& l : langs) joined += (joined.empty() ? "" : ":") + l;
    return joined;
}

// Name/value pairs in the order the file lists them; empty when nothing differs from rpm's defaults.
inline std::vector<std::pair<std::string, std::string>> image_macros(const MacroSettings& settings) {
    std::vector<std::pair<std::string, std::string>> macros;
    if (settings.exclude_docs) macros.emplace_back("_excludedocs", "1");
    if (!settings.install_langs.empty()) macros.emplace_back("_install_langs", join_langs(settings.install_langs));
    if (settings.selinux_disabled) macros.emplace_back("__file_context_path", "%{nil}");
    return macros;
}

inline std::string macros_file_text(const MacroSettings& settings) {
    std::string text;
    for (const auto& [name, value] : image_macros(settings)) text += "%" + name + " " + value + "\n";
    return text;
}

// Writes /etc/rpm/macros.imgcreate inside the root, or removes a stale one when no macro is set.
inline void write_macros_file(const RootDir& root, const MacroSettings& settings) {
    std::string text = macros_file_text(settings);
    if (text.empty()) {
        root.remove(macros_file_path);
        return;
    }
    root.mkdirs(macros_file_path.parent_path());
    root.write_file(macros_file_path, text, 0644);
}

}  // namespace imgcreate::install
