// imgcreate — the kickstart parser behind parse_file(), parse_string() and set_command()
// (kickstart.hpp) and the validator (validate.hpp): lines read as pykickstart reads them, into
// the command records and then the typed view.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <imgcreate/kickstart/commands.hpp>
#include <imgcreate/kickstart/diagnostic.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/kickstart/lexer.hpp>
#include <imgcreate/kickstart/model.hpp>
#include <imgcreate/kickstart/options.hpp>
#include <imgcreate/kickstart/parse_options.hpp>
#include <imgcreate/kickstart/reader.hpp>
#include <imgcreate/kickstart/sections.hpp>
#include <imgcreate/support/error.hpp>

namespace imgcreate::kickstart {

namespace detail {

inline bool blank_or_comment(std::string_view line) {
    std::size_t i = 0, n = 0;
    while (i < line.size() && (n = py_space_len(line, i)) != 0) i += n;
    return i == line.size() || line[i] == '#';
}

inline std::string_view lstrip_view(std::string_view s) {
    std::size_t i = 0, n = 0;
    while (i < s.size() && (n = py_space_len(s, i)) != 0) i += n;
    return s.substr(i);
}

inline std::string_view first_word(std::string_view s) {
    s = lstrip_view(s);
    std::size_t j = 0;
    while (j < s.size() && py_space_len(s, j) == 0) ++j;
    return s.substr(0, j);
}

// Where the line that starts at `pos` ends (past its line break), as Python's splitlines()
// breaks lines: at \n, \r\n, \r, \v, \f, \x1c, \x1d, \x1e, U+0085, U+2028 and U+2029.
inline std::size_t line_end(std::string_view text, std::size_t pos) {
    const std::size_t n = text.size();
    for (std::size_t i = pos; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x80) continue;  // the common case
        if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) return i + 1;
        if (c == '\r') return i + 1 < n && text[i + 1] == '\n' ? i + 2 : i + 1;
        if (c == 0xC2 && i + 1 < n && static_cast<unsigned char>(text[i + 1]) == 0x85) return i + 2;
        if (c == 0xE2 && i + 2 < n && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(text[i + 2]) == 0xA8 || static_cast<unsigned char>(text[i + 2]) == 0xA9))
            return i + 3;
    }
    return n;
}

// The offset of the first byte that is not part of well-formed UTF-8, or npos.
inline std::size_t invalid_utf8(std::string_view s) {
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;  // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return i;
        if (i + len > n) return i;
        const auto c1 = static_cast<unsigned char>(s[i + 1]);
        if (c1 < lo || c1 > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
        i += len;
    }
    return std::string_view::npos;
}

inline bool is_section(std::string_view w) {
    return w == "%packages" || w == "%pre" || w == "%pre-install" || w == "%post" || w == "%onerror" ||
           w == "%traceback" || w == "%certificate" || w == "%addon" || w == "%anaconda";
}

class Parser {
public:
    Parser(Kickstart& ks, const ParseOptions& opts) : ks_(ks), opts_(opts) {}

    void read_location(const std::string& location, const Origin* from) {
        if (stack_.size() >= opts_.max_include_depth)
            throw KickstartError(from ? from->file : location, from ? from->line : 0,
                                 "%include nesting deeper than " + std::to_string(opts_.max_include_depth) + " levels");
        for (const auto& open : stack_) {
            if (open == location) {
                std::string chain;
                for (const auto& s : stack_) chain += s + " -> ";
                throw KickstartError(from ? from->file : location, from ? from->line : 0,
                                     "%include cycle: " + chain + location);
            }
        }
        std::string text;
        try {
            text = load_location(location);
        } catch (const KickstartError&) {
            throw;
        } catch (const Error& e) {
            if (from) throw KickstartError(from->file, from->line, "Unable to open %include file: " + std::string(e.what()));
            throw KickstartError(location, 0, "Unable to open input kickstart file: " + std::string(e.what()));
        }
        read_text(text, location);
    }

