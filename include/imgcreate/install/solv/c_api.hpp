// imgcreate — libsolv's C headers, included once and in one place. libsolv's Solvable has a
// member named `requires`, a keyword since C++20, so it is renamed while the headers are
// read (the layout is unchanged); use `requires_` in C++ code.
#pragma once

#define requires requires_
extern "C" {
#include <solv/bitmap.h>
#include <solv/chksum.h>
#include <solv/dataiterator.h>
#include <solv/evr.h>
#include <solv/knownid.h>
#include <solv/policy.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/queue.h>
#include <solv/repo.h>
#include <solv/repo_comps.h>
#include <solv/repo_rpmmd.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/repodata.h>
#include <solv/rules.h>
#include <solv/selection.h>
#include <solv/solv_xfopen.h>
#include <solv/solvable.h>
#include <solv/solver.h>
#include <solv/transaction.h>
}
#undef requires
