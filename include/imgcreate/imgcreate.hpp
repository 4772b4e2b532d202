// imgcreate — one include for users: the creator, the policy concepts and the ready-made
// policies and image types.
//
// Every name below is in namespace imgcreate (the sub-namespaces hold the implementation):
//
//   image types   LiveImage, LoopImage, FsImage                   (this file)
//   the creator   Creator<Mount, Install, Boot, Stage>, CreatorOptions
//   policies      mount:   DirectoryMount, LoopMount, LiveMount
//                 install: RpmInstall
//                 boot:    NoBoot, LiveBoot
//                 stage:   TreeStage, CopyStage, IsoStage
//   for policy    BuildContext, KernelVersions, RequiredPrograms  (context.hpp, concepts.hpp)
//   authors       MountPolicy, InstallPolicy, BootPolicy, StagePolicy and the optional hooks
//                 (concepts.hpp, where each member's signature and moment is documented)
//                 RootDir: reads and writes that never leave the install root (support/root_path.hpp)
//                 run, run_in_root, Command, CommandResult, require_program (support/process.hpp)
//                 log::debug, log::info, log::warning, log::error; Logger::instance() to set the
//                 console level or a log file (support/log.hpp)
//   errors        Error and its kinds: KickstartError, MountError, InstallError, RepoError,
//                 ConfigError, BootError, StageError, OutputExistsError, StepOrderError,
//                 InterruptedError, CommandError (support/error.hpp)
//   kickstarts    kickstart::parse_file, kickstart::Kickstart (kickstart/kickstart.hpp)
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
#include <imgcreate/support/process.hpp>
#include <imgcreate/support/root_path.hpp>

namespace imgcreate {

// A hybrid live ISO booted by dracut's dmsquash-live, as livecd-creator makes it.
using LiveImage = Creator<LiveMount, RpmInstall, LiveBoot, IsoStage>;

// A minimised filesystem image, <name>.img, as image-creator makes it.
using LoopImage = Creator<LoopMount, RpmInstall, NoBoot, CopyStage>;

// The installed tree itself, <name>/, for containers or a later mkfs -d.
using FsImage = Creator<DirectoryMount, RpmInstall, NoBoot, TreeStage>;

}  // namespace imgcreate
