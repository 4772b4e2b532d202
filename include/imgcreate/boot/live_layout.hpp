// imgcreate — where a live build keeps its parts, shared by LiveMount, LiveBoot and IsoStage:
// the ISO tree under the build dir, the EFI boot image, the names of the media.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/label.hpp>

#include <filesystem>
#include <string>

namespace imgcreate::boot {

// The ISO's contents, assembled here and handed to xorriso.
inline std::filesystem::path live_iso_dir(const BuildContext& ctx) { return ctx.build_dir / "iso"; }

// The GRUB layout appends the EFI image as a partition of its own, outside the ISO tree.
inline std::filesystem::path live_efiboot_outside(const BuildContext& ctx) { return ctx.build_dir / "efiboot.img"; }
inline const std::string live_efiboot_in_tree = "images/efiboot.img";

// The deliverable's file name.
inline std::string live_iso_name(const CreatorOptions& options) {
    return (!options.name.empty() ? options.name : image_label(options)) + ".iso";
}

}  // namespace imgcreate::boot
