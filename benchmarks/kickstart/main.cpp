// bench_kickstart — parse + validate + flatten a 20,000-line kickstart spread over 50 %include
// files (generated in a temporary folder), and report the throughput and peak memory.
// With PYKICKSTART_DIR set to a pykickstart checkout, its ksflatten runs on the same tree too.
//   bench_kickstart [ITERATIONS]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <imgcreate/kickstart/writer.hpp>

#include "common.hpp"

namespace fs = std::filesystem;
namespace ks = imgcreate::kickstart;

namespace {

constexpr int files = 50;
constexpr int lines_per_file = 400;

// One include file of exactly lines_per_file lines: commands, a %packages part, a %post script.
std::string include_file(int n) {
    std::string s;
    int lines = 0;
    auto add = [&](const std::string& l) {
        s += l;
        s += '\n';
        ++lines;
    };
    add("# part " + std::to_string(n) + " of the benchmark kickstart");
    add("repo --name=repo" + std::to_string(n) + " --baseurl=https://mirror.example.com/repo" + std::to_string(n) +
        "/$releasever/$basearch/ --cost=" + std::to_string(n) + " --excludepkgs=foo,bar");
    add("network --bootproto=static --device=eth" + std::to_string(n) + " --ip=10.0." + std::to_string(n) +
        ".2 --netmask=255.255.255.0 --gateway=10.0." + std::to_string(n) + ".1 --nameserver=10.0.0.1 --activate");
    add("user --name=user" + std::to_string(n) + " --groups=wheel,adm --uid=" + std::to_string(1000 + n) +
        " --password=$6$salt$hash --iscrypted --gecos=\"User " + std::to_string(n) + "\"");
    add("part /srv/data" + std::to_string(n) + " --fstype=xfs --size=" + std::to_string(1024 + n) + " --ondisk=vdb --label=data" +
        std::to_string(n));
    add("services --enabled=sshd,chronyd --disabled=cups");
    add("");
    add("%packages --excludedocs");
    add("@core");
    add("@^server-product-environment");
    for (int i = 0; lines < 230; ++i) {
        if (i % 25 == 0) add("# group " + std::to_string(i));
        else if (i % 10 == 0) add("-excluded-package-" + std::to_string(n) + "-" + std::to_string(i));
        else add("package-" + std::to_string(n) + "-" + std::to_string(i) + (i % 7 == 0 ? ".x86_64" : ""));
    }
    add("%end");
    add("");
    add("%post --erroronfail --log=/root/post-" + std::to_string(n) + ".log");
    for (int i = 0; lines < lines_per_file - 1; ++i)
        add("echo \"configuring step " + std::to_string(i) + " of part " + std::to_string(n) +
            "\" && install -m 0644 /usr/share/doc/x /etc/x" + std::to_string(i));
    add("%end");
    return s;
}


}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10;
    std::string tmpl = (fs::temp_directory_path() / "imgcreate-bench-ks-XXXXXX").string();
    const fs::path dir = ::mkdtemp(tmpl.data());
    std::size_t bytes = 0, lines = 0;
    std::string top = "# benchmark kickstart: 50 included files\nlang en_US.UTF-8\nkeyboard us\ntimezone UTC --utc\n"
                      "rootpw --lock\nbootloader --location=mbr --timeout=1\nzerombr\nclearpart --all\n";
    for (int n = 0; n < files; ++n) top += "%include part-" + std::to_string(n) + ".ks\n";
    std::ofstream(dir / "top.ks") << top;
    bytes += top.size();
    lines += static_cast<std::size_t>(std::count(top.begin(), top.end(), '\n'));
    for (int n = 0; n < files; ++n) {
        const std::string text = include_file(n);
        std::ofstream(dir / ("part-" + std::to_string(n) + ".ks")) << text;
        bytes += text.size();
        lines += static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    }
    const std::string path = (dir / "top.ks").string();

    using imgcreate::bench::self_cpu_seconds;
    double best = 1e9, total = 0, best_cpu = 1e9;
    std::size_t out_size = 0, warnings = 0;
    for (int i = 0; i < iterations; ++i) {
        const double c0 = self_cpu_seconds();
        ks::Kickstart k;
        std::string flat;
        const double s = imgcreate::bench::seconds([&] {
            ks::ParseOptions o;
            o.keep_going = true;  // validate: collect every error
            k = ks::parse_file(path, o);
            flat = ks::to_string(k);
        });
        best_cpu = std::min(best_cpu, self_cpu_seconds() - c0);
        if (!k.errors.empty()) {
            std::cerr << "unexpected error: " << k.errors.front().what() << "\n";
            return 1;
        }
        out_size = flat.size();
        warnings = k.warnings.size();
        best = std::min(best, s);
        total += s;
    }
    const double mb = static_cast<double>(bytes) / 1e6;
    std::printf("kickstart: %zu lines, %.2f MB in %d files (+ top), flattened to %.2f MB, %zu warnings\n", lines, mb, files,
                static_cast<double>(out_size) / 1e6, warnings);
    std::printf("imgcreate parse+validate+flatten: best %.2f ms, mean %.2f ms over %d runs -> %.1f MB/s (best), %.1f MB/s (mean)\n",
                best * 1e3, total / iterations * 1e3, iterations, mb / best, mb / (total / iterations));
    std::printf("imgcreate CPU time (unaffected by other load on the machine): best %.2f ms -> %.1f MB/s\n", best_cpu * 1e3,
                mb / best_cpu);
    std::printf("peak RSS: %.1f MiB\n", static_cast<double>(imgcreate::bench::self_peak_kb()) / 1024.0);
    std::printf("target: >= 50 MB/s (best wall time): %s\n", mb / best >= 50.0 ? "met" : "NOT met");

    if (const char* pyks = std::getenv("PYKICKSTART_DIR")) {
        const std::string cmd = "cd '" + dir.string() + "' && PYTHONPATH='" + pyks +
                                "' python3 -c 'import sys; from tools import ksflatten; sys.exit(ksflatten.main([\"-c\",\"top.ks\",\"-o\",\"/dev/null\"])[0])' 2>/dev/null";
        int rc = 0;
        const double s = imgcreate::bench::seconds([&] { rc = std::system(cmd.c_str()); });
        std::printf("pykickstart ksflatten (same tree): %.2f ms -> %.1f MB/s (exit %d)\n", s * 1e3, mb / s, rc);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return 0;
}
