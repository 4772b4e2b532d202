// imgcreate — the problems rpm found in a transaction, copied out of rpm's problem set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rpm/rpmprob.h>
#include <rpm/rpmps.h>

namespace imgcreate::install::rpm {

struct Problem {
    rpmProblemType type = RPMPROB_BADARCH;
    const void* key = nullptr;  // the key the package was added with
    std::string package;        // NEVR of the package that has the problem
    std::string other;          // the other package (conflicts), if any
    std::string detail;         // a path, a mount point, a message
    std::uint64_t disk_need = 0;
    std::string text;           // rpm's own wording
};

// Takes ownership of `ps` (from rpmtsProblems) and frees it.
inline std::vector<Problem> take_problems(rpmps ps) {
    std::vector<Problem> out;
    rpmpsi it = rpmpsInitIterator(ps);
    while (rpmProblem p = rpmpsiNext(it)) {
        Problem problem;
        problem.type = rpmProblemGetType(p);
        problem.key = rpmProblemGetKey(p);
        auto str = [](const char* s) { return std::string(s ? s : ""); };
        problem.package = str(rpmProblemGetPkgNEVR(p));
        problem.other = str(rpmProblemGetAltNEVR(p));
        problem.detail = str(rpmProblemGetStr(p));
        problem.disk_need = rpmProblemGetDiskNeed(p);
        char* text = rpmProblemString(p);
        problem.text = str(text);
        free(text);
        out.push_back(std::move(problem));
    }
    rpmpsFreeIterator(it);
    rpmpsFree(ps);
    return out;
}

}  // namespace imgcreate::install::rpm
