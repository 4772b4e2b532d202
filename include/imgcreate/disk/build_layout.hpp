// imgcreate — the layout of this build's disks: the kickstart's, with the sizes the user gave and
// the identities derived from the build (its directory, or its name and SOURCE_DATE_EPOCH). The
// mount, boot and stage policies each ask for it and get the same answer.
#pragma once

#include <imgcreate/context.hpp>
#include <imgcreate/disk/layout.hpp>
#include <imgcreate/disk/partition_table.hpp>
#include <imgcreate/kickstart/document.hpp>
#include <imgcreate/support/error.hpp>

namespace imgcreate::disk {

inline LayoutOptions layout_options(const BuildContext& ctx) {
    LayoutOptions options;
    options.memory_mib = ctx.options.vmem_mib;
    options.disk_size_mib = ctx.options.disk_size_mib;
    return options;
}

// The layout with no identities: what check() refuses before any work.
inline Layout plan_build_layout(const BuildContext& ctx) {
    if (!ctx.kickstart) throw ConfigError("a disk image needs a kickstart with its part lines");
    return plan_layout(*ctx.kickstart, layout_options(ctx));
}

inline Layout build_layout(const BuildContext& ctx) {
    auto layout = plan_build_layout(ctx);
    assign_identities(layout, identity_seed(ctx.options.name, ctx.build_dir, ctx.options.source_date_epoch));
    return layout;
}

}  // namespace imgcreate::disk
