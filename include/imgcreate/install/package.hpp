// imgcreate — a package chosen for the transaction: what the resolver hands to the
// downloader and to the rpm transaction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace imgcreate::install {

struct Package {
    std::string name;
    std::string epoch;            // empty when none
    std::string version;
    std::string release;
    std::string arch;
    std::string repo;             // repository id it comes from
    std::string location;         // href relative to the repository's base
    std::string base_url;         // the repository base it was resolved against
    std::string checksum_type;    // "sha256", ...
    std::string checksum;         // hex
    std::uint64_t download_size = 0;
    std::uint64_t install_size = 0;
    std::filesystem::path local_path;  // the .rpm on this host, once downloaded or for a local repo

    std::string evr() const {
        return (epoch.empty() || epoch == "0" ? std::string() : epoch + ":") + version + "-" + release;
    }
    std::string nevra() const { return name + "-" + evr() + "." + arch; }
    friend bool operator==(const Package&, const Package&) = default;
};

}  // namespace imgcreate::install
