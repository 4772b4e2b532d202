// ksflatten — reads a kickstart with all its %include files and writes it as one stand-alone
// file, as pykickstart's ksflatten does (the same text, byte for byte).
#include <fstream>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include <imgcreate/kickstart/writer.hpp>

namespace po = boost::program_options;
namespace ks = imgcreate::kickstart;

int main(int argc, char** argv) {
    po::options_description desc("options");
    desc.add_options()
        ("help,h", "show this help message and exit")
        ("config,c", po::value<std::string>(), "Path to kickstart config file")
        ("version,v", po::value<std::string>()->default_value("DEVEL"), "Kickstart version to use for interpreting config")
        ("output,o", po::value<std::string>(), "Write flattened config to OUTPUT");
    po::variables_map vm;
    const char* usage = "usage: ksflatten [-h] -c KSCFG [-v VERSION] [-o OUTPUT]";
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << usage << "\nksflatten: error: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << usage << "\n\n" << desc;
        return 0;
    }
    if (!vm.count("config")) {
        std::cerr << usage << "\nksflatten: error: the following arguments are required: -c/--config\n";
        return 2;
    }
    const std::string config = vm["config"].as<std::string>();
    const std::string version = vm["version"].as<std::string>();
    if (version != "DEVEL" && version != "F45") {
        std::cerr << "The version " << version << " is not supported (DEVEL, which is F45, is)\n";
        return 1;
    }
    std::string text;
    try {
        // pykickstart's ksflatten reads without preprocessing: %ksappend lines are not spliced in
        ks::ParseOptions options;
        options.process_ksappend = false;
        text = ks::flatten(config, options);
    } catch (const imgcreate::KickstartError& e) {
        std::cerr << "Failed to parse kickstart file '" << config << "' : " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "Failed to read kickstart file '" << config << "' : " << e.what() << "\n";
        return 1;
    }
    if (vm.count("output")) {
        const std::string out = vm["output"].as<std::string>();
        std::ofstream f(out, std::ios::binary);
        if (!f) {
            std::cerr << "Failed to open output file '" << out << "' : cannot write there\n";
            return 1;
        }
        f << text;
        if (!f.flush()) {
            std::cerr << "Failed to write output file '" << out << "'\n";
            return 1;
        }
        return 0;
    }
    std::cout << text;
    return std::cout.good() ? 0 : 1;
}
