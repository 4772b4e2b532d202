// imgcreate — `rootpw`: root's password hash written straight into the root's /etc/shadow
// (the other lines, the file's mode and owner kept as found). A plaintext password is
// hashed here with yescrypt; --iscrypted is used as given; --lock puts "!" in front.
// --allow-ssh adds the sshd drop-in anaconda writes, when sshd is in the image.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/configure/password.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <string>

namespace imgcreate::configure {

inline constexpr const char* sshd_root_login_dropin = "/etc/ssh/sshd_config.d/01-permitrootlogin.conf";

namespace detail {

// The shadow text with `user`'s hash (and last-change day, when given) replaced; a missing
// line is appended with the usual aging fields.
inline std::string with_shadow_hash(const std::string& text, const std::string& user, const std::string& hash,
                                    std::optional<long> changed_day) {
    auto lines = split(text, '\n');
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    bool found = false;
    std::string out;
    for (const auto& line : lines) {
        auto f = split(line, ':');
        if (!found && f.size() >= 2 && f[0] == user) {
            found = true;
            f[1] = hash;
            if (changed_day && f.size() >= 3) f[2] = std::to_string(*changed_day);
            std::string joined;
            for (std::size_t i = 0; i < f.size(); ++i) joined += (i ? ":" : "") + f[i];
            out += joined + "\n";
        } else {
            out += line + "\n";
        }
    }
    if (!found) out += user + ":" + hash + ":" + (changed_day ? std::to_string(*changed_day) : std::string()) + ":0:99999:7:::\n";
    return out;
}

inline std::string current_shadow_hash(const std::string& text, const std::string& user) {
    for (const auto& line : split(text, '\n')) {
        auto f = split(line, ':');
        if (f.size() >= 2 && f[0] == user) return f[1];
    }
    return {};
}

// Rewrites a file in place of the old one with the same mode and owner.
inline void rewrite_keeping_attributes(const RootDir& root, const std::filesystem::path& rel, const std::string& text) {
    auto st = stat_in_root(root, rel, false);
    if (!st || !S_ISREG(st->st_mode))
        throw ConfigError(rel.string() + " in the install root is not a regular file: refusing to rewrite it", rel.string());
    root.write_file(rel, text, st->st_mode & 07777);
    auto now = stat_in_root(root, rel, false);
    if (now && (now->st_uid != st->st_uid || now->st_gid != st->st_gid)) root.chown(rel, st->st_uid, st->st_gid);
}

}  // namespace detail

// The hash that goes into /etc/shadow for this rootpw/user password (empty: keep the old one).
inline std::string shadow_hash_for(const std::string& password, bool iscrypted, bool lock, const std::string& old_hash) {
    std::string hash;
    if (!password.empty()) hash = iscrypted ? password : hash_password(password);
    else if (lock) hash = old_hash.empty() ? "!" : old_hash;
    if (lock) hash = locked(hash);
    return hash;
}

inline void apply_rootpw(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.rootpw) return;
    const auto& pw = *ks.rootpw;
    if (!root.exists("/etc/shadow"))
        return skipped("rootpw", "/etc/shadow is not in the image (is the setup package installed?)");
    std::string text = root.read_file("/etc/shadow");
    std::string hash = shadow_hash_for(pw.password, pw.iscrypted, pw.lock, detail::current_shadow_hash(text, "root"));
    if (!hash.empty()) {
        // Like passwd, a new plaintext password dates the change; a given hash (usermod -p) does not.
        std::optional<long> day;
        if (!pw.password.empty() && !pw.iscrypted) day = shadow_today();
        detail::rewrite_keeping_attributes(root, "/etc/shadow", detail::with_shadow_hash(text, "root", hash, day));
        log::info("rootpw: root's password set in /etc/shadow (", pw.iscrypted ? "as given" : "yescrypt hash",
                  pw.lock ? ", locked" : "", ")");
    }
    if (!pw.allow_ssh) return;
    if (!root.is_directory("/etc/ssh"))
        return skipped("rootpw --allow-ssh", "sshd is not in the image (no /etc/ssh)");
    write_in_root(root, sshd_root_login_dropin, "PermitRootLogin yes\n", 0600);
    log::info("rootpw: --allow-ssh: ", sshd_root_login_dropin, ": PermitRootLogin yes");
}

}  // namespace imgcreate::configure
