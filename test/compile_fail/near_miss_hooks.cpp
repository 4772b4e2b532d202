// Optional hooks with a near-miss signature would compile and never be called: each is refused,
// with one error naming the hook and the signature it must have.
#include <imgcreate/imgcreate.hpp>

#include <filesystem>
#include <string>

using imgcreate::BuildContext;

struct Install {
    void install(BuildContext&) {}
    imgcreate::KernelVersions kernel_versions(const BuildContext&) const { return {}; }
};

struct NonConstCheck : imgcreate::TreeStage {
    void check(const BuildContext&) {}  // not const
};
struct CheckReturningBool : Install {
    bool check(const BuildContext&) const { return true; }  // a result nobody reads
};
struct ProgramsWithoutContext : imgcreate::NoBoot {
    imgcreate::RequiredPrograms required_programs() const { return {}; }  // no ctx
};
struct FstabTakingNothing : imgcreate::DirectoryMount {
    std::string fstab() const { return {}; }
};
struct FullRootMessageAsBool : imgcreate::DirectoryMount {
    bool full_root_message(const BuildContext&) const { return false; }
};
struct OutputsAsOnePath {
    std::filesystem::path package(BuildContext& ctx) { return ctx.options.outdir / "x"; }
    std::filesystem::path outputs(const BuildContext&) const { return {}; }  // a vector is expected
};

using namespace imgcreate;
int main() {
    Creator<DirectoryMount, Install, NoBoot, NonConstCheck> a(nullptr);
    Creator<DirectoryMount, CheckReturningBool, NoBoot, TreeStage> b(nullptr);
    Creator<DirectoryMount, Install, ProgramsWithoutContext, TreeStage> c(nullptr);
    Creator<FstabTakingNothing, Install, NoBoot, TreeStage> d(nullptr);
    Creator<FullRootMessageAsBool, Install, NoBoot, TreeStage> e(nullptr);
    Creator<DirectoryMount, Install, NoBoot, OutputsAsOnePath> f(nullptr);
    a.create();
    b.create();
    c.create();
    d.create();
    e.create();
    f.create();
}