    void read_text(std::string_view text, const std::string& name) {
        read_lines(text, name);
        if (stack_.empty()) finish();
    }

    // Adds one command line to a kickstart parsed before, as if it stood at the end of the
    // file; `name` names it in messages.
    void edit_line(std::string_view line, const std::string& name) {
        for (std::size_t i = 0; i < ks_.commands.size(); ++i) {
            const std::size_t idx = spec_index(ks_.commands[i].spec);
            seen_[idx] = true;
            if (!ks_.commands[i].spec->multi) single_[idx] = i;
        }
        names_.push_back(std::make_unique<std::string>(name));
        const std::string* file = names_.back().get();
        line_ = line;
        ctx_.file = file;
        ctx_.line = 1;
        ctx_.warnings = &ks_.warnings;
        ctx_.warnings_are_errors = true;  // an edit leaves a kickstart ksvalidator accepts
        if (line.find('\n') != std::string_view::npos && line.find('\n') + 1 != line.size())
            ctx_.fail("Give one command line at a time, not several.");
        SplitError err = split_words(line, words_, true);
        if (err != SplitError::none) ctx_.fail(to_message(err));
        if (words_.empty()) ctx_.fail("The command line is empty.");
        if (words_[0][0] == '%') ctx_.fail(words_[0] + " is not a command: sections are edited through Kickstart::packages and Kickstart::scripts.");
        editing_ = true;
        // a single-use command is replaced: the line's values, not merged with the old ones
        if (const CommandSpec* spec = find_command(words_[0]); spec && !spec->multi && !spec->removed)
            if (auto it = single_.find(spec_index(spec)); it != single_.end())
                ks_.commands[it->second].data = CommandData(spec->attrs);
        command(line, *file, 1);
    }

private:
    enum class State { commands, packages, script, certificate, addon };

