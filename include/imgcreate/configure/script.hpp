// imgcreate — the kickstart script runner: %pre on the host before anything is mounted,
// %pre-install on the host once the root is mounted, %post chrooted in the root (or on the
// host with --nochroot). Unlike livecd-tools, scripts get a known environment (PATH, HOME,
// LANG, ... from clean_environment(), plus INSTALL_ROOT on the host once a root exists),
// --log is honoured, and a script can be given a time limit.
//
// --log follows anaconda: a chrooted script's log path is inside the root, a host script's
// on the host. Anaconda's own install root, /mnt/sysimage, is mapped onto the install root,
// so the Fedora kickstarts' `%post --nochroot --log=/mnt/sysimage/root/x.log` lands in the
// image instead of on the build host.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/kickstart/script_type.hpp>
#include <imgcreate/support/separate_compilation.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

namespace imgcreate::kickstart {
struct Kickstart;
struct Script;
}  // namespace imgcreate::kickstart

namespace imgcreate::configure {

struct ScriptRunOptions {
    std::filesystem::path install_root;      // empty before mount(): %pre has no root yet
    std::chrono::milliseconds timeout{0};    // 0: no limit
    std::size_t tail_lines = 20;             // lines of output an error shows
};

struct ScriptResult {
    int exit_status = 0;
    bool timed_out = false;
    std::string output;         // stdout and stderr interleaved (the last lines only after a timeout)
    std::string start_error;    // why the interpreter could not be started, if it could not
    bool failed() const { return timed_out || exit_status != 0; }
};

// "%post script at fedora-live-base.ks:120" — what messages call a script.
IMGCREATE_DECL std::string describe(const kickstart::Script& script);

// Runs one script and reports how it ended; never throws for the script's own failure
// (run_scripts decides what a failure means).
IMGCREATE_DECL ScriptResult run_script(const kickstart::Script& script, const ScriptRunOptions& options);

// Runs every script of `type`, in file order. A failing --erroronfail script, or one that
// ran out of time (its effects are unknown, so the build cannot trust the root), throws
// ConfigError; any other failure is a warning, as in livecd-tools.
IMGCREATE_DECL void run_scripts(const kickstart::Kickstart& ks, kickstart::ScriptType type,
                                const ScriptRunOptions& options);

// The scripts of `type` from the build's kickstart (none for a programmatic build).
IMGCREATE_DECL void run_scripts(const BuildContext& ctx, kickstart::ScriptType type);

}  // namespace imgcreate::configure

#if !defined(IMGCREATE_SEPARATE_COMPILATION)
#include <imgcreate/configure/impl/script.ipp>
#endif
