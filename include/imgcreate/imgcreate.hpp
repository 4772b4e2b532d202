// imgcreate — one include for users: the creator, the policy concepts and the ready-made
// policies and image types.
#pragma once

#include <imgcreate/boot/live_boot.hpp>
#include <imgcreate/boot/no_boot.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/creator.hpp>
#include <imgcreate/install/rpm_install.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/live_mount.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/stage/copy_stage.hpp>
#include <imgcreate/stage/iso_stage.hpp>
#include <imgcreate/stage/tree_stage.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

namespace imgcreate {

// A hybrid live ISO booted by dracut's dmsquash-live, as livecd-creator makes it.
using LiveImage = Creator<LiveMount, install::RpmInstall, LiveBoot, IsoStage>;

// A minimised filesystem image, <name>.img, as image-creator makes it.
using LoopImage = Creator<LoopMount, install::RpmInstall, NoBoot, CopyStage>;

// The installed tree itself, <name>/, for containers or a later mkfs -d.
using FsImage = Creator<DirectoryMount, install::RpmInstall, NoBoot, TreeStage>;

}  // namespace imgcreate