    // Reads the text of one file (or %ksappend'ed text) line by line, each line with its line
    // break, lines broken where Python's splitlines() breaks them (pykickstart reads so).
    // `appended`: text spliced in by %ksappend, which is not searched for %ksappend again.
    void read_lines(std::string_view text, const std::string& name, bool appended = false) {
        // %ksappend is done by pykickstart's preprocessing of the top file only
        const bool ksappend_here = opts_.process_ksappend && stack_.empty() && !appended;
        stack_.push_back(name);
        ks_.files.push_back(name);
        // ks_.files may reallocate; keep our own copy of the name for origins
        names_.push_back(std::make_unique<std::string>(name));
        const std::string* file = names_.back().get();
        if (std::size_t bad = invalid_utf8(text); bad != std::string_view::npos) {
            std::size_t lineno = 1;
            for (std::size_t p = 0; (p = line_end(text, p)) <= bad && p < text.size();) ++lineno;
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[bad])));
            throw KickstartError(*file, lineno,
                                 "The file is not valid UTF-8: byte " + std::string(hex) + " at offset " + std::to_string(bad) +
                                     " cannot be decoded. Kickstart files are read as UTF-8; convert it (iconv -t UTF-8).");
        }
        std::size_t lineno = 0;
        std::size_t pos = 0;
        while (pos < text.size()) {
            const std::size_t end = line_end(text, pos);
            std::string_view line = text.substr(pos, end - pos);
            pos = end;
            ++lineno;
            line_ = line;
            ctx_.file = file;
            ctx_.line = lineno;
            ctx_.warnings = &ks_.warnings;
            ctx_.warnings_are_errors = opts_.warnings_are_errors;
            handle_line(line, *file, lineno, ksappend_here);
        }
        stack_.pop_back();
    }

    void handle_line(std::string_view line, const std::string& file, std::size_t lineno, bool ksappend_here) {
        if (ksappend_here && lstrip_view(line).substr(0, 9) == "%ksappend") {
            ksappend(line, file, lineno);
            return;
        }
        if (state_ != State::commands) {
            section_line(line, file, lineno);
            return;
        }
        if (blank_or_comment(line)) {
            if (line.substr(0, 10) == "#platform=") ks_.platform = std::string(trim(line.substr(10)));
            return;
        }
        SplitError err = split_words(line, words_, true);
        if (err != SplitError::none) ctx_.fail(to_message(err));
        if (words_.empty()) return;
        if (words_[0] == "%include") {
            include(file, lineno);
            return;
        }
        if (words_[0] == "%ksappend") return;  // not preprocessed here: pykickstart skips the line
        if (!words_[0].empty() && words_[0][0] == '%') {
            open_section(line, file, lineno);
            return;
        }
        guarded([&] { command(line, file, lineno); });
    }

    template <typename F> void guarded(F&& f) {
        if (!opts_.keep_going) {
            f();
            return;
        }
        try {
            f();
        } catch (const KickstartError& e) {
            ks_.errors.push_back(e);
        }
    }

    void include(const std::string& file, std::size_t lineno) {
        if (words_.size() < 2 || words_[1].empty()) ctx_.fail("%include needs the name of the file to include");
        if (!opts_.follow_includes) return;
        const std::string target = resolve_location(file, words_[1]);
        Origin from{file, lineno};
        const LineContext saved = ctx_;
        read_location(target, &from);
        ctx_ = saved;
    }

    void ksappend(std::string_view line, const std::string& file, std::size_t lineno) {
        // "%ksappend URL": the second blank-separated word (pykickstart splits on ' ')
        std::string_view s = trim(line);
        std::size_t sp = s.find(' ');
        if (sp == std::string_view::npos) ctx_.fail("Illegal url for %ksappend: " + std::string(s));
        std::string_view rest = s.substr(sp + 1);
        std::string target(rest.substr(0, rest.find(' ')));
        if (target.empty()) ctx_.fail("Illegal url for %ksappend: " + std::string(s));
        const std::string where = resolve_location(file, target);
        const LineContext saved = ctx_;
        std::string text;
        try {
            text = load_location(where);
        } catch (const Error& e) {
            throw KickstartError(file, lineno, "Unable to open %ksappend file: " + std::string(e.what()));
        }
        // the appended text is read as if it stood in place of the line (a file that appends
        // itself is read twice, once: appended text is not searched for %ksappend again)
        read_lines(text, where, true);
        ctx_ = saved;
    }

    void open_section(std::string_view line, const std::string& file, std::size_t lineno) {
        const std::string& tag = words_[0];
        if (!is_section(tag)) ctx_.fail("Unknown kickstart section: " + tag);
        section_origin_ = {file, lineno};
        section_tag_ = tag;
        body_.clear();
        addon_lines_.clear();
        if (tag == "%packages") {
            state_ = State::packages;
            guarded([&] { packages_header(ks_.packages, words_, ctx_); });
        } else if (tag == "%certificate") {
            state_ = State::certificate;
            cert_ = Certificate{};
            cert_.origin = section_origin_;
            guarded([&] {
                OptionParser op(certificate_options, {}, "%certificate", ctx_);
                Namespace ns = op.parse(words_, 1);
                auto dir = ns_opt_string(ns, "dir");
                auto type = ns_opt_string(ns, "type");
                if (!dir && !type) ctx_.fail("One of --dir or --type must be specified for %certificate");
                cert_.filename = ns_opt_string(ns, "filename").value_or("");
                cert_.dir = dir;
                cert_.type = type;
            });
        } else if (tag == "%addon" || tag == "%anaconda") {
            state_ = State::addon;
            addon_ = Addon{};
            addon_.section = tag;
            addon_.args = words_;
            std::string_view head = line;
            while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.remove_suffix(1);
            addon_.header = std::string(head);
            addon_.name = tag == "%addon" && words_.size() > 1 ? words_[1] : std::string();
            addon_.origin = section_origin_;
        } else {
            state_ = State::script;
            script_ = Script{};
            script_.origin = section_origin_;
            script_.type = tag == "%pre"            ? ScriptType::pre
                           : tag == "%pre-install"  ? ScriptType::pre_install
                           : tag == "%post"         ? ScriptType::post
                           : tag == "%onerror"      ? ScriptType::onerror
                                                    : ScriptType::traceback;
            script_.chroot = script_.type == ScriptType::post;
            guarded([&] {
                const bool post = script_.type == ScriptType::post;
                OptionParser op(post ? std::span<const OptionSpec>(post_options) : std::span<const OptionSpec>(script_options),
                                {}, tag, ctx_);
                Namespace ns = op.parse(words_, 1);
                script_.interpreter = ns_opt_string(ns, "interpreter").value_or("/bin/sh");
                script_.log = ns_opt_string(ns, "log");
                script_.erroronfail = ns_flag(ns, "errorOnFail");
                if (post) script_.chroot = !ns_flag(ns, "nochroot");
            });
            if (script_.type == ScriptType::traceback)
                guarded([&] { ctx_.warn("The %traceback section is deprecated and may be removed in a future release; use %onerror instead."); });
        }
    }

    void section_line(std::string_view line, const std::string& file, std::size_t lineno) {
        const bool all_lines = state_ != State::packages;
        if (!all_lines && blank_or_comment(line)) return;
        std::string_view ls = lstrip_view(line);
        if (!ls.empty() && ls[0] == '%') {
            std::string_view w = first_word(ls);
            if (is_section(w) || w == "%end" || w == "%include") {
                SplitError err = split_words(line, words_, false);
                if (err != SplitError::none) ctx_.fail(to_message(err));
                if (!words_.empty() && words_[0] == "%end") {
                    close_section();
                    return;
                }
                if (!words_.empty() && words_[0] == "%include") {
                    include(file, lineno);
                    return;
                }
                throw KickstartError(section_origin_.file, section_origin_.line,
                                     "Section " + section_tag_ + " does not end with %end. (" + std::string(w) +
                                         " starts at " + file + ":" + std::to_string(lineno) + ")");
            }
        }
        switch (state_) {
            case State::packages: {
                std::string_view h = line.substr(0, line.find('#'));
                h = trim(h);
                if (h.empty()) return;
                guarded([&] { packages_line(ks_.packages, h, ctx_); });
                return;
            }
            case State::script:
            case State::certificate: body_.append(line); return;
            case State::addon: addon_lines_.emplace_back(line); return;
            default: return;
        }
    }

    void close_section() {
        switch (state_) {
            case State::script: {
                // pykickstart drops scripts with nothing but blanks in them
                const bool empty = lstrip_view(body_).empty();
                if (!empty) {
                    script_.body = body_;
                    ks_.scripts.push_back(std::move(script_));
                }
                break;
            }
            case State::certificate: {
                std::string cert = body_;
                if (!cert.empty() && cert.back() == '\n') cert.pop_back();
                if (trim(cert).empty()) {
                    state_ = State::commands;
                    throw KickstartError(section_origin_.file, section_origin_.line, "The %certificate section is empty");
                }
                cert_.cert = cert;
                ks_.certificates.push_back(std::move(cert_));
                break;
            }
            case State::addon:
                addon_.lines = std::move(addon_lines_);
                ks_.addons.push_back(std::move(addon_));
                break;
            default: break;
        }
        state_ = State::commands;
        body_.clear();
    }

    void finish() {
        if (state_ != State::commands) {
            throw KickstartError(section_origin_.file, section_origin_.line, "Section " + section_tag_ + " does not end with %end.");
        }
    }

    static Command new_command(const std::string& word, const CommandSpec* spec, const std::string& file, std::size_t lineno) {
        return Command{word, Origin{file, lineno}, CommandData(spec->attrs), spec};
    }

    void command(std::string_view, const std::string& file, std::size_t lineno) {
        const std::string& word = words_[0];
        const CommandSpec* spec = find_command(word);
        if (!spec) ctx_.fail("Unknown command: " + (word.empty() ? std::string("''") : word));
        if (spec->removed) ctx_.fail(word + " has been removed.");
        // conflicting commands
        for_each_alt(spec->conflicts, [&](std::string_view other) {
            const CommandSpec* o = find_command(other);
            if (o && seen_[spec_index(o)]) ctx_.fail("The " + word + " and " + std::string(other) + " commands can't be used at the same time.");
        });
        const std::size_t idx = spec_index(spec);
        const bool seen_before = seen_[idx];
        seen_[idx] = true;
        if (spec->multi) {
            Command c = new_command(word, spec, file, lineno);
            parse_command(*spec, words_, line_, c.data, data_of(ks_.commands, spec), ctx_);
            ks_.commands.push_back(std::move(c));
            return;
        }
        auto it = single_.find(idx);
        if (it == single_.end()) {
            ks_.commands.push_back(new_command(word, spec, file, lineno));
            it = single_.emplace(idx, ks_.commands.size() - 1).first;
        } else if (seen_before && !editing_) {
            const Command& prev = ks_.commands[it->second];
            ctx_.note("The " + word + " command overrides the " + prev.name + " command given at " + prev.origin.file + ":" +
                      std::to_string(prev.origin.line) + "; the later one wins.");
        }
        Command& c = ks_.commands[it->second];
        c.name = word;
        c.origin = {file, lineno};
        parse_command(*spec, words_, line_, c.data, {}, ctx_);
    }

    Kickstart& ks_;
    const ParseOptions& opts_;
    std::vector<std::string> stack_;
    std::vector<std::unique_ptr<std::string>> names_;
    std::vector<std::string> words_;
    std::string_view line_;
    LineContext ctx_;
    State state_ = State::commands;
    Origin section_origin_;
    std::string section_tag_;
    std::string body_;
    std::vector<std::string> addon_lines_;
    Script script_;
    Certificate cert_;
    Addon addon_;
    std::array<bool, command_count> seen_{};
    std::map<std::size_t, std::size_t> single_;
    bool editing_ = false;
};

