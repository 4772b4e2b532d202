// A boot policy with its hooks but no configure_boot step must be rejected.
#include <imgcreate/imgcreate.hpp>
struct Install {
    void install(imgcreate::BuildContext&) {}
    imgcreate::KernelVersions kernel_versions(const imgcreate::BuildContext&) const { return {}; }
};
struct HalfBoot {
    void before_install(imgcreate::BuildContext&) {}
    void before_unmount(imgcreate::BuildContext&) {}
};
int main() { imgcreate::Creator<imgcreate::DirectoryMount, Install, HalfBoot, imgcreate::TreeStage> c(nullptr); }
