// Umbrella header of the Sora C++ client.
#pragma once

#include "sora/client.h"        // IWYU pragma: export
#include "sora/conversation.h"  // IWYU pragma: export
#include "sora/errors.h"        // IWYU pragma: export
#include "sora/mesh.h"          // IWYU pragma: export
#include "sora/scene_mirror.h"  // IWYU pragma: export
#include "sora/watch.h"         // IWYU pragma: export
