// imgcreate — the bodies of configure/appliers.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/configure/appliers.hpp>
#include <imgcreate/configure/authselect.hpp>
#include <imgcreate/configure/firewall.hpp>
#include <imgcreate/configure/group.hpp>
#include <imgcreate/configure/keyboard.hpp>
#include <imgcreate/configure/lang.hpp>
#include <imgcreate/configure/network.hpp>
#include <imgcreate/configure/rootpw.hpp>
#include <imgcreate/configure/rpm_macros.hpp>
#include <imgcreate/configure/selinux.hpp>
#include <imgcreate/configure/services.hpp>
#include <imgcreate/configure/sshkey.hpp>
#include <imgcreate/configure/timesource.hpp>
#include <imgcreate/configure/timezone.hpp>
#include <imgcreate/configure/user.hpp>
#include <imgcreate/configure/xconfig.hpp>
#include <imgcreate/context.hpp>

namespace imgcreate::configure {

IMGCREATE_DECL void apply_all(const kickstart::Kickstart& ks, const RootDir& root) {
    apply_lang(ks, root);
    apply_keyboard(ks, root);
    apply_timezone(ks, root);
    apply_timesource(ks, root);
    apply_authselect(ks, root);
    apply_firewall(ks, root);
    apply_rootpw(ks, root);
    apply_groups(ks, root);
    apply_users(ks, root);
    apply_sshkeys(ks, root);
    apply_services(ks, root);
    apply_xconfig(ks, root);
    apply_network(ks, root);
    apply_rpm_macros(ks, root);
}

IMGCREATE_DECL void apply_all(const BuildContext& ctx) {
    if (!ctx.kickstart) return;
    apply_all(*ctx.kickstart, RootDir(ctx.install_root));
}

IMGCREATE_DECL void apply_selinux(const BuildContext& ctx) {
    if (!ctx.kickstart) return;
    apply_selinux(*ctx.kickstart, RootDir(ctx.install_root));
}

}  // namespace imgcreate::configure
