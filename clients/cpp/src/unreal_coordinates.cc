#include "sora/unreal_coordinates.h"

#include <cmath>

namespace sora::unreal {
namespace {

Quat Normalized(const Quat& q) {
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (n < 1e-12) return {0, 0, 0, 1};
  return {q[0] / n, q[1] / n, q[2] / n, q[3] / n};
}

// S R S for S = diag(1, -1, 1): the axis maps to S axis and the angle changes sign.
Quat Reflect(const Quat& q) { return {-q[0], q[1], -q[2], q[3]}; }

// The rotation S C, which maps OpenCV camera axes into Sora world axes for an Unreal camera with
// identity rotation: cv (x, y, z) -> (z, -x, -y). As a quaternion: 120 degrees about (-1, 1, -1)/sqrt(3).
const Quat kCameraAxes = {-0.5, 0.5, -0.5, 0.5};

}  // namespace

Vec3 PointToUnreal(const Vec3& s) { return {s[0] * kCmPerM, -s[1] * kCmPerM, s[2] * kCmPerM}; }
Vec3 PointFromUnreal(const Vec3& u) { return {u[0] / kCmPerM, -u[1] / kCmPerM, u[2] / kCmPerM}; }
Vec3 DirectionToUnreal(const Vec3& s) { return {s[0], -s[1], s[2]}; }
Vec3 DirectionFromUnreal(const Vec3& u) { return {u[0], -u[1], u[2]}; }
Quat RotationToUnreal(const Quat& s) { return Reflect(s); }
Quat RotationFromUnreal(const Quat& u) { return Reflect(u); }
Vec3 SizeToUnreal(const Vec3& s) { return {s[0] * kCmPerM, s[1] * kCmPerM, s[2] * kCmPerM}; }

Quat CameraRotationFromUnreal(const Quat& u) {
  // R_sora = S R_ue C = (S R_ue S)(S C)
  return Normalized(Multiply(Reflect(u), kCameraAxes));
}

Quat CameraRotationToUnreal(const Quat& s) {
  // R_ue = S R_sora C^T = S R_sora (S C)^T S = Reflect(R_sora (S C)^T)
  const Quat inverse_axes = {-kCameraAxes[0], -kCameraAxes[1], -kCameraAxes[2], kCameraAxes[3]};
  return Normalized(Reflect(Multiply(s, inverse_axes)));
}

Quat Multiply(const Quat& a, const Quat& b) {
  return {a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
          a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
          a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
          a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2]};
}

Vec3 Rotate(const Quat& q, const Vec3& v) {
  const Vec3 u = {q[0], q[1], q[2]};
  const double w = q[3];
  auto cross = [](const Vec3& a, const Vec3& b) -> Vec3 {
    return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
  };
  Vec3 t = cross(u, v);
  for (double& x : t) x *= 2.0;
  const Vec3 ut = cross(u, t);
  return {v[0] + w * t[0] + ut[0], v[1] + w * t[1] + ut[1], v[2] + w * t[2] + ut[2]};
}

}  // namespace sora::unreal
