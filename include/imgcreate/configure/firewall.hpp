// imgcreate — `firewall`: firewalld's offline tool inside the root, which edits the zone
// files and enables or disables firewalld.service without a running daemon.
// `--use-system-defaults` leaves the image's own configuration untouched.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

namespace imgcreate::configure {

inline std::vector<std::string> firewall_arguments(const kickstart::Firewall& fw) {
    std::vector<std::string> args{fw.enabled ? "--enabled" : "--disabled"};
    for (const auto& dev : fw.trusts) args.push_back("--trust=" + dev);
    for (const auto& port : fw.ports) args.push_back("--port=" + port);
    for (const auto& service : fw.services) args.push_back("--service=" + service);
    for (const auto& service : fw.remove_services) args.push_back("--remove-service=" + service);
    return args;
}

inline void apply_firewall(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.firewall) return;
    if (ks.firewall->use_system_defaults) {
        log::info("firewall: --use-system-defaults: the image's firewall configuration is kept");
        return;
    }
    auto tool = find_in_root(root, "firewall-offline-cmd");
    if (tool.empty()) return skipped("firewall", "firewall-offline-cmd is not in the image (install firewalld)");
    auto args = firewall_arguments(*ks.firewall);
    std::vector<std::string> argv{tool.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    run_tool_in_root("firewall", root, argv);
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    log::info("firewall: firewall-offline-cmd", shown);
}

}  // namespace imgcreate::configure
