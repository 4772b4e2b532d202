// imgcreate — %packages turned into solver jobs with livecd-tools' semantics (its
// ImageCreator.__apply_selections on dnf): the core group unless --nocore, the environment's
// mandatory groups, each @group's mandatory + default members (--nodefaults: mandatory only;
// --optional: optional too) and its conditional members, then excludes that remove
// candidates, then packages by spec. Each job remembers the kickstart line that asked for
// it, for error messages.
#pragma once

#include <imgcreate/install/comps.hpp>
#include <imgcreate/install/package_pool.hpp>
#include <imgcreate/install/package_request.hpp>
#include <imgcreate/install/query.hpp>
#include <imgcreate/install/solv/queue.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace imgcreate::install {

// dnf's default installonlypkgs: these may be installed in several versions side by side.
inline std::vector<std::string> default_installonly() {
    return {"kernel", "kernel-PAE", "installonlypkg(kernel)", "installonlypkg(kernel-module)", "installonlypkg(vm)",
            "multiversion(kernel)"};
}

struct JobOrigin {
    std::string what;     // "vim-enhanced", "desk-shell (in group desktop)"
    std::string where;    // "ks.cfg:12"
    std::string describe() const { return "'" + what + "'" + (where.empty() ? std::string() : " (" + where + ")"); }
};

struct Selection {
    solv::IdQueue job;
    std::vector<JobOrigin> origins;     // one per job (pair of ids)
    std::vector<std::string> warnings;
    std::vector<Id> excluded;

    const JobOrigin* origin_of_job_index(int index) const {
        const auto i = static_cast<std::size_t>(index / 2);
        return i < origins.size() ? &origins[i] : nullptr;
    }
};

namespace detail {

class Selector {
public:
    Selector(PackagePool& pool, const PackageRequest& request, const Comps& comps,
             const std::set<std::string>& installed)
        : pool_(pool), request_(request), comps_(comps), installed_(installed), query_(pool) {}

    Selection run(const std::vector<std::string>& installonly) {
        refuse_modules();
        apply_excludes();
        select_groups();
        select_packages();
        throw_if_missing();
        for (const auto& name : installonly)
            out_.job.push(SOLVER_MULTIVERSION | SOLVER_SOLVABLE_PROVIDES, pool_.pool().str2id(name));
        return std::move(out_);
    }

private:
    // Repository includepkgs/excludepkgs (by NEVRA only, as dnf), then kickstart -pkg lines
    // (any reading, provides and files too).
    void apply_excludes() {
        for (const auto& r : pool_.repos()) {
            if (!r.config.includepkgs.empty()) {
                std::set<Id> keep;
                for (const auto& spec : r.config.includepkgs)
                    for (Id s : query_.best_solution(spec, false, false).packages) keep.insert(s);
                for (Id s = r.packages.start(); s < r.packages.end(); ++s)
                    if (pool_.pool().solvable(s)->repo == r.packages.get() && !keep.count(s)) out_.excluded.push_back(s);
            }
            for (const auto& spec : r.config.excludepkgs)
                for (Id s : query_.best_solution(spec, false, false).packages)
                    if (pool_.pool().solvable(s)->repo == r.packages.get()) out_.excluded.push_back(s);
        }
        pool_.pool().set_excluded(out_.excluded);
        for (const auto& e : request_.entries) {
            if (e.kind != EntryKind::exclude) continue;
            auto found = query_.best_solution(e.name).packages;
            out_.excluded.insert(out_.excluded.end(), found.begin(), found.end());
            log::info("excluding package: '", e.name, "'");
        }
        pool_.pool().set_excluded(out_.excluded);
    }

    // Module metadata (modules.yaml) is not read, so @module:stream[/profile] cannot be honoured:
    // an error, or with --ignoremissing a warning, like a group that is not there.
    void refuse_modules() {
        std::vector<const PackageEntry*> modules;
        for (const auto& e : request_.entries)
            if (e.kind == EntryKind::module) modules.push_back(&e);
        if (modules.empty()) return;
        if (request_.ignoremissing) {
            for (const auto* e : modules)
                warn("Skipping module '" + e->text() + "'" + at(e->where()) +
                     ": modules are not supported; list the packages you need from it in %packages instead");
            return;
        }
        const bool one = modules.size() == 1;
        std::string msg = "%packages asks for " + (one ? std::string("a module stream") : std::to_string(modules.size()) + " module streams") +
                          ", and modules are not supported: list the packages you need from " + (one ? "it" : "them") +
                          " in %packages instead, or add --ignoremissing to %packages to skip " + (one ? "it" : "them");
        for (const auto* e : modules)
            msg += "\n  " + (e->where().empty() ? std::string("%packages") : e->where()) + ": module '" + e->text() + "'";
        throw InstallError(msg);
    }

