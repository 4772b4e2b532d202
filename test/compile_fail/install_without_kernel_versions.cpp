// An install policy that cannot report the installed kernels must be rejected.
#include <imgcreate/imgcreate.hpp>
struct NoKernelInfo {
    void install(imgcreate::BuildContext&) {}
};
int main() { imgcreate::Creator<imgcreate::DirectoryMount, NoKernelInfo, imgcreate::NoBoot, imgcreate::TreeStage> c(nullptr); }
