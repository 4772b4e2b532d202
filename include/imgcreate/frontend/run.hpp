// imgcreate — the whole livecd-creator / image-creator program as one call:
//
//   int main(int argc, char** argv) { return imgcreate::frontend::run_creator(argc, argv); }
//
// Exit status: 0 built, 1 the build failed (the first line says why, details follow), 2 a usage
// mistake (with the usage line), 130 interrupted (with what was cleaned up).
#pragma once

#include <imgcreate/frontend/options.hpp>
#include <imgcreate/frontend/report.hpp>
#include <imgcreate/frontend/shell.hpp>
#include <imgcreate/imgcreate.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/namespace.hpp>
#include <imgcreate/support/interrupt.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace imgcreate::frontend {

namespace detail {

inline void print_error(const std::string& program, const std::string& what) {
    Logger::instance().clear_status();
    std::cerr << program << ": error: " << what << "\n";
}

inline std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

inline std::string timing_summary(const std::vector<std::pair<std::string, double>>& phases) {
    std::string line = "phases:";
    double total = 0;
    char buf[96];
    for (const auto& [name, seconds] : phases) {
        std::snprintf(buf, sizeof buf, " %s %.1fs", name.c_str(), seconds);
        line += buf;
        total += seconds;
    }
    std::snprintf(buf, sizeof buf, " (total %.1fs)", total);
    return line + buf;
}

// The steps of livecd-creator's main(), with the report's package list taken while the root is
// still mounted and a shell (-l) between configure and unmount. As in livecd-tools, -l with
// --base-on installs nothing: the shell is there to edit the base.
template <typename Image>
int build(const Options& o, std::shared_ptr<const kickstart::Kickstart> ks) {
    Image creator(std::move(ks), o.creator);
    BuildReport report{o.program, to_string(o.type), o.kickstart, o.creator.name, o.creator.fslabel, {}, {}, {}};
    try {
        creator.mount();
        if (o.shell && !o.creator.base_on.empty())
            creator.skip_install();
        else
            creator.install();
        if (!o.report.empty()) {
            const auto& ctx = creator.context();
            report.packages = installed_package_sizes(ctx.install_root, creator.install_policy().dbpath);
        }
        creator.configure();
        if (o.shell) open_shell(creator.context(), o.type == ImageType::livecd);
        creator.unmount();
        report.output = creator.package();
    } catch (const OutputExistsError& e) {
        creator.cleanup();
        print_error(o.program, "the output " + e.path().string() +
                                   " already exists: remove it or choose another --fslabel or --output");
        return 1;
    } catch (const InterruptedError& e) {
        const auto undone = creator.cleanup();
        Logger::instance().clear_status();
        std::cerr << o.program << ": " << e.what() << "; cleaned up: "
                  << (undone.empty() ? std::string("nothing was held") : join(undone, ", ")) << "\n";
        return 130;
    } catch (const std::exception& e) {
        const auto undone = creator.cleanup();
        print_error(o.program, e.what());
        if (!undone.empty()) log::info("cleaned up: ", join(undone, ", "));
        return 1;
    }
    creator.cleanup();
    report.phases = creator.context().timings.phases;
    if (!o.report.empty()) {
        try {
            write_report(o.report, report);
        } catch (const std::exception& e) {
            print_error(o.program, e.what());
            return 1;
        }
    }
    if (!o.quiet) std::cerr << timing_summary(report.phases) << "\n";
    std::cout << report.output.string() << std::endl;
    return 0;
}

// Throws UsageError when --logfile cannot be opened.
inline void set_up_logging(const Options& o) {
    auto& logger = Logger::instance();
    if (o.debug) logger.set_console_level(LogLevel::debug);
    else if (o.quiet) logger.set_console_level(LogLevel::error);
    else logger.set_console_level(LogLevel::info);
    if (!o.logfile.empty() && !logger.open_file(o.logfile))
        throw UsageError("cannot open the log file " + o.logfile + " for appending: " + std::strerror(errno) +
                         "; give a file in a directory you can write to");
}

// The kickstart, read with its %includes; --repo replaces its repo lines as in livecd-tools.
inline std::shared_ptr<const kickstart::Kickstart> read_kickstart(const Options& o) {
    auto ks = std::make_shared<kickstart::Kickstart>(kickstart::parse_file(o.kickstart));
    for (const auto& w : ks->warnings) log::warning(w.to_string());
    if (o.repos_from_command_line && !ks->repos.empty()) {
        log::warning("ignoring the repo lines of ", o.kickstart, " in favour of --repo");
        ks->repos.clear();
    }
    return ks;
}

// livecd-tools refuses signature checks for kickstart repositories: a repo line names no key.
inline std::optional<std::string> configuration_problem(const Options& o) {
    if (o.pkgverify_given && !o.repos_from_command_line &&
        (o.creator.pkgverify_level == "all" || o.creator.pkgverify_level == "signature"))
        return "--pkgverify-level=" + o.creator.pkgverify_level +
               " needs --repo FILE: a kickstart repo line names no signing key";
    return std::nullopt;
}

}  // namespace detail

