// Unreal types over the one conversion between Sora's world and Unreal's
// (clients/cpp/include/sora/unreal_coordinates.h, unit-tested with the C++ client): these
// functions only copy numbers between FVector/FQuat and the client's arrays.
#pragma once

#include "CoreMinimal.h"

namespace SoraCoordinates
{
	/** Sora world point (metres) -> Unreal world point (cm). */
	SORASDK_API FVector PointToUnreal(double X, double Y, double Z);
	/** Unreal world point (cm) -> Sora world point (metres). */
	SORASDK_API FVector PointFromUnreal(const FVector& Point);
	SORASDK_API FVector DirectionToUnreal(double X, double Y, double Z);
	SORASDK_API FVector DirectionFromUnreal(const FVector& Direction);
	/** Rotation of a world object (plane, object, anchor). */
	SORASDK_API FQuat RotationToUnreal(double X, double Y, double Z, double W);
	/** An Unreal camera's (or head's) rotation -> Sora pose_world_camera rotation (OpenCV axes), as (x, y, z, w). */
	SORASDK_API FQuat CameraRotationFromUnreal(const FQuat& Rotation);
	/** Reverses the winding of every triangle in place. */
	SORASDK_API void FlipWinding(TArray<int32>& Triangles);
}
