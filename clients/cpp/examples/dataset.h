// Readers for RGB-D dataset folders, sending image files as they are (PNG/JPEG bytes).
//
// TUM RGB-D (rgb.txt, depth.txt, optional associate.txt, groundtruth.txt: `t tx ty tz qx qy qz qw`,
// camera-to-world, OpenCV camera axes; depth PNG /5000 m) and Redwood / Open3D sample folders
// (color/, depth/ PNG millimetres, rgbd.match, trajectory.log 4x4 camera-to-world,
// camera_primesense.json intrinsics). The same conventions as sora_sdk.datasets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sora/v1/sensor.pb.h"

namespace example {

struct DatasetFrame {
  std::uint64_t sequence = 0;
  double capture_time_s = 0.0;
  /// T_W_C: translation (metres) and rotation quaternion (x, y, z, w).
  std::optional<std::array<double, 7>> pose_world_camera;
  std::string color_path;
  std::string depth_path;
};

struct Dataset {
  std::string format;  // "tum" | "redwood"
  sora::v1::CameraIntrinsics intrinsics;
  double depth_m_per_unit = 0.001;
  std::vector<DatasetFrame> frames;
};

/// Reads a TUM or Redwood folder (detected by its files). Throws std::runtime_error.
Dataset ReadDataset(const std::string& folder);

/// One CameraFrame with the image files' bytes as they are (PNG depth, PNG or JPEG colour).
sora::v1::CameraFrame LoadFrame(const Dataset& dataset, const DatasetFrame& frame);

}  // namespace example
