// imgcreate — the bodies of kickstart/kickstart.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/kickstart/parser.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace imgcreate::kickstart {

IMGCREATE_DECL Kickstart parse_file(const std::string& location, const ParseOptions& options) {
    return detail::parse(options, [&](detail::Parser& parser) { parser.read_location(location, nullptr); });
}

IMGCREATE_DECL Kickstart parse_string(std::string_view text, const std::string& name, const ParseOptions& options) {
    return detail::parse(options, [&](detail::Parser& parser) { parser.read_text(text, name); });
}

IMGCREATE_DECL void set_command(Kickstart& ks, std::string_view line, const std::string& origin) {
    Kickstart edited = ks;
    ParseOptions options;
    detail::Parser parser(edited, options);
    parser.edit_line(line, origin);
    detail::refresh_model(edited);
    ks = std::move(edited);
}

IMGCREATE_DECL std::size_t remove_command(Kickstart& ks, std::string_view name) {
    const detail::CommandSpec* spec = detail::find_command(name);
    if (!spec) throw KickstartError("", 0, "Unknown command: " + std::string(name));
    const auto removed = std::erase_if(ks.commands, [&](const Command& c) { return c.spec == spec; });
    if (removed) detail::refresh_model(ks);
    return static_cast<std::size_t>(removed);
}

}  // namespace imgcreate::kickstart
