// livecd-creator — builds a live ISO from a kickstart with livecd-tools' command line. The same
// program run as image-creator builds a filesystem image; --image-type fs builds a directory tree.
// Everything it does is imgcreate::frontend::run_creator (include/imgcreate/frontend/run.hpp).
#include <imgcreate/frontend/run.hpp>

int main(int argc, char** argv) { return imgcreate::frontend::run_creator(argc, argv); }
