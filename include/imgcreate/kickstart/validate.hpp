// imgcreate — validating a kickstart as ksvalidator does: every error and warning, not just
// the first error. Errors of single commands and section headers are collected and parsing
// goes on; a structural error (unknown section, missing %end, unreadable %include, bad
// quoting) ends it and is the last error listed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/kickstart/parser.hpp>

namespace imgcreate::kickstart {

struct Validation {
    std::vector<KickstartError> errors;
    std::vector<KickstartWarning> warnings;
    bool ok() const { return errors.empty(); }
};

namespace detail {
template <typename Read> Validation validate_with(ParseOptions options, Read&& read) {
    Kickstart ks;
    Validation v;
    detail::Parser parser(ks, options);
    try {
        read(parser);
    } catch (const KickstartError& e) {
        ks.errors.push_back(e);
    }
    v.errors = std::move(ks.errors);
    v.warnings = std::move(ks.warnings);
    return v;
}
}  // namespace detail

// `first_error_only` stops at the first error (ksvalidator -e).
inline Validation validate_file(const std::string& location, ParseOptions options = {}, bool first_error_only = false) {
    options.keep_going = !first_error_only;
    return detail::validate_with(options, [&](detail::Parser& p) { p.read_location(location, nullptr); });
}

inline Validation validate_string(std::string_view text, const std::string& name = "<string>", ParseOptions options = {},
                                  bool first_error_only = false) {
    options.keep_going = !first_error_only;
    return detail::validate_with(options, [&](detail::Parser& p) { p.read_text(text, name); });
}

}  // namespace imgcreate::kickstart
