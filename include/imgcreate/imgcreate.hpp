// imgcreate — one include for users: the creator, the policy concepts and the ready-made
// policies and image types.
#pragma once

#include <imgcreate/boot/live_boot.hpp>
#include <imgcreate/boot/no_boot.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/creator.hpp>
#include <imgcreate/install/rpm_install.hpp>
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

}  // namespace imgcreate
