// imgcreate — an owned libsolv Solver and the Transaction it produces.
#pragma once

#include <imgcreate/install/solv/pool.hpp>
#include <imgcreate/install/solv/queue.hpp>

#include <imgcreate/install/solv/c_api.hpp>

#include <string>
#include <utility>
#include <vector>

namespace imgcreate::install::solv {

class Transaction {
public:
    explicit Transaction(::Transaction* t) : trans_(t) {}
    ~Transaction() { if (trans_) transaction_free(trans_); }
    Transaction(Transaction&& o) noexcept : trans_(std::exchange(o.trans_, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;

    // Solvables the transaction installs (new packages), in libsolv's order.
    IdQueue installs() const {
        IdQueue q;
        for (int i = 0; i < trans_->steps.count; ++i) {
            Id p = trans_->steps.elements[i];
            Id type = transaction_type(trans_, p, SOLVER_TRANSACTION_SHOW_ACTIVE | SOLVER_TRANSACTION_SHOW_ALL);
            if (type == SOLVER_TRANSACTION_INSTALL || type == SOLVER_TRANSACTION_MULTIINSTALL) q.push(p);
        }
        return q;
    }

private:
    ::Transaction* trans_;
};

class Solver {
public:
    explicit Solver(const Pool& pool) : solver_(solver_create(pool.get())) {}
    ~Solver() { if (solver_) solver_free(solver_); }
    Solver(Solver&& o) noexcept : solver_(std::exchange(o.solver_, nullptr)) {}
    Solver& operator=(Solver&&) = delete;
    Solver(const Solver&) = delete;

    void set_flag(int flag, bool value) { solver_set_flag(solver_, flag, value ? 1 : 0); }
    // Returns the number of problems; 0 means solved.
    int solve(IdQueue& job) { return solver_solve(solver_, job.get()); }
    Transaction transaction() const { return Transaction(solver_create_transaction(solver_)); }

    int problem_count() const { return static_cast<int>(solver_problem_count(solver_)); }
    std::string problem_text(Id problem) const { return solver_problem2str(solver_, problem); }
    // The rules behind a problem, each as libsolv's sentence ("nothing provides x needed by y").
    IdQueue problem_rules(Id problem) const {
        IdQueue rules;
        solver_findallproblemrules(solver_, problem, rules.get());
        return rules;
    }
    std::string rule_text(Id rule) const {
        Id type, source, target, dep;
        type = solver_ruleinfo(solver_, rule, &source, &target, &dep);
        return solver_problemruleinfo2str(solver_, static_cast<SolverRuleinfo>(type), source, target, dep);
    }
    // The rule's kind and the solvable and dependency it is about.
    struct RuleInfo { int type; Id source, target, dep; };
    RuleInfo rule_info(Id rule) const {
        RuleInfo r{};
        r.type = solver_ruleinfo(solver_, rule, &r.source, &r.target, &r.dep);
        return r;
    }
    // The kickstart job behind a rule, as an index into the job queue; -1 if not a job rule.
    int rule_job_index(Id rule) const {
        if (solver_ruleclass(solver_, rule) != SOLVER_RULE_JOB) return -1;
        return solver_rule2jobidx(solver_, rule);
    }

    // One step of a solution: p/rp as libsolv reports them (p == SOLVER_SOLUTION_JOB: drop job rp).
    struct SolutionElement { Id p, rp; };
    std::vector<std::vector<SolutionElement>> solutions(Id problem) const {
        std::vector<std::vector<SolutionElement>> all;
        for (Id s = solver_next_solution(solver_, problem, 0); s; s = solver_next_solution(solver_, problem, s)) {
            std::vector<SolutionElement> steps;
            Id p = 0, rp = 0;
            for (Id e = solver_next_solutionelement(solver_, problem, s, 0, &p, &rp); e;
                 e = solver_next_solutionelement(solver_, problem, s, e, &p, &rp))
                steps.push_back({p, rp});
            all.push_back(std::move(steps));
        }
        return all;
    }
    std::string element_text(const SolutionElement& e) const { return solver_solutionelement2str(solver_, e.p, e.rp); }

    ::Solver* get() const noexcept { return solver_; }

private:
    ::Solver* solver_;
};

}  // namespace imgcreate::install::solv
