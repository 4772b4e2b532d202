// A mount policy that can mount but never unmount must be rejected.
#include <imgcreate/imgcreate.hpp>
struct Install {
    void install(imgcreate::BuildContext&) {}
    imgcreate::KernelVersions kernel_versions(const imgcreate::BuildContext&) const { return {}; }
};
struct LeakyMount {
    void mount(imgcreate::BuildContext& ctx) { ctx.install_root = ctx.build_dir / "root"; }
};
int main() { imgcreate::Creator<LeakyMount, Install, imgcreate::NoBoot, imgcreate::TreeStage> c(nullptr); }
