// imgcreate — one include for users: the creator, the policy concepts and the ready-made
// policies and image types.
//
// Every name below is in namespace imgcreate (the sub-namespaces hold the implementation):
//
//   image types   LiveImage, LoopImage, FsImage, DiskImage        (this file)
//                 LiveImageFromTree, LoopImageFromTree: the same results with no loop device,
//                 as a build without root makes them (after enter_user_namespace())
//   the creator   Creator<Mount, Install, Boot, Stage>, CreatorOptions
//   policies      mount:   DirectoryMount, LoopMount, LiveMount, MkfsMount, LiveMkfsMount, DiskMount
//                 install: RpmInstall
//                 boot:    NoBoot, LiveBoot, DiskBoot
//                 stage:   TreeStage, CopyStage, IsoStage, DiskStage
//   disks         disk::plan_layout (the layout from a kickstart), disk::assemble_disks (the image
//                 files from a tree), disk::write_partition_table, disk::install_bios_boot,
//                 disk::make_btrfs_volume (a btrfs volume with its subvolumes from a tree),
//                 disk::write_volume_group (an LVM volume group's label and metadata, no device-mapper)
//                 (disk/layout.hpp, disk/assemble.hpp, disk/partition_table.hpp, disk/bios_boot.hpp,
//                 disk/btrfs_volume.hpp, disk/lvm.hpp)
//   for policy    BuildContext, KernelVersions, RequiredPrograms  (context.hpp, concepts.hpp)
//   authors       MountPolicy, InstallPolicy, BootPolicy, StagePolicy and the optional hooks
//                 (concepts.hpp, where each member's signature and moment is documented)
//                 RootDir: reads and writes that never leave the install root (support/root_path.hpp)
//                 mount::TreeInMemory: a tmpfs install root for a mount policy that makes its
//                 filesystems from the tree (mount/tree_in_memory.hpp)
//                 run, run_in_root, Command, CommandResult, require_program (support/process.hpp)
//                 log::debug, log::info, log::warning, log::error; Logger::instance() to set the
//                 console level or a log file (support/log.hpp)
//   errors        Error and its kinds: KickstartError, MountError, InstallError, RepoError,
//                 ConfigError, BootError, StageError, OutputExistsError, StepOrderError,
//                 InterruptedError, CommandError (support/error.hpp)
//   no root       enter_user_namespace(), UserNamespaceError (mount/user_namespace.hpp)
//   kickstarts    kickstart::parse_file, kickstart::Kickstart (kickstart/kickstart.hpp)
#pragma once

#include <imgcreate/boot/disk_boot.hpp>
#include <imgcreate/boot/live_boot.hpp>
#include <imgcreate/boot/no_boot.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/creator.hpp>
#include <imgcreate/install/rpm_install.hpp>
#include <imgcreate/kickstart/kickstart.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/disk_mount.hpp>
#include <imgcreate/mount/live_mount.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/mount/mkfs_mount.hpp>
#include <imgcreate/mount/user_namespace.hpp>
#include <imgcreate/stage/copy_stage.hpp>
#include <imgcreate/stage/disk_stage.hpp>
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

// LoopImage's and LiveImage's results made with no loop device and no mount of the image: the
// packages go into a directory, and the image is made from it with mkfs -d. What a build by a
// user uses, inside its user namespace (enter_user_namespace()); root gets it with --no-loop.
using LoopImageFromTree = Creator<MkfsMount, RpmInstall, NoBoot, CopyStage>;
using LiveImageFromTree = Creator<LiveMkfsMount, RpmInstall, LiveBoot, IsoStage>;

// Partitioned disk images, <name>-<disk>.raw (or qcow2, vmdk, vdi) and <name>.xml, as
// appliance-creator makes them, from every part line of the kickstart; bootable with BIOS and UEFI
// (GRUB 2). Made with no loop device and no mount, as root or in a user namespace.
using DiskImage = Creator<DiskMount, RpmInstall, DiskBoot, DiskStage>;

// The installed tree itself, <name>/, for containers or a later mkfs -d.
using FsImage = Creator<DirectoryMount, RpmInstall, NoBoot, TreeStage>;

}  // namespace imgcreate
