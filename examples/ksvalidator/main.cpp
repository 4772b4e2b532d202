// ksvalidator — checks kickstart files the way pykickstart's ksvalidator does (newest Fedora
// syntax): every error is printed as FILE:LINE: message. Like pykickstart's, it counts what
// pykickstart warns about (deprecated options and commands, duplicates) as errors;
// --allow-warnings prints those as FILE:LINE: warning: message and lets them pass. Notes of
// our own (a later single-use command overriding an earlier one) never fail a file.
// Exit status: 0 when every file is valid, 1 otherwise.
#include <glob.h>

#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include <imgcreate/kickstart/validate.hpp>

namespace po = boost::program_options;
namespace ks = imgcreate::kickstart;

namespace {

const char* usage = "usage: ksvalidator [options] ksfile [ksfile...]";

bool supported_version(const std::string& v) { return v == "DEVEL" || v == "F45"; }

std::vector<std::string> expand(const std::string& pattern) {
    std::vector<std::string> out;
    if (ks::is_url(pattern)) {
        out.push_back(pattern);
        return out;
    }
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description visible("options");
    visible.add_options()
        ("firsterror,e", "halt after the first error or warning")
        ("followincludes,i", "parse include files when %include is seen")
        ("listversions,l", "list the available versions of kickstart syntax")
        ("version,v", po::value<std::string>()->default_value("DEVEL"), "version of kickstart syntax to validate against")
        ("allow-warnings", "print warnings (deprecated options, duplicates) without counting them as errors")
        ("help,h", "show this help message and exit");
    po::options_description all;
    all.add(visible).add_options()("ksfile", po::value<std::vector<std::string>>(), "filename or URL to read from");
    po::positional_options_description pos;
    pos.add("ksfile", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << usage << "\nksvalidator: error: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << usage << "\n\npositional arguments:\n  ksfile                filename or URL to read from\n\n" << visible;
        return 0;
    }
    if (vm.count("listversions")) {
        std::cout << "DEVEL\nF45\n";
        return 0;
    }
    const std::string version = vm["version"].as<std::string>();
    if (!supported_version(version)) {
        std::cout << "The version " << version << " is not supported by this validator (it knows DEVEL, which is F45)\n";
        return 1;
    }
    if (!vm.count("ksfile")) {
        std::cout << usage << "\n";
        return 1;
    }
    std::vector<std::string> files;
    for (const auto& p : vm["ksfile"].as<std::vector<std::string>>()) {
        auto e = expand(p);
        files.insert(files.end(), e.begin(), e.end());
    }
    if (files.empty()) {
        std::cout << "No files match the patterns.\n";
        return 1;
    }
    ks::ParseOptions opts;
    opts.warnings_are_errors = vm.count("allow-warnings") == 0;
    opts.follow_includes = vm.count("followincludes") > 0;
    const bool first_error = vm.count("firsterror") > 0;
    std::size_t problems = 0;
    for (const auto& file : files) {
        std::cout << "\nChecking kickstart file " << file << "\n\n";
        const ks::Validation v = ks::validate_file(file, opts, first_error);
        for (const auto& w : v.warnings) std::cout << w.to_string() << "\n";
        for (const auto& e : v.errors) std::cout << e.what() << "\n";
        problems += v.errors.size();
        if (first_error && problems) break;
    }
    return problems ? 1 : 0;
}
