// imgcreate — `keyboard`: the console keymap in /etc/vconsole.conf and, when X layouts are
// given, the X11 keyboard in /etc/X11/xorg.conf.d/00-keyboard.conf — the two files
// systemd-localed keeps, written directly because localectl needs a running system bus.
#pragma once

#include <imgcreate/configure/in_root.hpp>
#include <imgcreate/kickstart/document.hpp>

#include <string>
#include <vector>

namespace imgcreate::configure {

// systemd's default console font cannot show non-ASCII characters; Fedora uses this one.
inline constexpr const char* default_console_font = "eurlatgr";

namespace detail {

struct XkbSetting {
    std::string layouts, variants, options;
};

// "cz (qwerty)" is layout cz, variant qwerty (anaconda's notation for --xlayouts).
inline XkbSetting xkb_setting(const kickstart::Keyboard& kb) {
    XkbSetting x;
    for (std::size_t i = 0; i < kb.xlayouts.size(); ++i) {
        std::string item = kb.xlayouts[i], layout = item, variant;
        auto open = item.find('(');
        if (open != std::string::npos) {
            layout = item.substr(0, open);
            auto close = item.find(')', open);
            variant = item.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
        }
        auto trim = [](std::string s) {
            while (!s.empty() && s.back() == ' ') s.pop_back();
            while (!s.empty() && s.front() == ' ') s.erase(0, 1);
            return s;
        };
        x.layouts += (i ? "," : "") + trim(layout);
        x.variants += (i ? "," : "") + trim(variant);
    }
    for (std::size_t i = 0; i < kb.switch_options.size(); ++i) x.options += (i ? "," : "") + kb.switch_options[i];
    if (x.variants.find_first_not_of(',') == std::string::npos) x.variants.clear();
    return x;
}

inline std::string xorg_keyboard_conf(const XkbSetting& x) {
    std::string text =
        "# Written by imgcreate from the kickstart's keyboard command, in the format\n"
        "# systemd-localed(8) reads and writes.\n"
        "Section \"InputClass\"\n"
        "        Identifier \"system-keyboard\"\n"
        "        MatchIsKeyboard \"on\"\n"
        "        Option \"XkbLayout\" \"" + x.layouts + "\"\n";
    if (!x.variants.empty()) text += "        Option \"XkbVariant\" \"" + x.variants + "\"\n";
    if (!x.options.empty()) text += "        Option \"XkbOptions\" \"" + x.options + "\"\n";
    return text + "EndSection\n";
}

}  // namespace detail

// The console keymap: --vckeymap, else the old single-argument form, else the first X
// layout's name (the keymaps of the common layouts carry the same names), else "us".
inline std::string console_keymap(const kickstart::Keyboard& kb) {
    if (!kb.vckeymap.empty()) return kb.vckeymap;
    if (!kb.keyboard.empty()) return kb.keyboard;
    if (!kb.xlayouts.empty()) {
        auto layouts = detail::xkb_setting(kb).layouts;
        return layouts.substr(0, layouts.find(','));
    }
    return "us";
}

inline void apply_keyboard(const kickstart::Kickstart& ks, const RootDir& root) {
    if (!ks.keyboard) return;
    const auto& kb = *ks.keyboard;
    std::string keymap = console_keymap(kb);
    std::string text = root.exists("/etc/vconsole.conf") ? root.read_file("/etc/vconsole.conf") : std::string();
    std::vector<std::pair<std::string, std::string>> values{{"KEYMAP", "\"" + keymap + "\""}};
    const bool has_font = text.rfind("FONT=", 0) == 0 || text.find("\nFONT=") != std::string::npos;
    if (!has_font) values.emplace_back("FONT", std::string("\"") + default_console_font + "\"");
    write_in_root(root, "/etc/vconsole.conf", set_assignments(text, values));
    log::info("keyboard: /etc/vconsole.conf: KEYMAP=\"", keymap, "\"");
    if (kb.xlayouts.empty()) return;
    auto x = detail::xkb_setting(kb);
    write_in_root(root, "/etc/X11/xorg.conf.d/00-keyboard.conf", detail::xorg_keyboard_conf(x));
    log::info("keyboard: /etc/X11/xorg.conf.d/00-keyboard.conf: XkbLayout \"", x.layouts, "\"");
}

}  // namespace imgcreate::configure
