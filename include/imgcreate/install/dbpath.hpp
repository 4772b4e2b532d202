// imgcreate — where the rpm database lives inside an install root.
#pragma once

#include <filesystem>

namespace imgcreate::install {

// Fedora 36 and later keep the database in /usr/lib/sysimage/rpm (Fedora's rpm overrides
// upstream 4.18's default); EL 8/9 and upstream rpm 4.18 use /var/lib/rpm. Debian's rpm
// points at ~/.rpmdb, so the path is always set explicitly.
inline const std::filesystem::path fedora_dbpath = "/usr/lib/sysimage/rpm";
inline const std::filesystem::path legacy_dbpath = "/var/lib/rpm";

}  // namespace imgcreate::install
