// imgcreate — the bodies of install/kernel_versions.hpp: inline in it by default, compiled once in
// <imgcreate/impl.hpp> with IMGCREATE_SEPARATE_COMPILATION.
#pragma once

#include <imgcreate/install/kernel_versions.hpp>

#include <imgcreate/install/rpm/library.hpp>
#include <imgcreate/install/rpm/transaction_set.hpp>
#include <imgcreate/install/rpmdb.hpp>

#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace imgcreate::install {

IMGCREATE_DECL std::map<std::string, std::vector<std::string>> kernel_versions(const std::filesystem::path& root,
                                                                       const std::filesystem::path& dbpath) {
    std::map<std::string, std::vector<std::string>> kernels;
    const auto root_abs = std::filesystem::absolute(root);
    const auto db = detect_dbpath(root_abs, dbpath);
    if (!detail::has_database(detail::in_root(root_abs, db))) return kernels;

    auto lock = rpm::library_lock();
    rpm::LogCapture log;
    rpm::MacroScope macros({{"_dbpath", db.string()}});
    rpm::TransactionSet ts(root_abs);
    ts.open_database(O_RDONLY);
    static const std::string prefix = "/boot/vmlinuz-";
    auto it = ts.find(RPMDBI_PROVIDENAME, "kernel");
    while (auto h = it.next()) {
        auto& versions = kernels[h->name()];
        for (const auto& file : h->strings(RPMTAG_FILENAMES))
            if (file.rfind(prefix, 0) == 0) versions.push_back(file.substr(prefix.size()));
        std::sort(versions.begin(), versions.end());
    }
    return kernels;
}

}  // namespace imgcreate::install
