// imgcreate — `authselect`: runs the root's authselect with the kickstart's arguments.
// Only when the kickstart has the command: livecd-tools forced "select sssd" on every image,
// which overrides the profile the distribution's own authselect package picks.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

namespace imgcreate::configure {

inline void apply_authselect(const kickstart::Kickstart& ks, const RootDir& root) {
    if (ks.authselect.empty()) return;
    auto tool = find_in_root(root, "authselect");
    if (tool.empty()) return skipped("authselect", "authselect is not in the image (install the authselect package)");
    std::vector<std::string> argv{tool.string()};
    for (auto& word : split_words(ks.authselect)) argv.push_back(std::move(word));
    run_tool_in_root("authselect", root, argv);
    log::info("authselect: ran authselect ", ks.authselect);
}

}  // namespace imgcreate::configure
