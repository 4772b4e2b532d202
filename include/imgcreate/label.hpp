// imgcreate — the image's name and filesystem label, checked before a build does any work.
//
// livecd-tools' rule for the label: at most 32 characters (the ISO 9660 volume id it becomes)
// and no spaces (dracut's root=live:CDLABEL=... cannot hold one). A label given is refused
// when it breaks the rule; without one, the label is the name cut to 32 characters, as
// livecd-tools' creators cut it, so a long name still builds. The name becomes
// <outdir>/<name>.<ext>, so it must be a plain file name.
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

// The image's label: the one given, else the name cut to 32 characters, else "imgcreate".
// The ISO volume id, the live root's CDLABEL and (cut further) the filesystem label.
inline std::string image_label(const CreatorOptions& options) {
    if (!options.fslabel.empty()) return options.fslabel;
    if (!options.name.empty()) return options.name.substr(0, max_fslabel_length);
    return "imgcreate";
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
        if (auto problem = label_problem(image_label(options)))
            return *problem + " (the name is the label without --fslabel): choose another name, or a label with --fslabel";
    }
    return std::nullopt;
}

}  // namespace imgcreate