inline std::string text_of(const CommandData& d, std::string_view n) { return d.is_none(n) ? std::string() : d.str(n); }

inline std::optional<long long> int_of(const CommandData& d, std::string_view n) {
    if (d.is_none(n)) return std::nullopt;
    return d.num(n);
}

// Which member of a typed struct takes which attribute.
template <typename T, typename M> using AttrTable = std::initializer_list<std::pair<M T::*, std::string_view>>;

// Most typed fields take one attribute as it is: tables of them keep the copying in one place.
template <typename T>
void copy_attrs(const CommandData& d, T& obj, AttrTable<T, std::string> texts, AttrTable<T, bool> flags = {},
                AttrTable<T, std::optional<long long>> ints = {}) {
    for (const auto& [member, name] : texts) obj.*member = text_of(d, name);
    for (const auto& [member, name] : flags) obj.*member = d.truthy(name);
    for (const auto& [member, name] : ints) obj.*member = int_of(d, name);
}

// Fills the typed view from the command records.
inline void fill_model(Kickstart& ks) {
    finish_packages(ks.packages);
    for (const auto& c : ks.commands) {
        const CommandData& d = c.data;
        const Origin& o = c.origin;
        switch (cmd_of(*c.spec)) {
            case Cmd::rootpw:
                if (d.truthy("password") || d.truthy("lock"))
                    ks.rootpw = RootPw{text_of(d, "password"), d.truthy("isCrypted"), !d.truthy("isCrypted"), d.truthy("lock"),
                                       d.truthy("allow_ssh"), o};
                break;
            case Cmd::timezone:
                ks.timezone = Timezone{d.text("timezone"), d.truthy("isUtc"), d.truthy("nontp"), d.list("ntpservers"), o};
                break;
            case Cmd::timesource:
                ks.timesources.push_back(
                    {text_of(d, "ntp_server"), text_of(d, "ntp_pool"), d.truthy("nts"), d.truthy("ntp_disable"), o});
                break;
            case Cmd::lang: ks.lang = Lang{text_of(d, "lang"), d.list("addsupport"), o}; break;
            case Cmd::keyboard:
                ks.keyboard =
                    Keyboard{text_of(d, "_keyboard"), text_of(d, "vc_keymap"), d.list("x_layouts"), d.list("switch_options"), o};
                break;
            case Cmd::network: {
                using N = NetworkData;
                NetworkData n;
                copy_attrs(d, n,
                           {{&N::device, "device"}, {&N::bootproto, "bootProto"}, {&N::ip, "ip"}, {&N::netmask, "netmask"},
                            {&N::gateway, "gateway"}, {&N::nameserver, "nameserver"}, {&N::hostname, "hostname"},
                            {&N::ipv6, "ipv6"}, {&N::ipv6gateway, "ipv6gateway"}, {&N::essid, "essid"}, {&N::ethtool, "ethtool"},
                            {&N::mtu, "mtu"}, {&N::dhcpclass, "dhcpclass"}, {&N::wepkey, "wepkey"}, {&N::wpakey, "wpakey"},
                            {&N::bondslaves, "bondslaves"}, {&N::bondopts, "bondopts"}, {&N::vlanid, "vlanid"},
                            {&N::interfacename, "interfacename"}, {&N::bridgeslaves, "bridgeslaves"},
                            {&N::bridgeopts, "bridgeopts"}, {&N::teamconfig, "teamconfig"}, {&N::bindto, "bindto"},
                            {&N::ipv4_dns_search, "ipv4_dns_search"}, {&N::ipv6_dns_search, "ipv6_dns_search"}},
                           {{&N::onboot, "onboot"}, {&N::nodns, "nodns"}, {&N::noipv4, "noipv4"}, {&N::noipv6, "noipv6"},
                            {&N::nodefroute, "nodefroute"}, {&N::notksdevice, "notksdevice"}});
                if (!d.is_none("activate")) n.activate = d.truthy("activate");
                n.origin = o;
                ks.network.push_back(std::move(n));
                break;
            }
            case Cmd::firewall:
                if (!d.is_none("enabled") || d.truthy("use_system_defaults"))
                    ks.firewall = Firewall{d.truthy("enabled"), d.truthy("use_system_defaults"), d.list("ports"), d.list("trusts"),
                                           d.list("services"), d.list("remove_services"), o};
                break;
            case Cmd::selinux:
                if (!d.is_none("selinux")) ks.selinux = static_cast<SELinuxMode>(d.num("selinux"));
                break;
            case Cmd::services: ks.services = Services{d.list("enabled"), d.list("disabled"), o}; break;
            case Cmd::bootloader: {
                using B = Bootloader;
                Bootloader b;
                copy_attrs(d, b,
                           {{&B::append, "appendLine"}, {&B::location, "location"}, {&B::password, "password"},
                            {&B::default_entry, "default"}, {&B::boot_drive, "bootDrive"}},
                           {{&B::iscrypted, "isCrypted"}, {&B::disabled, "disabled"}, {&B::leavebootorder, "leavebootorder"},
                            {&B::extlinux, "extlinux"}, {&B::nombr, "nombr"}, {&B::sdboot, "sdboot"}},
                           {{&B::timeout, "timeout"}});
                b.driveorder = d.list("driveorder");
                b.origin = o;
                ks.bootloader = std::move(b);
                break;
            }
            case Cmd::xconfig: ks.xconfig = XConfig{text_of(d, "defaultdesktop"), d.truthy("startX"), o}; break;
            case Cmd::skipx: ks.skipx = d.truthy("skipx"); break;
            case Cmd::repo: {
                using R = RepoData;
                RepoData r;
                copy_attrs(d, r,
                           {{&R::name, "name"}, {&R::baseurl, "baseurl"}, {&R::mirrorlist, "mirrorlist"}, {&R::proxy, "proxy"},
                            {&R::sslcacert, "sslcacert"}, {&R::sslclientcert, "sslclientcert"},
                            {&R::sslclientkey, "sslclientkey"}},
                           {{&R::noverifyssl, "noverifyssl"}, {&R::install, "install"}}, {{&R::cost, "cost"}});
                r.metalink = d.truthy("metalink") ? text_of(d, "metalink") : std::string();
                r.includepkgs = d.list("includepkgs");
                r.excludepkgs = d.list("excludepkgs");
                r.origin = o;
                ks.repos.push_back(std::move(r));
                break;
            }
            case Cmd::url:
                ks.url = Url{text_of(d, "url"), text_of(d, "mirrorlist"), text_of(d, "metalink"), text_of(d, "proxy"),
                             text_of(d, "sslcacert"), text_of(d, "sslclientcert"), text_of(d, "sslclientkey"),
                             d.truthy("noverifyssl"), o};
                break;
            case Cmd::partition: {
                using P = PartitionData;
                PartitionData p;
                copy_attrs(d, p,
                           {{&P::mountpoint, "mountpoint"}, {&P::fstype, "fstype"}, {&P::label, "label"}, {&P::ondisk, "disk"},
                            {&P::onpart, "onPart"}, {&P::onbiosdisk, "onbiosdisk"}, {&P::fsoptions, "fsopts"},
                            {&P::mkfsoptions, "mkfsopts"}, {&P::fsprofile, "fsprofile"}, {&P::passphrase, "passphrase"},
                            {&P::cipher, "cipher"}, {&P::luks_version, "luks_version"}},
                           {{&P::grow, "grow"}, {&P::format, "format"}, {&P::recommended, "recommended"},
                            {&P::asprimary, "primOnly"}, {&P::resize, "resize"}, {&P::hibernation, "hibernation"},
                            {&P::encrypted, "encrypted"}},
                           {{&P::size, "size"}});
                p.maxsize = d.num("maxSizeMB");
                p.origin = o;
                ks.partitions.push_back(std::move(p));
                break;
            }
            case Cmd::clearpart: {
                ClearPart cp;
                if (!d.is_none("type")) cp.type = static_cast<ClearPartType>(d.num("type"));
                cp.drives = d.list("drives");
                cp.devices = d.list("devices");
                cp.initlabel = d.truthy("initAll");
                cp.cdl = d.truthy("cdl");
                cp.disklabel = text_of(d, "disklabel");
                cp.origin = o;
                ks.clearpart = std::move(cp);
                break;
            }
            case Cmd::zerombr: ks.zerombr = d.truthy("zerombr"); break;
            case Cmd::autopart: {
                if (!d.truthy("autopart")) break;
                using A = AutoPart;
                AutoPart a;
                if (!d.is_none("type")) a.type = nth_name(d.num("type"), {"plain", "btrfs", "lvm", "thinp"});
                copy_attrs(d, a,
                           {{&A::fstype, "fstype"}, {&A::passphrase, "passphrase"}, {&A::cipher, "cipher"},
                            {&A::luks_version, "luks_version"}},
                           {{&A::encrypted, "encrypted"}, {&A::nohome, "nohome"}, {&A::noboot, "noboot"}, {&A::noswap, "noswap"},
                            {&A::hibernation, "hibernation"}});
                a.origin = o;
                ks.autopart = std::move(a);
                break;
            }
            case Cmd::reqpart:
                if (d.truthy("reqpart")) ks.reqpart = ReqPart{d.truthy("addBoot"), o};
                break;
            case Cmd::logvol: {
                using L = LogVolData;
                LogVolData l;
                copy_attrs(d, l,
                           {{&L::mountpoint, "mountpoint"}, {&L::name, "name"}, {&L::vgname, "vgname"}, {&L::fstype, "fstype"},
                            {&L::label, "label"}, {&L::fsoptions, "fsopts"}, {&L::mkfsoptions, "mkfsopts"},
                            {&L::poolname, "pool_name"}},
                           {{&L::grow, "grow"}, {&L::format, "format"}, {&L::useexisting, "preexist"},
                            {&L::recommended, "recommended"}, {&L::thin, "thin_volume"}, {&L::thinpool, "thin_pool"},
                            {&L::encrypted, "encrypted"}},
                           {{&L::size, "size"}, {&L::percent, "percent"}});
                l.maxsize = d.num("maxSizeMB");
                l.origin = o;
                ks.logvols.push_back(std::move(l));
                break;
            }
            case Cmd::volgroup:
                ks.volgroups.push_back({text_of(d, "vgname"), d.list("physvols"), int_of(d, "pesize"), d.truthy("format"),
                                        d.truthy("preexist"), o});
                break;
            case Cmd::raid:
                ks.raids.push_back({text_of(d, "mountpoint"), text_of(d, "device"), text_of(d, "level"), text_of(d, "fstype"),
                                    text_of(d, "label"), d.list("members"), d.num("spares"), d.truthy("format"),
                                    d.truthy("preexist"), d.truthy("encrypted"), o});
                break;
            case Cmd::btrfs:
                ks.btrfs.push_back({text_of(d, "mountpoint"), text_of(d, "name"), text_of(d, "label"), text_of(d, "dataLevel"),
                                    text_of(d, "metaDataLevel"), text_of(d, "mkfsopts"), d.list("devices"), d.truthy("subvol"), d.truthy("format"),
                                    d.truthy("preexist"), o});
                break;
            case Cmd::ignoredisk: ks.ignoredisk = IgnoreDisk{d.list("ignoredisk"), d.list("onlyuse"), o}; break;
            case Cmd::user:
                ks.users.push_back({text_of(d, "name"), text_of(d, "password"), text_of(d, "homedir"), text_of(d, "shell"),
                                    text_of(d, "gecos"), d.list("groups"), int_of(d, "uid"), int_of(d, "gid"),
                                    d.truthy("isCrypted"), d.truthy("lock"), o});
                break;
            case Cmd::group: ks.groups.push_back({text_of(d, "name"), int_of(d, "gid"), o}); break;
            case Cmd::sshkey: ks.sshkeys.push_back({text_of(d, "username"), text_of(d, "key"), o}); break;
            case Cmd::sshpw:
                ks.sshpws.push_back({text_of(d, "username"), text_of(d, "password"), d.truthy("isCrypted"), d.truthy("lock"),
                                     d.truthy("sshkey"), o});
                break;
            case Cmd::firstboot:
                if (!d.is_none("firstboot")) {
                    long long v = d.num("firstboot");
                    ks.firstboot = v == 1 ? Firstboot::disable : v == 2 ? Firstboot::reconfig : Firstboot::enable;
                }
                break;
            case Cmd::eula: ks.eula_agreed = d.truthy("agreed"); break;
            case Cmd::displaymode:
                if (!d.is_none("displayMode")) ks.display_mode = static_cast<DisplayMode>(d.num("displayMode"));
                break;
            case Cmd::reboot:
                if (!d.is_none("action")) {
                    long long a = d.num("action");
                    ks.final_action = a == 0 ? FinalAction::halt : a == 1 ? FinalAction::reboot : FinalAction::shutdown;
                }
                break;
            case Cmd::authselect: ks.authselect = text_of(d, "authselect"); break;
            case Cmd::logging: ks.logging = Logging{text_of(d, "host"), text_of(d, "port"), text_of(d, "level"), o}; break;
            case Cmd::liveimg:
                ks.liveimg = Liveimg{text_of(d, "url"), text_of(d, "proxy"), text_of(d, "checksum"), d.truthy("noverifyssl"), o};
                break;
            case Cmd::ostreesetup:
                ks.ostreesetup = OstreeSetup{text_of(d, "osname"), text_of(d, "remote"), text_of(d, "url"), text_of(d, "ref"),
                                             d.truthy("nogpg"), o};
                break;
            default: break;
        }
    }
}

// Fills the typed view again after the commands changed.
inline void refresh_model(Kickstart& ks) {
    static_cast<KickstartModel&>(ks) = KickstartModel{};
    fill_model(ks);
}

// Runs `read` on a parser for a new Kickstart, then fills its typed view.
template <typename Read> Kickstart parse(const ParseOptions& options, Read&& read) {
    Kickstart ks;
    Parser parser(ks, options);
    read(parser);
    fill_model(ks);
    return ks;
}

}  // namespace detail

}  // namespace imgcreate::kickstart
