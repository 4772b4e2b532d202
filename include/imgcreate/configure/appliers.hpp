// imgcreate — every kickstart applier, in livecd-tools' order (lang, keyboard, timezone,
// authselect, firewall, rootpw, services, xconfig, network, rpm macros), with what
// livecd-tools ignores added: NTP sources after timezone, and the account commands
// (group, user, sshkey) after rootpw. SELinux comes apart:
// its relabel must see what %post made, so Creator::configure() runs it after the scripts.
// A build without a kickstart applies nothing.
//
// One header per applier (configure/lang.hpp, configure/network.hpp, ...) for one command.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/support/separate_compilation.hpp>

namespace imgcreate {
class RootDir;
namespace kickstart {
struct Kickstart;
}
}  // namespace imgcreate

namespace imgcreate::configure {

IMGCREATE_DECL void apply_all(const kickstart::Kickstart& ks, const RootDir& root);
IMGCREATE_DECL void apply_all(const BuildContext& ctx);
IMGCREATE_DECL void apply_selinux(const BuildContext& ctx);

}  // namespace imgcreate::configure

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/configure/impl/appliers.ipp>
#endif
