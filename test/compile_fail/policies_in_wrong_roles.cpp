// Policies given in the wrong order (a stage where the mount goes) are rejected.
#include <imgcreate/imgcreate.hpp>
struct Install {
    void install(imgcreate::BuildContext&) {}
    imgcreate::KernelVersions kernel_versions(const imgcreate::BuildContext&) const { return {}; }
};
int main() { imgcreate::Creator<imgcreate::TreeStage, Install, imgcreate::NoBoot, imgcreate::DirectoryMount> c(nullptr); }
