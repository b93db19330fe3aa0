// THE conversion between Sora's world and Unreal Engine's, in plain C++ (no engine types), so it
// is unit-tested with the client; the Unreal plugin only copies these numbers into FVector/FQuat.
//
// Sora (protos/sora/v1/types.proto): right-handed, metres, +Z up (the server labels floors and
// tables against +Z); camera frames follow OpenCV (x right, y down, z forward).
// Unreal: left-handed, centimetres, +X forward, +Y right, +Z up; a camera looks along +X with +Z up.
//
// The world mapping is the reflection S that negates Y, with centimetres -> metres:
//   sora = (x, -y, z) / 100. Unreal forward (+X) is Sora +X, Unreal right (+Y) is Sora -Y (so
//   Sora +Y is left), up stays +Z: the streamed world is right-handed and Z-up, as the server
//   expects. S is its own inverse.
// - Points: negate Y and scale. Directions: negate Y.
// - Rotations of world objects (planes, objects, anchors, joints): R_ue = S R_sora S; as a
//   quaternion (x, y, z, w) -> (-x, y, -z, w). An object's local axes convert like the world's,
//   so a Sora plane's normal (+Z) is the Unreal plane's local +Z.
// - Camera and head rotations: R_sora = S R_ue C, where C takes OpenCV camera axes to Unreal
//   camera axes (ue = (cv_z, cv_x, -cv_y)); and back, R_ue = S R_sora C^T.
// - Triangles: a reflection flips their winding, so swap the 2nd and 3rd index of each triangle
//   (as in the Unity plugin) for Unreal's front faces.
#pragma once

#include <array>
#include <cstddef>

namespace sora::unreal {

using Vec3 = std::array<double, 3>;
/// (x, y, z, w)
using Quat = std::array<double, 4>;

/// Centimetres per metre.
inline constexpr double kCmPerM = 100.0;

/// Sora world point (metres) -> Unreal world point (centimetres).
Vec3 PointToUnreal(const Vec3& sora_m);
/// Unreal world point (centimetres) -> Sora world point (metres).
Vec3 PointFromUnreal(const Vec3& unreal_cm);
/// Directions (unitless): negate Y.
Vec3 DirectionToUnreal(const Vec3& sora);
Vec3 DirectionFromUnreal(const Vec3& unreal);

/// Rotation of a world object, Sora -> Unreal (and the same formula back).
Quat RotationToUnreal(const Quat& sora);
Quat RotationFromUnreal(const Quat& unreal);

/// Sora pose_world_camera rotation (OpenCV camera axes) -> Unreal camera rotation.
Quat CameraRotationToUnreal(const Quat& sora_world_camera);
/// Unreal camera (or head) rotation -> Sora pose_world_camera rotation (OpenCV axes).
Quat CameraRotationFromUnreal(const Quat& unreal_camera);

/// Box edge lengths (metres, along local axes) -> Unreal scale-free extents (centimetres).
Vec3 SizeToUnreal(const Vec3& sora_m);

/// Reverses the winding of every triangle in place.
template <typename Index>
void FlipWinding(Index* indices, std::size_t count) {
  for (std::size_t i = 0; i + 2 < count; i += 3) {
    Index t = indices[i + 1];
    indices[i + 1] = indices[i + 2];
    indices[i + 2] = t;
  }
}

// Small helpers the tests (and callers) use.
Quat Multiply(const Quat& a, const Quat& b);
Vec3 Rotate(const Quat& q, const Vec3& v);

}  // namespace sora::unreal
