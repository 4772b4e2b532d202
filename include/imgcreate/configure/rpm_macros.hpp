// imgcreate — the rpm macros a kickstart implies (%packages --excludedocs, --inst-langs,
// selinux --disabled) in /etc/rpm/macros.imgcreate, so rpm runs inside the finished image
// keep honouring them; the same file and settings the installer uses (install/rpm_macros.hpp).
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/install/rpm_macros.hpp>
#include <imgcreate/kickstart/document.hpp>

namespace imgcreate::configure {

inline install::MacroSettings macro_settings(const kickstart::Kickstart& ks) {
    install::MacroSettings settings;
    settings.exclude_docs = ks.packages.excludedocs;
    if (ks.packages.inst_langs) {
        // pykickstart passes the value through; rpm separates languages with ':'
        std::string langs = *ks.packages.inst_langs;
        for (auto& c : langs)
            if (c == ',') c = ':';
        for (auto& l : split(langs, ':'))
            if (!l.empty()) settings.install_langs.push_back(l);
    }
    settings.selinux_disabled = ks.selinux == kickstart::SELinuxMode::disabled;
    return settings;
}

inline void apply_rpm_macros(const kickstart::Kickstart& ks, const RootDir& root) {
    auto settings = macro_settings(ks);
    install::write_macros_file(root, settings);
    auto text = install::macros_file_text(settings);
    if (!text.empty()) log::info("rpm macros: ", install::macros_file_path.string(), " written");
}

}  // namespace imgcreate::configure
