// imgcreate — how the kickstart parser reads: includes, %ksappend, keep going, warnings.
#pragma once

#include <cstddef>

namespace imgcreate::kickstart {

struct ParseOptions {
    bool follow_includes = true;   // read %include files (ksvalidator without -i does not)
    // Splice in the files named by %ksappend lines of the top file, as pykickstart's
    // preprocessing does (anaconda, ksvalidator); its ksflatten and livecd-tools do not, and
    // then the lines are skipped. %ksappend lines of included or appended files are never
    // spliced (pykickstart preprocesses the top file only).
    bool process_ksappend = true;
    // Record errors of single commands and section headers in Kickstart::errors and go on
    // (what ksvalidator does); structural errors (unknown section, missing %end, unreadable
    // include, bad quoting) still throw.
    bool keep_going = false;
    // Throw (or with keep_going, record) each parse warning as an error, as pykickstart's
    // ksvalidator does; imgcreate's own notes stay warnings.
    bool warnings_are_errors = false;
    std::size_t max_include_depth = 64;
};

}  // namespace imgcreate::kickstart