    struct GroupWant {
        std::string name;
        bool nodefaults = false, optional = false;
        const PackageEntry* entry = nullptr;
    };

    void select_groups() {
        std::vector<GroupWant> wanted;
        std::set<std::string> excluded_groups;
        for (const auto& e : request_.entries)
            if (e.kind == EntryKind::exclude_group) excluded_groups.insert(e.name);
        if (request_.nocore) log::info("skipping core group due to %packages --nocore; system may not be complete");
        else wanted.push_back({"core", false, false, nullptr});
        for (const auto& e : request_.entries) {
            if (e.kind != EntryKind::environment) continue;
            const CompsEnvironment* env = comps_.find_environment(e.name);
            if (!env) {
                missing("environment", e.text(), e.where());
                continue;
            }
            log::info("selected env: ", env->id);
            for (const auto& g : env->groups) {
                if (excluded_groups.count(g)) continue;
                // dnf5 and anaconda: a group the environment names and no repository has is skipped.
                if (!comps_.find_group(g)) {
                    warn("Skipping group '@" + g + "' of environment '@^" + env->id + "'" + at(e.where()) +
                         ": no enabled repository has it");
                    continue;
                }
                wanted.push_back({g, false, false, &e});
            }
        }
        for (const auto& e : request_.entries) {
            if (e.kind != EntryKind::group) continue;
            if ((e.name == "core" && !request_.nocore) || excluded_groups.count(e.name)) continue;
            wanted.push_back({e.name, e.nodefaults, e.optional, &e});
        }
        for (const auto& w : wanted) add_group(w);
        for (const auto& m : members_) add_group_member(m);
        for (const auto& c : conditionals_) add_conditional_member(c);
    }

    struct Member {
        std::string name;
        std::string group;
        const PackageEntry* entry;
    };

    struct Conditional {
        ConditionalMember member;
        std::string group;
        const PackageEntry* entry;
    };

    void add_group(const GroupWant& w) {
        const CompsGroup* g = comps_.find_group(w.name);
        const std::string where = w.entry ? w.entry->where() : std::string();
        if (!g) {
            missing("group", "@" + w.name, where);
            return;
        }
        log::info("selected group: ", g->id);
        auto add = [&](const std::vector<std::string>& names) {
            for (const auto& n : names)
                if (std::none_of(members_.begin(), members_.end(), [&](const Member& m) { return m.name == n; }))
                    members_.push_back({n, g->id, w.entry});
        };
        add(g->mandatory);
        if (!w.nodefaults) add(g->defaults);
        if (w.optional) add(g->optional);
        for (const auto& c : g->conditional)
            if (std::none_of(conditionals_.begin(), conditionals_.end(), [&](const Conditional& k) { return k.member == c; }))
                conditionals_.push_back({c, g->id, w.entry});
    }

    // dnf: a group member without candidates is only a warning, whatever --ignoremissing says.
    void add_group_member(const Member& m) {
        auto found = query_.considered(query_.by_name(m.name));
        if (found.empty()) {
            warn("No match for group package \"" + m.name + "\"");
            return;
        }
        JobOrigin origin{m.name + " (in group " + m.group + ")", m.entry ? m.entry->where() : std::string()};
        if (request_.multilib) {
            for (auto& same_arch : query_.split_by_name_arch(found)) install_one_of(with_obsoleters(same_arch), origin);
            return;
        }
        install_one_of(with_obsoleters(found), origin);
    }

    // dnf's group_package_types default (mandatory, default, conditional), as dnf5 and anaconda
    // install groups: a conditional member comes whenever the package it names is installed,
    // asked for by name, pulled in by a dependency or already in the root. The first two the
    // solver decides, from a "(member if condition)" job; the root's packages are known here.
    void add_conditional_member(const Conditional& c) {
        const auto& [name, condition] = c.member;
        const bool in_root = installed_.count(condition) > 0;
        if (!in_root && query_.by_name(condition).empty()) {
            log::debug("conditional member ", name, " of group ", c.group, ": nothing is named ", condition);
            return;
        }
        auto found = query_.considered(query_.by_name(name));
        if (found.empty()) {
            warn("No match for group package \"" + name + "\"");
            return;
        }
        JobOrigin origin{name + " (in group " + c.group + ", with " + condition + ")", c.entry ? c.entry->where() : std::string()};
        if (in_root) {
            install_one_of(with_obsoleters(found), origin);
            return;
        }
        auto& pool = pool_.pool();
        const Id rich = pool_rel2id(pool.get(), pool.str2id(name), pool.str2id(condition), REL_COND, 1);
        out_.job.push(SOLVER_INSTALL | SOLVER_SOLVABLE_PROVIDES | SOLVER_SETARCH | SOLVER_SETEVR | SOLVER_FORCEBEST, rich);
        out_.origins.push_back(origin);
    }

