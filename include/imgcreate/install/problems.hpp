// imgcreate — a failed solve in plain words: each problem as libsolv states it, the
// kickstart lines involved, and the ways out libsolv offers.
#pragma once

#include <imgcreate/install/selection.hpp>
#include <imgcreate/install/solv/solver.hpp>

#include <set>
#include <string>

namespace imgcreate::install {

namespace detail {

inline std::string solution_step(const solv::Solver& solver, const Selection& selection,
                                 const solv::Solver::SolutionElement& e) {
    if (e.p == SOLVER_SOLUTION_JOB || e.p == SOLVER_SOLUTION_POOLJOB) {
        if (const JobOrigin* o = selection.origin_of_job_index(e.rp)) return "leave out " + o->describe();
    }
    return solver.element_text(e);
}

}  // namespace detail

inline std::string describe_problems(const solv::Solver& solver, const Selection& selection) {
    const int count = solver.problem_count();
    std::string text = "the packages asked for cannot be installed together (" + std::to_string(count) +
                       (count == 1 ? " problem" : " problems") + "):";
    for (Id problem = 1; problem <= count; ++problem) {
        text += "\n  problem " + std::to_string(problem) + ": " + solver.problem_text(problem);
        std::set<std::string> asked, because;
        for (Id rule : solver.problem_rules(problem)) {
            const int job = solver.rule_job_index(rule);
            if (job < 0) {
                because.insert(solver.rule_text(rule));
                continue;
            }
            if (const JobOrigin* o = selection.origin_of_job_index(job)) asked.insert(o->describe());
        }
        because.erase(solver.problem_text(problem));
        for (const auto& b : because) text += "\n    because " + b;
        for (const auto& a : asked) text += "\n    asked for by " + a;
        int n = 0;
        for (const auto& steps : solver.solutions(problem)) {
            std::string line;
            for (const auto& e : steps) line += (line.empty() ? "" : ", and ") + detail::solution_step(solver, selection, e);
            text += "\n    solution " + std::to_string(++n) + ": " + line;
        }
    }
    return text;
}

}  // namespace imgcreate::install
