// imgcreate — comps groups and environments, read back from the pseudo-solvables libsolv
// makes of comps.xml ("group:<id>", "environment:<id>"). A group defined by several
// repositories is the union of its definitions, as dnf merges comps.
#pragma once

#include <imgcreate/install/package_pool.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <algorithm>
#include <cctype>
#include <fnmatch.h>
#include <string>
#include <utility>
#include <vector>

namespace imgcreate::install {

struct ConditionalMember {
    std::string name;
    std::string requires_name;    // installed only together with this package
    friend bool operator==(const ConditionalMember&, const ConditionalMember&) = default;
};

struct CompsGroup {
    std::string id;
    std::string name;
    std::vector<std::string> mandatory, defaults, optional;
    std::vector<ConditionalMember> conditional;
};

struct CompsEnvironment {
    std::string id;
    std::string name;
    std::vector<std::string> groups;    // <grouplist>: what @^env installs
    std::vector<std::string> options;   // <optionlist>
};

class Comps {
public:
    explicit Comps(const PackagePool& pool) {
        const auto& p = pool.pool();
        for (Id s = 2; s < p.nsolvables(); ++s) {
            if (!pool.is_comps(s)) continue;
            const std::string name = p.id2str(p.solvable(s)->name);
            if (name.rfind("group:", 0) == 0) add_group(pool, s, name.substr(6));
            else if (name.rfind("environment:", 0) == 0) add_environment(pool, s, name.substr(12));
        }
    }

    const std::vector<CompsGroup>& groups() const { return groups_; }
    const std::vector<CompsEnvironment>& environments() const { return environments_; }

    // dnf's group_by_pattern: the id exactly, else id or name matched case-insensitively
    // (globs allowed).
    const CompsGroup* find_group(const std::string& pattern) const { return find(groups_, pattern); }
    const CompsEnvironment* find_environment(const std::string& pattern) const { return find(environments_, pattern); }

private:
    template <typename T> static const T* find(const std::vector<T>& items, const std::string& pattern) {
        for (const auto& i : items)
            if (i.id == pattern) return &i;
        for (const auto& i : items)
            if (::fnmatch(pattern.c_str(), i.id.c_str(), FNM_CASEFOLD) == 0 ||
                ::fnmatch(pattern.c_str(), i.name.c_str(), FNM_CASEFOLD) == 0)
                return &i;
        return nullptr;
    }

    template <typename T> static T& entry(std::vector<T>& items, const std::string& id) {
        for (auto& i : items)
            if (i.id == id) return i;
        items.push_back(T{});
        items.back().id = id;
        return items.back();
    }

    static void add_unique(std::vector<std::string>& v, std::string s) {
        if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
    }

    static std::vector<Id> deps(const PackagePool& pool, Id s, Id key) {
        IdQueue q;
        solvable_lookup_deparray(pool.pool().solvable(s), key, q.get(), -1);
        return {q.begin(), q.end()};
    }
    using IdQueue = solv::IdQueue;

    void add_group(const PackagePool& pool, Id s, const std::string& id) {
        const auto& p = pool.pool();
        CompsGroup& g = entry(groups_, id);
        if (g.name.empty())
            if (const char* n = solvable_lookup_str(p.solvable(s), SOLVABLE_SUMMARY)) g.name = n;
        for (Id d : deps(pool, s, SOLVABLE_REQUIRES)) add_unique(g.mandatory, p.dep2str(d));
        for (Id d : deps(pool, s, SOLVABLE_SUGGESTS)) add_unique(g.optional, p.dep2str(d));
        for (Id d : deps(pool, s, SOLVABLE_RECOMMENDS)) {
            if (ISRELDEP(d)) {
                const Reldep* rd = GETRELDEP(p.get(), d);
                if (rd->flags == REL_COND) {
                    ConditionalMember c{p.id2str(rd->name), p.dep2str(rd->evr)};
                    if (std::find(g.conditional.begin(), g.conditional.end(), c) == g.conditional.end())
                        g.conditional.push_back(std::move(c));
                    continue;
                }
            }
            add_unique(g.defaults, p.dep2str(d));
        }
    }

    void add_environment(const PackagePool& pool, Id s, const std::string& id) {
        const auto& p = pool.pool();
        CompsEnvironment& e = entry(environments_, id);
        if (e.name.empty())
            if (const char* n = solvable_lookup_str(p.solvable(s), SOLVABLE_SUMMARY)) e.name = n;
        auto strip = [](std::string g) { return g.rfind("group:", 0) == 0 ? g.substr(6) : g; };
        for (Id d : deps(pool, s, SOLVABLE_REQUIRES)) add_unique(e.groups, strip(p.dep2str(d)));
        for (Id key : {SOLVABLE_SUGGESTS, SOLVABLE_RECOMMENDS})
            for (Id d : deps(pool, s, key)) add_unique(e.options, strip(p.dep2str(d)));
    }

    std::vector<CompsGroup> groups_;
    std::vector<CompsEnvironment> environments_;
};

}  // namespace imgcreate::install
