// imgcreate — one include for users: the creator, the policy concepts and the ready-made
// policies and image types.
#pragma once

#include <imgcreate/boot/no_boot.hpp>
#include <imgcreate/concepts.hpp>
#include <imgcreate/context.hpp>
#include <imgcreate/creator.hpp>
#include <imgcreate/mount/directory_mount.hpp>
#include <imgcreate/mount/loop_mount.hpp>
#include <imgcreate/stage/copy_stage.hpp>
#include <imgcreate/stage/tree_stage.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
