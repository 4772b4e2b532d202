// imgcreate — `xconfig`: --startxonboot makes graphical.target the default target;
// --defaultdesktop writes /etc/sysconfig/desktop, as livecd-tools does.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/configure/services.hpp>
#include <imgcreate/kickstart/document.hpp>

namespace imgcreate::configure {

inline void apply_xconfig(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.xconfig) return;
    const auto& x = *ks.xconfig;
    if (!x.defaultdesktop.empty()) {
        write_in_root(root, "/etc/sysconfig/desktop", "DESKTOP=" + x.defaultdesktop + "\n");
        log::info("xconfig: /etc/sysconfig/desktop: DESKTOP=", x.defaultdesktop);
    }
    if (!x.startxonboot) return;
    auto unit = detail::find_unit(root, "graphical.target");
    if (!unit) return skipped("xconfig --startxonboot", "graphical.target is not in the image (is systemd installed?)");
    std::filesystem::path link = std::string(systemd_admin_dir) + "/default.target";
    root.mkdirs(systemd_admin_dir);
    root.symlink(link, unit->path.string());
    log::info("xconfig: ", link.string(), " -> ", unit->path.string());
}

}  // namespace imgcreate::configure
