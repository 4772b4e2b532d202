// imgcreate — `sshkey`: the key appended to ~/.ssh/authorized_keys of the user inside the
// image: the home, uid and gid come from the root's /etc/passwd, never the host's; .ssh is
// 0700 and authorized_keys 0600, both owned by the user, as sshd's StrictModes wants.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <string>

namespace imgcreate::configure {

inline void apply_sshkey(const kickstart::SshKeyData& k, const RootDir& root) {
    auto account = find_account(root, k.username);
    if (!account) {
        log::warning("sshkey: ", k.username, " is not an account in the image's /etc/passwd: key not installed");
        return;
    }
    std::filesystem::path home = account->home.empty() ? "/" : account->home;
    if (!root.is_directory(home)) {
        root.mkdirs(home, 0700);
        root.chown(home, account->uid, account->gid);
    }
    auto ssh = home / ".ssh";
    auto keys = ssh / "authorized_keys";
    root.mkdirs(ssh, 0700);
    root.chmod(ssh, 0700);
    root.chown(ssh, account->uid, account->gid);
    std::string text = root.exists(keys) ? root.read_file(keys) : std::string();
    std::string key = k.key;
    while (!key.empty() && (key.back() == '\n' || key.back() == ' ')) key.pop_back();
    bool present = false;
    for (const auto& line : split(text, '\n')) present = present || line == key;
    if (!present) {
        if (!text.empty() && text.back() != '\n') text += '\n';
        text += key + "\n";
    }
    root.write_file(keys, text, 0600);
    root.chown(keys, account->uid, account->gid);
    log::info("sshkey: ", keys.string(), present ? ": key already there" : ": key added", " (owner ", account->uid, ":",
              account->gid, ")");
}

inline void apply_sshkeys(const kickstart::Kickstart& ks, const RootDir& root) {
    for (const auto& k : ks.sshkeys) apply_sshkey(k, root);
}

}  // namespace imgcreate::configure
