// imgcreate — what the rpm transaction reports: each step for a progress display, and in
// the end what it installed and which scriptlets failed without stopping the build.
#pragma once

#include <imgcreate/support/log.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace imgcreate::install {

// One step of the transaction, for a progress display.
struct InstallProgress {
    std::size_t index = 0;   // 1-based position among the packages being installed
    std::size_t total = 0;
    std::string package;     // NEVRA
    std::string phase;       // "verifying", "installing", "%post", "%posttrans", ...
};
using ProgressFunction = std::function<void(const InstallProgress&)>;

// On a terminal a redrawn line; otherwise one log line per installed package.
inline void default_progress(const InstallProgress& p) {
    auto& logger = Logger::instance();
    const std::string counter = std::to_string(p.index) + "/" + std::to_string(p.total);
    if (logger.interactive())
        logger.status("[" + counter + "] " + p.phase + " " + p.package);
    else if (p.phase == "installing")
        log::info("installing ", counter, ": ", p.package);
}

// A scriptlet that failed without stopping the build (%post and later, as rpm treats them).
struct ScriptletWarning {
    std::string package;
    std::string scriptlet;   // "%post", "%triggerin", ...
    std::string message;     // rpm's words (with the exit status)
    std::string output;
};

struct TransactionResult {
    std::vector<std::string> installed;          // NEVRAs, in the order rpm installed them
    std::vector<std::string> already_installed;  // skipped: the root had them
    std::vector<ScriptletWarning> warnings;
    std::chrono::duration<double> elapsed{};
};

}  // namespace imgcreate::install
