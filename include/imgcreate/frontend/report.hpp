// imgcreate — the --report file: a JSON record of one build (each phase with its seconds, every
// installed package with NEVRA and size, the deliverable with its size and sha256), written by
// hand so that the frontends need no JSON library.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/install/metadata.hpp>
#include <imgcreate/install/rpmdb.hpp>
#include <imgcreate/support/error.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace imgcreate::frontend {

struct ReportPackage {
    std::string nevra;
    std::uint64_t size = 0;  // installed bytes (RPMTAG_LONGSIZE)
};

struct BuildReport {
    std::string program;
    std::string image_type;
    std::string kickstart;
    std::string name;
    std::string fslabel;
    std::vector<std::pair<std::string, double>> phases;
    std::vector<ReportPackage> packages;
    std::filesystem::path output;
};

// A JSON string literal: quotes, backslashes and control characters escaped.
inline std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

inline std::string json_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

// Every package in the root's rpm database with its installed size, sorted by NEVRA; the
// gpg-pubkey pseudo packages are left out. Called while the install root is still mounted.
inline std::vector<ReportPackage> installed_package_sizes(const std::filesystem::path& root,
                                                          const std::filesystem::path& preferred_dbpath) {
    const auto dbpath = install::detect_dbpath(root, preferred_dbpath);
    if (!install::detail::has_database(install::detail::in_root(root, dbpath))) return {};
    auto lock = install::rpm::library_lock();
    install::rpm::LogCapture log;
    install::rpm::MacroScope macros({{"_dbpath", dbpath.string()}});
    install::rpm::TransactionSet ts(std::filesystem::absolute(root));
    ts.open_database(O_RDONLY);
    std::vector<ReportPackage> out;
    auto it = ts.all();
    while (auto h = it.next()) {
        if (h->name() == "gpg-pubkey") continue;
        out.push_back({h->nevra(), h->number(RPMTAG_LONGSIZE)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.nevra < b.nevra; });
    return out;
}

// Bytes of a file, or of every regular file below a directory.
inline std::uint64_t output_size(const std::filesystem::path& path) {
    if (!std::filesystem::is_directory(path)) return std::filesystem::file_size(path);
    std::uint64_t total = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path, std::filesystem::directory_options::none))
        if (e.is_regular_file() && !e.is_symlink()) total += e.file_size();
    return total;
}

inline std::string sha256_of(const std::filesystem::path& file) {
    return install::detail::file_checksum("report", file, LR_CHECKSUM_SHA256);
}

inline std::string to_json(const BuildReport& r) {
    std::string j = "{\n";
    j += "  \"program\": " + json_string(r.program) + ",\n";
    j += "  \"image_type\": " + json_string(r.image_type) + ",\n";
    j += "  \"kickstart\": " + json_string(r.kickstart) + ",\n";
    j += "  \"name\": " + json_string(r.name) + ",\n";
    j += "  \"fslabel\": " + json_string(r.fslabel) + ",\n";
    j += "  \"phases\": [";
    double total = 0;
    for (std::size_t i = 0; i < r.phases.size(); ++i) {
        total += r.phases[i].second;
        j += std::string(i ? "," : "") + "\n    {\"name\": " + json_string(r.phases[i].first) +
             ", \"seconds\": " + json_number(r.phases[i].second) + "}";
    }
    j += "\n  ],\n  \"total_seconds\": " + json_number(total) + ",\n";
    j += "  \"packages\": [";
    for (std::size_t i = 0; i < r.packages.size(); ++i)
        j += std::string(i ? "," : "") + "\n    {\"nevra\": " + json_string(r.packages[i].nevra) +
             ", \"size\": " + std::to_string(r.packages[i].size) + "}";
    j += "\n  ],\n  \"output\": {\"path\": " + json_string(r.output.string());
    if (!r.output.empty() && std::filesystem::exists(r.output)) {
        j += ", \"size\": " + std::to_string(output_size(r.output));
        j += ", \"sha256\": " +
             (std::filesystem::is_directory(r.output) ? std::string("null") : json_string(sha256_of(r.output)));
    }
    j += "}\n}\n";
    return j;
}

inline void write_report(const std::filesystem::path& path, const BuildReport& report) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp);
        out << to_json(report);
        out.flush();
        if (!out) throw Error(errno_message("cannot write the report", tmp, errno), "report");
    }
    std::filesystem::rename(tmp, path);
}

}  // namespace imgcreate::frontend
