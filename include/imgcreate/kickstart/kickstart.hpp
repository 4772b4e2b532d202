// imgcreate — the kickstart model and parser.
//
//   auto ks = imgcreate::kickstart::parse_file("fedora-live-workstation.ks");
//   if (ks.rootpw) ...; for (const auto& repo : ks.repos) ...;
//   std::string flat = imgcreate::kickstart::to_string(ks);   // writer.hpp
//
// Parsing follows pykickstart (newest Fedora syntax): the same lines are accepted, the same
// mistakes refused — each as a KickstartError naming the file and line — and the same warnings
// collected in Kickstart::warnings.
#pragma once

#include <imgcreate/kickstart/commands.hpp>
#include <imgcreate/kickstart/diagnostic.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/kickstart/model.hpp>
#include <imgcreate/kickstart/options.hpp>
#include <imgcreate/kickstart/parse_options.hpp>
#include <imgcreate/kickstart/sections.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/separate_compilation.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace imgcreate::kickstart {

// Parses the kickstart at `location` (a path, file:// or http(s):// URL) and every file it
// includes. Throws KickstartError (file:line: message) on the first mistake.
IMGCREATE_DECL Kickstart parse_file(const std::string& location, const ParseOptions& options = {});

// Parses kickstart text; `name` is the file name used in messages and the folder relative
// %include paths are taken from ("" = the working folder).
IMGCREATE_DECL Kickstart parse_string(std::string_view text, const std::string& name = "<string>", const ParseOptions& options = {});

// ---- editing ----
// A kickstart is changed through its commands; the typed view and the writer follow.
//
//   kickstart::set_command(ks, "rootpw --lock");   // a single-use command: these values now
//   kickstart::set_command(ks, "repo --name=extra --baseurl=file:///srv/extra");  // one more
//   kickstart::remove_command(ks, "firewall");
//   std::string text = kickstart::to_string(ks);
//
// set_command() takes one command line: a single-use command (rootpw, lang, bootloader, ...)
// gets the line's values (the old ones are dropped, not merged), a multi-use one (repo,
// network, part, user, ...) one more record. The line is checked as ksvalidator checks a
// line: a mistake, a deprecated option or a duplicate (a second repo of the same name) is a
// KickstartError and `ks` is left as it was. `origin` names the line in messages and in
// Command::origin.
IMGCREATE_DECL void set_command(Kickstart& ks, std::string_view line, const std::string& origin = "<set_command>");

// Removes every record of a command (by any of its names); returns how many there were.
IMGCREATE_DECL std::size_t remove_command(Kickstart& ks, std::string_view name);

}  // namespace imgcreate::kickstart

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/kickstart/impl/kickstart.ipp>
#endif
