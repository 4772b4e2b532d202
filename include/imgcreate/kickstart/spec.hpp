// imgcreate — the static description of kickstart commands: which options each command takes
// (their spelling, value type, default, whether deprecated or removed), the attributes a
// command keeps, and the order commands are written back in. The table itself is in
// detail/command_table.inc; this header gives the types it is made of and the dynamic Value.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace imgcreate::kickstart {

// One parsed value of a command attribute: absent, a flag, an integer, a string or a list.
using Value = std::variant<std::monostate, bool, long long, std::string, std::vector<std::string>>;

namespace detail {

// A constant written in the table (defaults and constants of options and attributes).
struct Lit {
    enum Kind : std::uint8_t { none, suppress, boolean, integer, string, list };
    Kind kind = none;
    long long i = 0;
    std::string_view s{};
    static constexpr Lit n() { return {}; }
    static constexpr Lit suppressed() { return {suppress, 0, {}}; }
    static constexpr Lit b(bool v) { return {boolean, v ? 1 : 0, {}}; }
    static constexpr Lit i_(long long v) { return {integer, v, {}}; }
    static constexpr Lit s_(std::string_view v) { return {string, 0, v}; }
    static constexpr Lit l_(std::string_view v) { return {list, 0, v}; }  // items separated by '\x1f'

    Value value() const {
        switch (kind) {
            case boolean: return Value(i != 0);
            case integer: return Value(i);
            case string: return Value(std::string(s));
            case list: {
                std::vector<std::string> out;
                std::size_t start = 0;
                while (start < s.size()) {
                    std::size_t end = s.find('\x1f', start);
                    if (end == std::string_view::npos) end = s.size();
                    out.emplace_back(s.substr(start, end - start));
                    start = end + 1;
                }
                return Value(std::move(out));
            }
            default: return Value();
        }
    }
};

enum class Act : std::uint8_t { store, store_true, store_false, store_const, append, append_const, extend, extend_const };
enum class Ty : std::uint8_t { str, int_, comma_split, mountpoint, ksboolean, custom };

// nargs: -1 = exactly one value (argparse's default), -2 = '?', -3 = '*', -4 = '+', n >= 0 = n.
struct OptionSpec {
    std::string_view flags;    // "--a|--b"; empty for a positional argument
    std::string_view dest;     // attribute the value is stored in
    std::string_view metavar;  // positional's name in messages
    Act action = Act::store;
    int nargs = -1;
    Lit konst{};
    Lit def{};
    Ty type = Ty::str;
    std::string_view custom;   // name of the value check when type == custom
    std::string_view choices;  // "a|b|c"
    bool required = false;
    bool deprecated = false;
};

struct AttrSpec {
    std::string_view name;
    Lit def{};
};

struct RemovedOption {
    std::string_view option;
    std::string_view since;  // e.g. "Fedora34"
};

struct CommandSpec {
    std::string_view names;       // "part|partition"
    std::string_view class_name;  // the syntax class it follows (e.g. "F41_Partition")
    bool removed = false;         // using it is an error
    bool multi = false;           // every use adds an item (network, part, ...)
    int priority = -1;            // write order: priority first,
    int order = -1;               // then this rank
    std::span<const OptionSpec> options{};
    std::span<const AttrSpec> attrs{};
    std::span<const RemovedOption> removed_options{};
    std::string_view conflicts;   // "autopart|mount"

    bool has_name(std::string_view n) const {
        std::size_t start = 0;
        while (start <= names.size()) {
            std::size_t end = names.find('|', start);
            if (end == std::string_view::npos) end = names.size();
            if (names.substr(start, end - start) == n) return true;
            start = end + 1;
        }
        return false;
    }
    std::string_view primary_name() const { return names.substr(0, names.find('|')); }
};

// Splits "a|b|c" lazily.
template <typename F> void for_each_alt(std::string_view alts, F&& f) {
    if (alts.empty()) return;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = alts.find('|', start);
        if (end == std::string_view::npos) {
            f(alts.substr(start));
            return;
        }
        f(alts.substr(start, end - start));
        start = end + 1;
    }
}

}  // namespace detail
}  // namespace imgcreate::kickstart
