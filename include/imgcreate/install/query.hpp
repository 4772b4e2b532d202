// imgcreate — finding packages the way dnf reads a package spec: as NEVRA, name.arch, name,
// name-version-release or name-version (globs allowed in every part), else as a provide,
// else as a file path.
#pragma once

#include <imgcreate/install/package_pool.hpp>
#include <imgcreate/install/solv/queue.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <algorithm>
#include <fnmatch.h>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace imgcreate::install {

struct Nevra {
    std::string name, epoch, version, release, arch;
    bool has_just_name() const { return epoch.empty() && version.empty() && release.empty() && arch.empty(); }
};

enum class NevraForm { nevra, na, name, nevr, nev };

inline bool is_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

namespace detail {

inline bool plain_part(std::string_view s, std::string_view forbidden) {
    return !s.empty() && s.find_first_of(forbidden) == std::string_view::npos;
}

// Splits "[epoch:]version" into epoch and version.
inline bool split_epoch(std::string_view ev, Nevra& n) {
    if (auto colon = ev.find(':'); colon != std::string_view::npos) {
        n.epoch = std::string(ev.substr(0, colon));
        if (n.epoch.empty() || !std::all_of(n.epoch.begin(), n.epoch.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '?'; }))
            return false;
        ev.remove_prefix(colon + 1);
    }
    n.version = std::string(ev);
    return plain_part(n.version, "-:(/=<> ");
}

}  // namespace detail

// One reading of a spec in one form (libdnf's nevra regexes: the name takes as much as it can).
inline std::optional<Nevra> parse_nevra(std::string_view spec, NevraForm form) {
    constexpr std::string_view name_forbidden = ":(/=<> ";
    Nevra n;
    std::string_view rest = spec;
    if (form == NevraForm::nevra || form == NevraForm::na) {
        const auto dot = rest.rfind('.');
        if (dot == std::string_view::npos) return std::nullopt;
        n.arch = std::string(rest.substr(dot + 1));
        if (!detail::plain_part(n.arch, "-:.(/=<> ")) return std::nullopt;
        rest = rest.substr(0, dot);
    }
    if (form == NevraForm::nevra || form == NevraForm::nevr) {
        const auto dash = rest.rfind('-');
        if (dash == std::string_view::npos) return std::nullopt;
        n.release = std::string(rest.substr(dash + 1));
        if (!detail::plain_part(n.release, "-:(/=<> ")) return std::nullopt;
        rest = rest.substr(0, dash);
    }
    if (form != NevraForm::na && form != NevraForm::name) {
        const auto dash = rest.rfind('-');
        if (dash == std::string_view::npos) return std::nullopt;
        if (!detail::split_epoch(rest.substr(dash + 1), n)) return std::nullopt;
        rest = rest.substr(0, dash);
    }
    n.name = std::string(rest);
    if (!detail::plain_part(n.name, name_forbidden)) return std::nullopt;
    return n;
}

class PackageQuery {
public:
    // Needs the pool prepared (providers indexed): names are looked up through whatprovides.
    explicit PackageQuery(const PackagePool& pool) : pool_(pool) {}

    // Packages that take part in solving (not excluded), optionally restricted to one list.
    std::vector<Id> considered(std::vector<Id> ids) const {
        std::erase_if(ids, [&](Id s) { return !pool_.pool().is_considered(s); });
        return ids;
    }

    std::vector<Id> by_name(const std::string& name) const {
        const auto& p = pool_.pool();
        std::vector<Id> out;
        if (is_glob(name)) {
            std::unordered_map<Id, bool> verdict;  // one fnmatch per distinct name
            for_each_package([&](Id s) {
                const Id n = p.solvable(s)->name;
                auto [it, fresh] = verdict.emplace(n, false);
                if (fresh) it->second = ::fnmatch(name.c_str(), p.id2str(n), 0) == 0;
                if (it->second) out.push_back(s);
            });
            return out;
        }
        const Id id = p.str2id(name, false);
        if (!id) return out;
        for (Id s : p.whatprovides(id))
            if (p.solvable(s)->name == id && indexed(s)) out.push_back(s);
        std::sort(out.begin(), out.end());
        return out;
    }

    std::vector<Id> by_nevra(const Nevra& n) const {
        std::vector<Id> out;
        for (Id s : by_name(n.name))
            if (matches(s, n)) out.push_back(s);
        return out;
    }

