// imgcreate — where a piece of a kickstart came from, and the warnings parsing collects.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <imgcreate/support/error.hpp>

namespace imgcreate::kickstart {

// The file (path or URL, as the user or the %include named it) and 1-based line.
struct Origin {
    std::string file;
    std::size_t line = 0;
    bool operator==(const Origin&) const = default;
};

// A problem that does not stop parsing: a deprecated option or command, a duplicate item, a
// later single-use command overriding an earlier one, ...
struct KickstartWarning {
    std::string file;
    std::size_t line = 0;
    std::string message;
    // true: pykickstart warns too (a KickstartParseWarning), and its ksvalidator counts it as
    // an error; false: a note of imgcreate's own that pykickstart takes silently (a later
    // single-use command overriding an earlier one).
    bool parse_warning = true;

    // "FILE:LINE: warning: message"
    std::string to_string() const {
        std::string where = file.empty() ? std::string("<string>") : file;
        if (line > 0) where += ":" + std::to_string(line);
        return where + ": warning: " + message;
    }
};

}  // namespace imgcreate::kickstart
