// imgcreate — the image's name and filesystem label, checked before a build does any work.
//
// livecd-tools' rule for the label: at most 32 characters (the ISO 9660 volume id it becomes)
// and no spaces (dracut's root=live:CDLABEL=... cannot hold one). Without --fslabel the name
// is the label too. The name becomes <outdir>/<name>.<ext>, so it must be a plain file name.
#pragma once

#include <imgcreate/context.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace imgcreate {

// The longest label livecd-tools accepts.
inline constexpr std::size_t max_fslabel_length = 32;

// Why `label` cannot be an image's label, or nothing when it can.
inline std::optional<std::string> label_problem(const std::string& label) {
    if (label.size() > max_fslabel_length)
        return "the label '" + label + "' has " + std::to_string(label.size()) + " characters; a CD label has at most " +
               std::to_string(max_fslabel_length);
    if (label.find(' ') != std::string::npos) return "the label '" + label + "' contains a space; CD labels cannot";
    return std::nullopt;
}

// Why the options' name or label cannot be used, with what to do, or nothing.
inline std::optional<std::string> naming_problem(const CreatorOptions& options) {
    const auto& name = options.name;
    if (name == "." || name == ".." || name.find('/') != std::string::npos)
        return "the name '" + name + "' is not a file name (it names the output <name>.<ext> in the output directory): "
               "choose one without '/' with --name";
    if (!options.fslabel.empty()) {
        if (auto problem = label_problem(options.fslabel)) return *problem + ": choose another with --fslabel";
    } else if (!name.empty()) {
        if (auto problem = label_problem(name))
            return *problem + " (the name is the label without --fslabel): choose another name, or a label with --fslabel";
    }
    return std::nullopt;
}

}  // namespace imgcreate