    // Packages providing `spec` ("name", "name >= 1.2", globs in the name).
    std::vector<Id> by_provides(const std::string& spec) const {
        const auto& p = pool_.pool();
        std::vector<Id> out;
        if (is_glob(spec)) {
            for_each_package([&](Id s) {
                if (provides_glob(s, spec)) out.push_back(s);
            });
            return out;
        }
        const Id dep = parse_dep(spec);
        if (!dep) return out;
        for (Id s : p.whatprovides(dep))
            if (indexed(s)) out.push_back(s);
        return out;
    }

    // Packages owning a file matching `pattern` (searches the file lists loaded).
    std::vector<Id> by_file(const std::string& pattern) const {
        std::vector<Id> out;
        Dataiterator di;
        const int flags = SEARCH_FILES | SEARCH_COMPLETE_FILELIST | (is_glob(pattern) ? SEARCH_GLOB : SEARCH_STRING);
        dataiterator_init(&di, pool_.pool().get(), nullptr, 0, SOLVABLE_FILELIST, pattern.c_str(), flags);
        while (dataiterator_step(&di)) {
            if (indexed(di.solvid)) out.push_back(di.solvid);
            dataiterator_skip_solvable(&di);
        }
        dataiterator_free(&di);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    // Packages whose Obsoletes match one of `targets`.
    std::vector<Id> obsoleters(const std::vector<Id>& targets) const {
        const auto& p = pool_.pool();
        std::vector<Id> out;
        if (targets.empty()) return out;
        if (!obsoletes_index_) build_obsoletes_index();
        for (Id t : targets) {
            auto it = obsoletes_index_->find(p.solvable(t)->name);
            if (it == obsoletes_index_->end()) continue;
            for (const auto& [s, dep] : it->second)
                if (pool_match_nevr(p.get(), p.solvable(t), dep)) out.push_back(s);
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    // dnf's filter_priority then filter_latest_evr: for each name and arch, the packages of
    // the best-priority repositories that have its highest epoch-version-release.
    std::vector<Id> latest(const std::vector<Id>& ids) const {
        const auto& p = pool_.pool();
        std::vector<Id> out;
        for (const auto& same : split_by_name_arch(ids)) {
            auto better = [&](Id a, Id b) {  // a ranks above b
                const Solvable *sa = p.solvable(a), *sb = p.solvable(b);
                if (sa->repo->priority != sb->repo->priority) return sa->repo->priority > sb->repo->priority;
                return pool_evrcmp(p.get(), sa->evr, sb->evr, EVRCMP_COMPARE) > 0;
            };
            const Id best = *std::min_element(same.begin(), same.end(), better);
            for (Id s : same)
                if (!better(best, s)) out.push_back(s);
        }
        return out;
    }

    struct Solution {
        std::vector<Id> packages;       // considered packages only
        std::optional<Nevra> nevra;     // the reading that matched; none for provides and files
    };

    // hawkey's Subject::get_best_solution: the first reading that matches anything wins.
    Solution best_solution(const std::string& spec, bool with_provides = true, bool with_filenames = true) const {
        for (NevraForm f : {NevraForm::nevra, NevraForm::na, NevraForm::name, NevraForm::nevr, NevraForm::nev}) {
            auto n = parse_nevra(spec, f);
            if (!n) continue;
            auto found = considered(by_nevra(*n));
            if (!found.empty()) return {std::move(found), std::move(n)};
        }
        if (with_provides) {
            auto found = considered(by_provides(spec));
            if (!found.empty()) return {std::move(found), std::nullopt};
        }
        if (with_filenames && is_filename(spec)) return {considered(by_file(spec)), std::nullopt};
        return {};
    }

    static bool is_filename(const std::string& spec) { return spec.rfind('/', 0) == 0 || spec.rfind("*/", 0) == 0; }

    // Groups packages by name, keeping the order of first appearance.
    std::vector<std::vector<Id>> split_by_name(const std::vector<Id>& ids) const {
        std::vector<std::vector<Id>> groups;
        std::unordered_map<Id, std::size_t> index;
        for (Id s : ids) {
            const Id name = pool_.pool().solvable(s)->name;
            auto [it, fresh] = index.emplace(name, groups.size());
            if (fresh) groups.emplace_back();
            groups[it->second].push_back(s);
        }
        return groups;
    }
    std::vector<std::vector<Id>> split_by_name_arch(const std::vector<Id>& ids) const {
        std::vector<std::vector<Id>> groups;
        std::unordered_map<std::uint64_t, std::size_t> index;
        for (Id s : ids) {
            const Solvable* sv = pool_.pool().solvable(s);
            const std::uint64_t key = (static_cast<std::uint64_t>(sv->name) << 32) | static_cast<std::uint32_t>(sv->arch);
            auto [it, fresh] = index.emplace(key, groups.size());
            if (fresh) groups.emplace_back();
            groups[it->second].push_back(s);
        }
        return groups;
    }

private:
    template <typename F> void for_each_package(F&& f) const {
        const auto& p = pool_.pool();
        for (Id s = 2; s < p.nsolvables(); ++s)
            if (indexed(s)) f(s);
    }

    bool indexed(Id s) const {
        const Solvable* sv = pool_.pool().solvable(s);
        return sv->repo && sv->arch != ARCH_SRC && sv->arch != ARCH_NOSRC && !pool_.is_comps(s);
    }

    static bool part_matches(const std::string& pattern, const std::string& value) {
        if (pattern.empty()) return true;
        return is_glob(pattern) ? ::fnmatch(pattern.c_str(), value.c_str(), 0) == 0 : pattern == value;
    }

    bool matches(Id s, const Nevra& n) const {
        if (n.has_just_name()) return true;
        const Package pkg = pool_.package(s);
        const std::string epoch = pkg.epoch.empty() ? "0" : pkg.epoch;
        return part_matches(n.epoch, epoch) && part_matches(n.version, pkg.version) &&
               part_matches(n.release, pkg.release) && part_matches(n.arch, pkg.arch);
    }

    bool provides_glob(Id s, const std::string& pattern) const {
        const auto& p = pool_.pool();
        const Solvable* sv = p.solvable(s);
        if (!sv->provides) return false;
        for (const Id* dp = sv->repo->idarraydata + sv->provides; *dp; ++dp) {
            Id name = *dp;
            while (ISRELDEP(name)) name = GETRELDEP(p.get(), name)->name;
            if (::fnmatch(pattern.c_str(), p.id2str(name), 0) == 0) return true;
        }
        return false;
    }

    // "name", or "name OP evr" with OP one of = == < <= > >=.
    Id parse_dep(const std::string& spec) const {
        const auto& p = pool_.pool();
        const auto op_start = spec.find_first_of("<>=");
        auto trim = [](std::string s) {
            s.erase(0, s.find_first_not_of(' '));
            s.erase(s.find_last_not_of(' ') + 1);
            return s;
        };
        if (op_start == std::string::npos) {
            if (spec.find(' ') != std::string::npos) return 0;
            return p.str2id(spec, false);
        }
        auto op_end = spec.find_first_not_of("<>=", op_start);
        if (op_end == std::string::npos) return 0;
        const std::string op = spec.substr(op_start, op_end - op_start);
        const std::string name = trim(spec.substr(0, op_start)), evr = trim(spec.substr(op_end));
        int flags = 0;
        for (char c : op) flags |= c == '<' ? REL_LT : c == '>' ? REL_GT : REL_EQ;
        const Id name_id = p.str2id(name, false);
        if (!name_id || evr.empty()) return 0;
        return p.rel(name_id, p.str2id(evr, true), flags);
    }

    // Obsoleted name -> (obsoleting package, its obsoletes dependency).
    void build_obsoletes_index() const {
        const auto& p = pool_.pool();
        obsoletes_index_.emplace();
        for_each_package([&](Id s) {
            const Solvable* sv = p.solvable(s);
            if (!sv->obsoletes) return;
            for (const Id* dp = sv->repo->idarraydata + sv->obsoletes; *dp; ++dp) {
                Id n = *dp;
                while (ISRELDEP(n)) n = GETRELDEP(p.get(), n)->name;
                (*obsoletes_index_)[n].emplace_back(s, *dp);
            }
        });
    }

    const PackagePool& pool_;
    mutable std::optional<std::unordered_map<Id, std::vector<std::pair<Id, Id>>>> obsoletes_index_;
};

}  // namespace imgcreate::install