inline int run_creator(int argc, const char* const* argv) {
    Options o;
    try {
        o = parse_options(argc, argv);
        if (!o.help) detail::set_up_logging(o);
    } catch (const UsageError& e) {
        const std::string program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "livecd-creator";
        std::cerr << usage_line(program) << "\n" << program << ": error: " << e.what() << "\n"
                  << "Try '" << program << " --help' for the options.\n";
        return 2;
    }
    if (o.help) {
        std::cout << help_text(o.program);
        return 0;
    }
    if (o.plugins) log::warning("-p/--plugins is ignored: imgcreate installs with librpm and has no DNF plugins");
    // Root builds as livecd-tools does, in loop-mounted images (unless --no-loop); a user builds in
    // a user namespace of its own, the images made from a directory.
    const bool privileged = ::geteuid() == 0;
    const bool from_tree = !privileged || o.no_loop;
    std::shared_ptr<const kickstart::Kickstart> ks;
    try {
        ks = detail::read_kickstart(o);
        if (o.print_includes) {
            for (const auto& f : ks->files) std::cout << f << "\n";
            return 0;
        }
        if (auto problem = detail::configuration_problem(o)) throw ConfigError(*problem);
        if (!privileged) {
            if (auto problem = mount::user_namespace_problem()) throw UserNamespaceError(*problem);
        }
        if (!privileged && !o.creator.base_on.empty())
            throw ConfigError("--base-on needs root: the base image is loop-mounted, and a build by a user makes its "
                              "image from a directory; run it as root to build on " + o.creator.base_on.string());
        if (o.names_defaulted) log::info("using label '", o.creator.fslabel, "' and name '", o.creator.name, "'");
        if (o.type == ImageType::livecd)
            log::info("using title '", o.creator.title, "' and product '", o.creator.product, "'");
    } catch (const std::exception& e) {
        detail::print_error(o.program, e.what());
        return 1;
    }
    try {
        // Before any thread starts (downloads use threads): the mounts stay private to the build.
        // A user's build forks here: what follows runs as root of a user namespace.
        if (privileged)
            mount::enter_private_mount_namespace();
        else
            mount::enter_user_namespace();
    } catch (const std::exception& e) {
        detail::print_error(o.program, e.what());
        return 1;
    }
    InterruptGuard guard;
    // A closed pipe on stdout or stderr (`... | head`) must not kill the build midway with its
    // mounts and build directory left behind: the writes fail instead, and the build goes on.
    std::signal(SIGPIPE, SIG_IGN);
    switch (o.type) {
        case ImageType::image: return from_tree ? detail::build<LoopImageFromTree>(o, ks) : detail::build<LoopImage>(o, ks);
        case ImageType::fs: return detail::build<FsImage>(o, ks);
        case ImageType::disk: return detail::build<DiskImage>(o, ks);
        default: return from_tree ? detail::build<LiveImageFromTree>(o, ks) : detail::build<LiveImage>(o, ks);
    }
}

inline int run_creator(int argc, char** argv) { return run_creator(argc, const_cast<const char* const*>(argv)); }

}  // namespace imgcreate::frontend
