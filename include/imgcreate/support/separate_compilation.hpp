// imgcreate — header-only by default, or its heavy functions compiled once.
//
// By default every function is inline: include the headers and nothing else is needed. A
// program whose translation units each include the creator, RpmInstall or the kickstart
// parser then compiles their code again in every one of them. Defined in every translation
// unit of a program, IMGCREATE_SEPARATE_COMPILATION makes the headers declare those functions
// (the kickstart parser, the appliers, the script and process runners, the build directory and
// its mounts, RpmInstall's steps) without their bodies or the headers their bodies need; the
// bodies are compiled once, in the one source of the program that includes
// <imgcreate/impl.hpp>. With CMake, linking imgcreate::compiled instead of imgcreate::imgcreate
// does both.
//
// The two ways cannot be mixed in one program: every translation unit that includes imgcreate
// must agree on the macro.
#pragma once

#if defined(IMGCREATE_SEPARATE_COMPILATION)
#define IMGCREATE_DECL
#else
#define IMGCREATE_DECL inline
#endif
