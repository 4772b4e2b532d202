// A stage policy must say where the deliverable is: package() returning void is rejected.
#include <imgcreate/imgcreate.hpp>
struct Install {
    void install(imgcreate::BuildContext&) {}
    imgcreate::KernelVersions kernel_versions(const imgcreate::BuildContext&) const { return {}; }
};
struct SilentStage {
    void package(imgcreate::BuildContext&) {}
};
int main() { imgcreate::Creator<imgcreate::DirectoryMount, Install, imgcreate::NoBoot, SilentStage> c(nullptr); }
