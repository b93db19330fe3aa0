#include "SoraCoordinates.h"

#include "SoraClientIncludes.h"

namespace SoraCoordinates
{
	FVector PointToUnreal(double X, double Y, double Z)
	{
		const sora::unreal::Vec3 P = sora::unreal::PointToUnreal({X, Y, Z});
		return FVector(P[0], P[1], P[2]);
	}

	FVector PointFromUnreal(const FVector& Point)
	{
		const sora::unreal::Vec3 P = sora::unreal::PointFromUnreal({Point.X, Point.Y, Point.Z});
		return FVector(P[0], P[1], P[2]);
	}

	FVector DirectionToUnreal(double X, double Y, double Z)
	{
		const sora::unreal::Vec3 D = sora::unreal::DirectionToUnreal({X, Y, Z});
		return FVector(D[0], D[1], D[2]);
	}

	FVector DirectionFromUnreal(const FVector& Direction)
	{
		const sora::unreal::Vec3 D = sora::unreal::DirectionFromUnreal({Direction.X, Direction.Y, Direction.Z});
		return FVector(D[0], D[1], D[2]);
	}

	FQuat RotationToUnreal(double X, double Y, double Z, double W)
	{
		const sora::unreal::Quat Q = sora::unreal::RotationToUnreal({X, Y, Z, W});
		return FQuat(Q[0], Q[1], Q[2], Q[3]);
	}

	FQuat CameraRotationFromUnreal(const FQuat& Rotation)
	{
		const sora::unreal::Quat Q = sora::unreal::CameraRotationFromUnreal({Rotation.X, Rotation.Y, Rotation.Z, Rotation.W});
		return FQuat(Q[0], Q[1], Q[2], Q[3]);
	}

	void FlipWinding(TArray<int32>& Triangles)
	{
		sora::unreal::FlipWinding(Triangles.GetData(), static_cast<std::size_t>(Triangles.Num()));
	}
}
