// The Sora C++ client with gRPC and protobuf, fenced off from Unreal's macros (check, verify)
// and warning settings. Include from this module's .cpp files only, never from a public header.
#pragma once

#include "CoreMinimal.h"

THIRD_PARTY_INCLUDES_START
#pragma push_macro("check")
#pragma push_macro("verify")
#undef check
#undef verify
#include "sora/sora.h"
#include "sora/unreal_coordinates.h"
#pragma pop_macro("verify")
#pragma pop_macro("check")
THIRD_PARTY_INCLUDES_END