    void select_packages() {
        std::set<std::string> excluded_specs;
        for (const auto& e : request_.entries)
            if (e.kind == EntryKind::exclude) excluded_specs.insert(e.name);
        std::set<std::string> seen;
        for (const auto& e : request_.entries) {
            if (e.kind != EntryKind::package || excluded_specs.count(e.name) || !seen.insert(e.name).second) continue;
            select_package(e);
        }
    }

    // dnf's Base.install(spec) with multilib_policy "best" (or "all" for --multilib).
    void select_package(const PackageEntry& e) {
        auto solution = query_.best_solution(e.name);
        if (solution.packages.empty()) {
            missing("package", e.name, e.where(), e.required);
            return;
        }
        log::info("selected package: '", e.name, "'");
        const JobOrigin origin{e.name, e.where()};
        const bool just_name = solution.nevra && solution.nevra->has_just_name();
        const bool arch_glob = solution.nevra && is_glob(solution.nevra->arch);
        if (request_.multilib || arch_glob) {
            for (auto& same : query_.split_by_name_arch(solution.packages)) install_one_of(with_obsoleters(same), origin);
            return;
        }
        if ((!PackageQuery::is_filename(e.name) && is_glob(e.name)) || (solution.nevra && solution.nevra->name.empty())) {
            for (auto& same : query_.split_by_name(solution.packages))
                install_one_of(just_name ? with_obsoleters(same) : same, origin);
            return;
        }
        install_one_of(just_name ? with_obsoleters(solution.packages) : solution.packages, origin);
    }

    // dnf5's add_obsoletes_to_data: only what obsoletes the latest versions joins the
    // candidates, so a package whose older versions another one obsoletes is still the one
    // installed (dnf5 libdnf5/base/goal.cpp; dnf rhbz#2176263).
    std::vector<Id> with_obsoleters(std::vector<Id> ids) {
        auto obs = query_.considered(query_.obsoleters(query_.latest(ids)));
        for (Id s : obs)
            if (std::find(ids.begin(), ids.end(), s) == ids.end()) ids.push_back(s);
        return ids;
    }

    // As libdnf makes a job of a package set (SETARCH lets an asked-for i686 in); dnf runs with
    // best=1, so each install job is SOLVER_FORCEBEST.
    void install_one_of(const std::vector<Id>& ids, const JobOrigin& origin) {
        solv::IdQueue q;
        for (Id s : ids) q.push(s);
        out_.job.push(SOLVER_INSTALL | SOLVER_SOLVABLE_ONE_OF | SOLVER_SETARCH | SOLVER_SETEVR | SOLVER_FORCEBEST,
                      pool_queuetowhatprovides(pool_.pool().get(), q.get()));
        out_.origins.push_back(origin);
    }

    void missing(const std::string& kind, const std::string& what, const std::string& where, bool required = false) {
        if (request_.ignoremissing && !required) {
            warn("Skipping missing " + kind + " '" + what + "'" + at(where));
            return;
        }
        missing_.push_back((where.empty() ? std::string("%packages") : where) + ": " + kind + " '" + what + "'");
    }

    void throw_if_missing() const {
        if (missing_.empty()) return;
        std::string msg = std::to_string(missing_.size()) + (missing_.size() == 1 ? " entry" : " entries") +
                          " of %packages matched nothing in the enabled repositories:";
        for (const auto& m : missing_) msg += "\n  " + m;
        msg += "\nCheck the names, add the repository that has them, or add --ignoremissing to %packages to skip them";
        throw InstallError(msg);
    }

    void warn(const std::string& w) {
        log::warning(w);
        out_.warnings.push_back(w);
    }
    static std::string at(const std::string& where) { return where.empty() ? std::string() : " (" + where + ")"; }

    PackagePool& pool_;
    const PackageRequest& request_;
    const Comps& comps_;
    const std::set<std::string>& installed_;
    PackageQuery query_;
    Selection out_;
    std::vector<Member> members_;
    std::vector<Conditional> conditionals_;
    std::vector<std::string> missing_;
};

}  // namespace detail

// `installed`: names of the packages the root already has (a --base-on build).
inline Selection select(PackagePool& pool, const PackageRequest& request, const Comps& comps,
                        const std::vector<std::string>& installonly = default_installonly(),
                        const std::set<std::string>& installed = {}) {
    return detail::Selector(pool, request, comps, installed).run(installonly);
}

}  // namespace imgcreate::install
