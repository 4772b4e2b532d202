// imgcreate — the resolved package set written down, so a later build installs exactly it
// (no solving, no metadata: each line says where the package is and what its checksum is).
//
//   # imgcreate lockfile 1
//   <name> <epoch> <version> <release> <arch> <repo> <checksum_type>:<checksum> <download_size> <location>
#pragma once

#include <imgcreate/install/package.hpp>
#include <imgcreate/install/repo_config.hpp>
#include <imgcreate/support/error.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace imgcreate::install {

inline constexpr const char* lockfile_header = "# imgcreate lockfile 1";

inline void write_lockfile(const std::filesystem::path& path, const std::vector<Package>& packages) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp);
        if (!out) throw InstallError(errno_message("cannot write lockfile", tmp, errno), path.string());
        out << lockfile_header << "\n";
        for (const auto& p : packages)
            out << p.name << ' ' << (p.epoch.empty() ? "0" : p.epoch) << ' ' << p.version << ' ' << p.release << ' '
                << p.arch << ' ' << p.repo << ' ' << p.checksum_type << ':' << p.checksum << ' ' << p.download_size
                << ' ' << p.location << '\n';
        out.flush();
        if (!out) throw InstallError(errno_message("cannot write lockfile", tmp, errno), path.string());
    }
    std::filesystem::rename(tmp, path);
}

// Reads a lockfile; every package must come from one of `repos` (whose first baseurl becomes
// its base_url). Errors name the file and line.
inline std::vector<Package> read_lockfile(const std::filesystem::path& path, const std::vector<RepoConfig>& repos) {
    std::ifstream in(path);
    if (!in) throw InstallError(errno_message("cannot read lockfile", path, errno), path.string());
    std::vector<Package> packages;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        const std::string where = path.string() + ":" + std::to_string(number);
        if (number == 1 && line != lockfile_header)
            throw InstallError(where + ": not an imgcreate lockfile (expected '" + lockfile_header + "')", path.string());
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        Package p;
        std::string sum;
        fields >> p.name >> p.epoch >> p.version >> p.release >> p.arch >> p.repo >> sum >> p.download_size;
        std::getline(fields >> std::ws, p.location);
        const auto colon = sum.find(':');
        if (!fields.eof() && fields.fail()) throw InstallError(where + ": malformed line '" + line + "'", path.string());
        if (p.location.empty() || colon == std::string::npos)
            throw InstallError(where + ": malformed line '" + line + "'", path.string());
        if (p.epoch == "0") p.epoch.clear();
        p.checksum_type = sum.substr(0, colon);
        p.checksum = sum.substr(colon + 1);
        auto repo = std::find_if(repos.begin(), repos.end(), [&](const RepoConfig& r) { return r.id == p.repo; });
        if (repo == repos.end())
            throw InstallError(where + ": " + p.nevra() + " comes from repository '" + p.repo +
                                   "', which this build does not configure",
                               path.string());
        if (!repo->baseurls.empty()) p.base_url = repo->baseurls.front();
        packages.push_back(std::move(p));
    }
    return packages;
}

}  // namespace imgcreate::install
