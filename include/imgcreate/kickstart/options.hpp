// imgcreate — the option parser of kickstart commands and section headers. It follows the
// rules pykickstart's KSOptionParser inherits from Python's argparse, so a line is accepted or
// refused exactly as there: --opt=value and --opt value, unambiguous prefixes of long options,
// positionals interleaved with options, store/store_true/append/extend actions, typed values
// (int, boolean, comma list, mount point, choices), required options, deprecated options (a
// warning) and removed ones (an error that says so).
#pragma once

#include <cctype>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <imgcreate/kickstart/diagnostic.hpp>
#include <imgcreate/kickstart/spec.hpp>
#include <imgcreate/support/error.hpp>

namespace imgcreate::kickstart::detail {

inline bool py_isspace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }


// Where errors and warnings of the line being parsed go.
struct LineContext {
    const std::string* file = nullptr;
    std::size_t line = 0;
    std::vector<KickstartWarning>* warnings = nullptr;
    bool warnings_are_errors = false;  // a parse warning is thrown as a KickstartError

    [[noreturn]] void fail(std::string message) const {
        throw KickstartError(file ? *file : std::string(), line, std::move(message));
    }
    void warn(std::string message) const {
        if (warnings_are_errors) fail(std::move(message));
        if (warnings) warnings->push_back({file ? *file : std::string(), line, std::move(message), true});
    }
    // a note of our own (never an error)
    void note(std::string message) const {
        if (warnings) warnings->push_back({file ? *file : std::string(), line, std::move(message), false});
    }
};

// Python's repr() of a string, as argparse puts it in its messages.
inline std::string py_repr(std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char q = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == static_cast<unsigned char>(q)) { out += '\\'; out += static_cast<char>(c); }
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else out += static_cast<char>(c);
    }
    out += q;
    return out;
}

inline std::string py_list_repr(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += py_repr(items[i]);
    }
    return out + "]";
}

// Length of the whitespace character (Python's str.isspace) that starts at s[i], or 0. The
// text is UTF-8: besides the ASCII ones, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
// U+2029, U+202F, U+205F and U+3000 are whitespace to Python's strip(), split() and isspace().
inline std::size_t py_space_len(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    const unsigned c = b(0);
    if (c < 0x80) return py_isspace(static_cast<unsigned char>(c)) ? 1 : 0;
    if (c == 0xC2) return (b(1) == 0x85 || b(1) == 0xA0) ? 2 : 0;
    if (c == 0xE1) return (b(1) == 0x9A && b(2) == 0x80) ? 3 : 0;
    if (c == 0xE2) {
        if (b(1) == 0x80) return (b(2) >= 0x80 && b(2) <= 0x8A) || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF ? 3 : 0;
        if (b(1) == 0x81) return b(2) == 0x9F ? 3 : 0;
        return 0;
    }
    if (c == 0xE3) return (b(1) == 0x80 && b(2) == 0x80) ? 3 : 0;
    return 0;
}

// Python's str.strip(): whitespace as Python sees it, both ends.
inline std::string_view trim(std::string_view s) {
    std::size_t b = 0, e = s.size(), n = 0;
    while (b < e && (n = py_space_len(s, b)) != 0) b += n;
    while (e > b) {
        std::size_t k = 1;
        while (k <= 3 && k <= e - b && py_space_len(s, e - k) != k) ++k;
        if (k > 3 || k > e - b) break;
        e -= k;
    }
    return s.substr(b, e - b);
}

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
inline std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Python's int(): blanks around, an optional sign, digits with single '_' between them.
inline bool parse_py_int(std::string_view text, long long& out) {
    std::string_view s = trim(text);
    if (s.empty()) return false;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty() || s.front() == '_' || s.back() == '_') return false;
    unsigned long long v = 0;
    char prev = 0;
    for (char c : s) {
        if (c == '_') {
            if (prev == '_') return false;
        } else if (c >= '0' && c <= '9') {
            if (v > (~0ULL - 9) / 10) return false;  // far beyond any sensible value
            v = v * 10 + static_cast<unsigned>(c - '0');
        } else {
            return false;
        }
        prev = c;
    }
    if (v > static_cast<unsigned long long>(INT64_MAX)) return false;
    out = neg ? -static_cast<long long>(v) : static_cast<long long>(v);
    return true;
}

