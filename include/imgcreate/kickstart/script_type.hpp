// imgcreate — which kickstart script section a script comes from (%pre, %pre-install, %post,
// %onerror, %traceback), apart from the parser so the creator can name them cheaply.
#pragma once

namespace imgcreate::kickstart {

enum class ScriptType { pre, pre_install, post, onerror, traceback };

inline const char* section_name(ScriptType t) {
    switch (t) {
        case ScriptType::pre: return "%pre";
        case ScriptType::pre_install: return "%pre-install";
        case ScriptType::post: return "%post";
        case ScriptType::onerror: return "%onerror";
        case ScriptType::traceback: return "%traceback";
    }
    return "";
}

}  // namespace imgcreate::kickstart