inline std::vector<std::string> comma_split(std::string_view value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = value.find(',', start);
        std::string_view item = trim(value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (!item.empty()) out.emplace_back(item);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

// os.path.normpath for absolute paths (what pykickstart does to mount points).
inline std::string normpath(std::string_view path) {
    if (path.empty() || path[0] != '/') return std::string(path);
    // POSIX keeps exactly two leading slashes, folds three or more into one.
    std::size_t lead = 0;
    while (lead < path.size() && path[lead] == '/') ++lead;
    std::string prefix = lead == 2 ? "//" : "/";
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view comp = path.substr(i, j - i);
        i = j;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(comp);
    }
    std::string out = prefix;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k) out += '/';
        out += parts[k];
    }
    return out;
}

// The value checks some options run (pykickstart's type callbacks).
inline Value apply_custom_type(std::string_view cb, const std::string& v, const LineContext& ctx) {
    if (cb == "level_cb") {  // btrfs --data/--metadata
        std::string l = ascii_lower(v);
        if (l == "raid0" || l == "0") return std::string("raid0");
        if (l == "raid1" || l == "1") return std::string("raid1");
        if (l == "raid10" || l == "10") return std::string("raid10");
        if (l == "single") return std::string("single");
        ctx.fail("Invalid btrfs level: " + v);
    }
    if (cb == "_level_cb") {  // raid --level
        std::string u = ascii_upper(v);
        for (std::string_view lvl : {"0", "1", "4", "5", "6", "10"}) {
            if (u == lvl || u == "RAID" + std::string(lvl)) return "RAID" + std::string(lvl);
        }
        ctx.fail("Invalid raid level: " + v);
    }
    if (cb == "_type_cb") {  // autopart --type
        std::string l = ascii_lower(v);
        if (l == "plain" || l == "partition") return 0LL;
        if (l == "btrfs") return 1LL;
        if (l == "lvm") return 2LL;
        if (l == "thinp") return 3LL;
        ctx.fail("Invalid autopart type: " + v);
    }
    if (cb == "_when_cb") {  // snapshot --when
        std::string l = ascii_lower(v);
        if (l == "post-install") return 0LL;
        if (l == "pre-install") return 1LL;
        ctx.fail("Invalid parameter to --when= argument: " + v);
    }
    if (cb == "part_cb") {  // part --onpart
        if (v.rfind("/dev/", 0) == 0) return v.substr(5);
        return v;
    }
    if (cb == "firewall_port_cb") {
        std::vector<std::string> out;
        std::size_t start = 0;
        for (;;) {
            std::size_t end = v.find(',', start);
            std::string p(trim(std::string_view(v).substr(start, end == std::string::npos ? std::string::npos : end - start)));
            if (p.find(':') == std::string::npos) p += ":tcp";
            out.push_back(std::move(p));
            if (end == std::string::npos) break;
            start = end + 1;
        }
        return out;
    }
    if (cb == "_teamslaves_cb") {
        // "dev1,dev2'{json}',dev3" -> items "dev\x1econfig"
        std::vector<std::string> out;
        if (v.empty()) return out;
        std::vector<std::string> parts;
        std::size_t start = 0;
        for (;;) {
            std::size_t end = v.find('\'', start);
            parts.push_back(v.substr(start, end == std::string::npos ? std::string::npos : end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
        if (parts.size() % 2 == 1) {
            if (parts.back().empty()) parts.pop_back();
            else parts.emplace_back();
        }
        for (std::size_t k = 0; k + 1 < parts.size(); k += 2) {
            std::string_view devs = parts[k];
            while (!devs.empty() && devs.front() == ',') devs.remove_prefix(1);
            while (!devs.empty() && devs.back() == ',') devs.remove_suffix(1);
            std::vector<std::string> names;
            std::size_t s = 0;
            for (;;) {
                std::size_t e = devs.find(',', s);
                names.emplace_back(devs.substr(s, e == std::string_view::npos ? std::string_view::npos : e - s));
                if (e == std::string_view::npos) break;
                s = e + 1;
            }
            for (std::size_t n = 0; n + 1 < names.size(); ++n) out.push_back(names[n] + '\x1e');
            out.push_back(names.back() + '\x1e' + parts[k + 1]);
        }
        return out;
    }
    if (cb == "_device_cb") return v;
    return v;
}

// One option use found while scanning the arguments.
struct OptionUse {
    int action = -1;           // index into the spec; -1 for an unknown option
    std::string_view flag;     // the spelling matched (full name)
    bool has_explicit = false; // --opt=value
    std::string explicit_value;
};

inline std::string action_name(const OptionSpec& o) {
    if (!o.flags.empty()) {
        std::string out;
        for_each_alt(o.flags, [&](std::string_view f) {
            if (!out.empty()) out += '/';
            out += f;
        });
        return out;
    }
    if (!o.metavar.empty()) return std::string(o.metavar);
    return std::string(o.dest);
}

// The parsed values (argparse's Namespace): dest -> value, in first-seen order.
struct Namespace {
    std::vector<std::pair<std::string_view, Value>> values;

    Value* find(std::string_view dest) {
        for (auto& [k, v] : values)
            if (k == dest) return &v;
        return nullptr;
    }
    const Value* find(std::string_view dest) const {
        for (const auto& [k, v] : values)
            if (k == dest) return &v;
        return nullptr;
    }
    void set(std::string_view dest, Value v) {
        if (Value* p = find(dest)) *p = std::move(v);
        else values.emplace_back(dest, std::move(v));
    }
    bool has(std::string_view dest) const { return find(dest) != nullptr; }
};

class OptionParser {
public:
    OptionParser(std::span<const OptionSpec> spec, std::span<const RemovedOption> removed, std::string_view prog,
                 const LineContext& ctx)
        : spec_(spec), removed_(removed), prog_(prog), ctx_(ctx) {}

    // parse_args: unknown arguments are an error. parse_known_args: they are returned.
    Namespace parse(const std::vector<std::string>& args, std::size_t first = 0) {
        std::vector<std::string> extras;
        Namespace ns = parse_known(args, extras, first);
        if (!extras.empty()) {
            std::string joined;
            for (const auto& e : extras) joined += (joined.empty() ? "" : " ") + e;
            ctx_.fail("unrecognized arguments: " + joined + removed_note(extras));
        }
        return ns;
    }

    Namespace parse_known(const std::vector<std::string>& all_args, std::vector<std::string>& extras, std::size_t first = 0) {
        Namespace ns;
        ns.values.reserve(spec_.size());
        for (std::size_t k = 0; k < spec_.size(); ++k) {
            const OptionSpec& o = spec_[k];
            if (o.def.kind == Lit::suppress) continue;
            bool earlier = false;  // the first option with a dest gives its default
            for (std::size_t m = 0; m < k && !earlier; ++m) earlier = spec_[m].dest == o.dest;
            if (!earlier) ns.values.emplace_back(o.dest, o.def.value());
        }
        // classify the arguments: 'O' option, 'A' argument
        args_.clear();
        uses_.clear();
        pattern_.clear();
        bool after_dashdash = false;
        for (std::size_t i = first; i < all_args.size(); ++i) {
            const std::string& a = all_args[i];
            if (!after_dashdash && a == "--") {
                after_dashdash = true;
                continue;
            }
            OptionUse use;
            if (!after_dashdash && classify_optional(a, use)) {
                pattern_ += 'O';
            } else {
                pattern_ += 'A';
            }
            args_.push_back(&a);
            uses_.push_back(std::move(use));
        }
        seen_.assign(spec_.size(), false);
        positionals_.clear();
        for (std::size_t k = 0; k < spec_.size(); ++k)
            if (spec_[k].flags.empty()) positionals_.push_back(static_cast<int>(k));

        std::size_t max_opt = std::string::npos;
        for (std::size_t k = 0; k < pattern_.size(); ++k)
            if (pattern_[k] == 'O') max_opt = k;
        std::size_t start = 0;
        while (max_opt != std::string::npos && start <= max_opt) {
            std::size_t next_opt = pattern_.find('O', start);
            if (start != next_opt) {
                std::size_t end = consume_positionals(start, ns);
                if (end > start) {
                    start = end;
                    continue;
                }
                start = end;
            }
            if (pattern_[start] != 'O') {
                for (std::size_t k = start; k < next_opt; ++k) extras.push_back(*args_[k]);
                start = next_opt;
            }
            start = consume_optional(start, ns, extras);
        }
        std::size_t stop = consume_positionals(start, ns);
        for (std::size_t k = stop; k < args_.size(); ++k) extras.push_back(*args_[k]);

        std::string required;
        for (std::size_t k = 0; k < spec_.size(); ++k) {
            const OptionSpec& o = spec_[k];
            if (seen_[k]) continue;
            if (o.required) {
                if (!required.empty()) required += ", ";
                required += action_name(o);
            } else if (o.def.kind == Lit::string && o.type != Ty::str && o.type != Ty::custom) {
                // argparse converts a string default that was never replaced
                ns.set(o.dest, convert(o, std::string(o.def.s)));
            }
        }
        if (!required.empty()) ctx_.fail("the following arguments are required: " + required);
        return ns;
    }

    // "(--opt was removed in Fedora34)" for unknown options the syntax used to have.
    std::string removed_note(const std::vector<std::string>& extras) const {
        std::string note;
        for (const auto& e : extras) {
            std::string_view flag = e;
            if (auto eq = flag.find('='); eq != std::string_view::npos) flag = flag.substr(0, eq);
            for (const auto& r : removed_) {
                if (r.option == flag) {
                    note += note.empty() ? " (" : "; ";
                    note += std::string(r.option) + " of " + std::string(prog_) + " was removed in " + std::string(r.since);
                }
            }
        }
        return note.empty() ? note : note + ")";
    }

private:
    bool classify_optional(const std::string& a, OptionUse& use) {
        if (a.empty() || a[0] != '-') return false;
        if (int k = find_flag(a); k >= 0) {
            use.action = k;
            use.flag = matched_;
            note_deprecated(k, a);
            return true;
        }
        if (a.size() == 1) return false;
        std::string_view prefix = a;
        bool has_eq = false;
        std::string_view explicit_value;
        if (auto eq = a.find('='); eq != std::string::npos) {
            prefix = std::string_view(a).substr(0, eq);
            explicit_value = std::string_view(a).substr(eq + 1);
            has_eq = true;
            if (int k = find_flag(prefix); k >= 0) {
                use.action = k;
                use.flag = matched_;
                use.has_explicit = true;
                use.explicit_value = std::string(explicit_value);
                note_deprecated(k, prefix);
                return true;
            }
        }
        // unambiguous prefixes of long options
        if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
            int found = -1;
            std::string_view found_flag;
            std::string matches;
            int count = 0;
            for (std::size_t k = 0; k < spec_.size(); ++k) {
                for_each_alt(spec_[k].flags, [&](std::string_view f) {
                    if (f.size() >= prefix.size() && f.substr(0, prefix.size()) == prefix) {
                        ++count;
                        if (!matches.empty()) matches += ", ";
                        matches += f;
                        found = static_cast<int>(k);
                        found_flag = f;
                    }
                });
            }
            if (count > 1) ctx_.fail("ambiguous option: " + a + " could match " + matches);
            if (count == 1) {
                use.action = found;
                use.flag = found_flag;
                use.has_explicit = has_eq;
                use.explicit_value = std::string(explicit_value);
                note_deprecated(found, found_flag);
                return true;
            }
        }
        // negative numbers and words with blanks are arguments
        if (is_negative_number(a)) return false;
        if (a.find(' ') != std::string::npos) return false;
        use.action = -1;
        return true;
    }

    static bool is_negative_number(std::string_view a) {
        if (a.size() < 2 || a[0] != '-') return false;
        std::string_view r = a.substr(1);
        std::size_t dot = r.find('.');
        auto digits = [](std::string_view d) {
            for (char c : d)
                if (c < '0' || c > '9') return false;
            return true;
        };
        if (dot == std::string_view::npos) return !r.empty() && digits(r);
        return digits(r.substr(0, dot)) && r.size() > dot + 1 && digits(r.substr(dot + 1));
    }

    int find_flag(std::string_view f) {
        for (std::size_t k = 0; k < spec_.size(); ++k) {
            bool hit = false;
            for_each_alt(spec_[k].flags, [&](std::string_view g) {
                if (!hit && g == f) {
                    hit = true;
                    matched_ = g;
                }
            });
            if (hit) return static_cast<int>(k);
        }
        return -1;
    }

    void note_deprecated(int k, std::string_view) {
        const OptionSpec& o = spec_[static_cast<std::size_t>(k)];
        if (!o.deprecated) return;
        std::string first(o.flags.substr(0, o.flags.find('|')));
        ctx_.warn("The " + first + " option of " + std::string(prog_) +
                  " is deprecated and has no effect; a future release may refuse it. "
                  "Remove it from the kickstart file.");
    }

    static int min_args(int nargs) {
        switch (nargs) {
            case -1: return 1;
            case -2: return 0;
            case -3: return 0;
            case -4: return 1;
            default: return nargs;
        }
    }

    std::size_t run_of_args(std::size_t start) const {
        std::size_t k = start;
        while (k < pattern_.size() && pattern_[k] == 'A') ++k;
        return k - start;
    }

    std::size_t consume_positionals(std::size_t start, Namespace& ns) {
        const std::size_t run = run_of_args(start);
        // the longest prefix of the remaining positionals whose minimums fit
        std::size_t take_n = positionals_.size();
        for (;; --take_n) {
            std::size_t need = 0;
            for (std::size_t k = 0; k < take_n; ++k) need += static_cast<std::size_t>(min_args(spec_[positionals_[k]].nargs));
            if (need <= run || take_n == 0) break;
        }
        std::size_t pos = start;
        std::size_t avail = run;
        for (std::size_t k = 0; k < take_n; ++k) {
            const OptionSpec& o = spec_[positionals_[k]];
            std::size_t rest_min = 0;
            for (std::size_t m = k + 1; m < take_n; ++m) rest_min += static_cast<std::size_t>(min_args(spec_[positionals_[m]].nargs));
            std::size_t max_take = avail - rest_min;
            std::size_t count;
            if (o.nargs == -1) count = 1;
            else if (o.nargs == -2) count = max_take >= 1 ? 1 : 0;
            else if (o.nargs == -3 || o.nargs == -4) count = max_take;
            else count = static_cast<std::size_t>(o.nargs);
            std::vector<std::string> vals;
            for (std::size_t m = 0; m < count; ++m) vals.push_back(*args_[pos + m]);
            take_action(positionals_[k], vals, ns, false);
            pos += count;
            avail -= count;
        }
        positionals_.erase(positionals_.begin(), positionals_.begin() + static_cast<long>(take_n));
        return pos;
    }

    std::size_t consume_optional(std::size_t start, Namespace& ns, std::vector<std::string>& extras) {
        OptionUse& use = uses_[start];
        if (use.action < 0) {
            extras.push_back(*args_[start]);
            return start + 1;
        }
        const OptionSpec& o = spec_[static_cast<std::size_t>(use.action)];
        const std::string name = action_name(o);
        const int nargs = o.nargs;
        if (use.has_explicit) {
            // the value after '=' is the argument; options without arguments refuse it
            if (nargs == 0) ctx_.fail("argument " + name + ": ignored explicit argument " + py_repr(use.explicit_value));
            if (nargs > 1) ctx_.fail("argument " + name + ": expected " + std::to_string(nargs) + " arguments");
            std::vector<std::string> vals{use.explicit_value};
            take_action(use.action, vals, ns, true);
            return start + 1;
        }
        std::size_t run = run_of_args(start + 1);
        std::size_t count = 0;
        switch (nargs) {
            case -1:
                if (run < 1) ctx_.fail("argument " + name + ": expected one argument");
                count = 1;
                break;
            case -2: count = run >= 1 ? 1 : 0; break;
            case -3: count = run; break;
            case -4:
                if (run < 1) ctx_.fail("argument " + name + ": expected at least one argument");
                count = run;
                break;
            default:
                if (run < static_cast<std::size_t>(nargs))
                    ctx_.fail("argument " + name + ": expected " + std::to_string(nargs) +
                              (nargs == 1 ? " argument" : " arguments"));
                count = static_cast<std::size_t>(nargs);
        }
        std::vector<std::string> vals;
        for (std::size_t m = 0; m < count; ++m) vals.push_back(*args_[start + 1 + m]);
        take_action(use.action, vals, ns, true);
        return start + 1 + count;
    }

    Value convert(const OptionSpec& o, const std::string& v) {
        const std::string name = action_name(o);
        switch (o.type) {
            case Ty::str: return v;
            case Ty::int_: {
                long long n = 0;
                if (!parse_py_int(v, n)) ctx_.fail("argument " + name + ": invalid int value: " + py_repr(v));
                return n;
            }
            case Ty::comma_split: return comma_split(v);
            case Ty::mountpoint: return normpath(v);
            case Ty::ksboolean: {
                std::string l = ascii_lower(v);
                if (l == "on" || l == "yes" || l == "true" || l == "1") return true;
                if (l == "off" || l == "no" || l == "false" || l == "0") return false;
                ctx_.fail("argument " + name + ": invalid boolean value: " + py_repr(v));
            }
            case Ty::custom: return apply_custom_type(o.custom, v, ctx_);
        }
        return v;
    }

    void check_choice(const OptionSpec& o, const Value& v) {
        if (o.choices.empty()) return;
        const std::string* s = std::get_if<std::string>(&v);
        bool ok = false;
        if (s) for_each_alt(o.choices, [&](std::string_view c) { ok = ok || c == *s; });
        if (!ok) {
            std::string list;
            for_each_alt(o.choices, [&](std::string_view c) {
                if (!list.empty()) list += ", ";
                list += py_repr(c);
            });
            ctx_.fail("argument " + action_name(o) + ": invalid choice: " + (s ? py_repr(*s) : std::string("?")) +
                      " (choose from " + list + ")");
        }
    }

    void take_action(int k, const std::vector<std::string>& vals, Namespace& ns, bool is_optional) {
        const OptionSpec& o = spec_[static_cast<std::size_t>(k)];
        seen_[static_cast<std::size_t>(k)] = true;
        Value value;
        if (vals.empty() && o.nargs == -2) {
            value = is_optional ? o.konst.value() : o.def.value();
            if (auto* s = std::get_if<std::string>(&value)) {
                Value c = convert(o, *s);
                value = std::move(c);
            }
            check_choice(o, value);
        } else if (vals.empty() && o.nargs == -3 && !is_optional) {
            value = o.def.kind != Lit::none ? o.def.value() : Value(std::vector<std::string>{});
        } else if (vals.size() == 1 && (o.nargs == -1 || o.nargs == -2)) {
            value = convert(o, vals[0]);
            check_choice(o, value);
        } else {
            std::vector<std::string> list;
            for (const auto& v : vals) {
                Value c = convert(o, v);
                check_choice(o, c);
                if (auto* s = std::get_if<std::string>(&c)) list.push_back(std::move(*s));
                else if (auto* i = std::get_if<long long>(&c)) list.push_back(std::to_string(*i));
            }
            value = std::move(list);
        }
        switch (o.action) {
            case Act::store: ns.set(o.dest, std::move(value)); break;
            case Act::store_true: ns.set(o.dest, true); break;
            case Act::store_false: ns.set(o.dest, false); break;
            case Act::store_const: ns.set(o.dest, o.konst.value()); break;
            case Act::append:
            case Act::append_const: {
                std::vector<std::string> items;
                if (Value* cur = ns.find(o.dest))
                    if (auto* l = std::get_if<std::vector<std::string>>(cur)) items = *l;
                Value add = o.action == Act::append ? std::move(value) : o.konst.value();
                if (auto* s = std::get_if<std::string>(&add)) items.push_back(*s);
                else if (auto* l = std::get_if<std::vector<std::string>>(&add)) items.insert(items.end(), l->begin(), l->end());
                ns.set(o.dest, std::move(items));
                break;
            }
            case Act::extend:
            case Act::extend_const: {
                Value add = o.action == Act::extend ? std::move(value) : o.konst.value();
                Value* cur = ns.find(o.dest);
                if (cur && !std::holds_alternative<std::monostate>(*cur)) {
                    if (auto* l = std::get_if<std::vector<std::string>>(cur)) {
                        if (auto* al = std::get_if<std::vector<std::string>>(&add)) l->insert(l->end(), al->begin(), al->end());
                        else if (auto* as = std::get_if<std::string>(&add)) l->push_back(*as);
                    } else if (auto* s = std::get_if<std::string>(cur)) {
                        if (auto* as = std::get_if<std::string>(&add)) *s += *as;
                    }
                } else {
                    ns.set(o.dest, std::move(add));
                }
                break;
            }
        }
    }

    std::span<const OptionSpec> spec_;
    std::span<const RemovedOption> removed_;
    std::string_view prog_;
    const LineContext& ctx_;
    std::vector<const std::string*> args_;
    std::vector<OptionUse> uses_;
    std::string pattern_;
    std::vector<bool> seen_;
    std::vector<int> positionals_;
    std::string_view matched_;
};

}  // namespace imgcreate::kickstart::detail
