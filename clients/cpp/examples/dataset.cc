#include "dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace fs = std::filesystem;

namespace example {
namespace {

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Lines without comments or blanks, split on whitespace.
std::vector<std::vector<std::string>> ReadTable(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::vector<std::string> row;
    for (std::string w; s >> w;) row.push_back(w);
    if (!row.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

// Image size from the file header: PNG IHDR, or a JPEG SOFn segment.
std::pair<std::uint32_t, std::uint32_t> ImageSize(const std::string& b, const std::string& name) {
  auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(b.at(i))); };
  if (b.size() > 24 && b.compare(1, 3, "PNG") == 0) {
    return {u8(16) << 24 | u8(17) << 16 | u8(18) << 8 | u8(19), u8(20) << 24 | u8(21) << 16 | u8(22) << 8 | u8(23)};
  }
  if (b.size() > 4 && u8(0) == 0xFF && u8(1) == 0xD8) {
    std::size_t i = 2;
    while (i + 9 < b.size()) {
      if (u8(i) != 0xFF) { ++i; continue; }
      const std::uint32_t marker = u8(i + 1);
      const std::uint32_t length = u8(i + 2) << 8 | u8(i + 3);
      const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) return {u8(i + 7) << 8 | u8(i + 8), u8(i + 5) << 8 | u8(i + 6)};
      i += 2 + length;
    }
  }
  throw std::runtime_error(name + ": not a PNG or JPEG file");
}

std::array<double, 4> Slerp(std::array<double, 4> a, std::array<double, 4> b, double t) {
  double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  if (dot < 0) {
    for (auto& v : b) v = -v;
    dot = -dot;
  }
  std::array<double, 4> out{};
  if (dot > 0.9995) {
    for (int i = 0; i < 4; ++i) out[i] = a[i] + t * (b[i] - a[i]);
  } else {
    const double theta = std::acos(dot);
    const double wa = std::sin((1 - t) * theta) / std::sin(theta), wb = std::sin(t * theta) / std::sin(theta);
    for (int i = 0; i < 4; ++i) out[i] = wa * a[i] + wb * b[i];
  }
  const double n = std::sqrt(out[0] * out[0] + out[1] * out[1] + out[2] * out[2] + out[3] * out[3]);
  for (auto& v : out) v /= n;
  return out;
}

// Rotation matrix (row-major) -> quaternion (x, y, z, w).
std::array<double, 4> QuatFromMatrix(const double r[3][3]) {
  const double trace = r[0][0] + r[1][1] + r[2][2];
  double x, y, z, w;
  if (trace > 0) {
    const double s = 0.5 / std::sqrt(trace + 1.0);
    w = 0.25 / s, x = (r[2][1] - r[1][2]) * s, y = (r[0][2] - r[2][0]) * s, z = (r[1][0] - r[0][1]) * s;
  } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
    const double s = 2.0 * std::sqrt(1.0 + r[0][0] - r[1][1] - r[2][2]);
    w = (r[2][1] - r[1][2]) / s, x = 0.25 * s, y = (r[0][1] + r[1][0]) / s, z = (r[0][2] + r[2][0]) / s;
  } else if (r[1][1] > r[2][2]) {
    const double s = 2.0 * std::sqrt(1.0 + r[1][1] - r[0][0] - r[2][2]);
    w = (r[0][2] - r[2][0]) / s, x = (r[0][1] + r[1][0]) / s, y = 0.25 * s, z = (r[1][2] + r[2][1]) / s;
  } else {
    const double s = 2.0 * std::sqrt(1.0 + r[2][2] - r[0][0] - r[1][1]);
    w = (r[1][0] - r[0][1]) / s, x = (r[0][2] + r[2][0]) / s, y = (r[1][2] + r[2][1]) / s, z = 0.25 * s;
  }
  return {x, y, z, w};
}

sora::v1::CameraIntrinsics Intrinsics(std::uint32_t w, std::uint32_t h, double fx, double fy, double cx, double cy) {
  sora::v1::CameraIntrinsics k;
  k.set_width_px(w);
  k.set_height_px(h);
  k.set_fx_px(fx);
  k.set_fy_px(fy);
  k.set_cx_px(cx);
  k.set_cy_px(cy);
  return k;
}

// TUM's associate.py: candidate pairs closer than max_diff, taken closest first.
std::vector<std::pair<std::size_t, std::size_t>> Associate(const std::vector<double>& a, const std::vector<double>& b,
                                                           double max_diff) {
  std::vector<std::tuple<double, std::size_t, std::size_t>> candidates;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j)
      if (std::abs(a[i] - b[j]) < max_diff) candidates.emplace_back(std::abs(a[i] - b[j]), i, j);
  std::sort(candidates.begin(), candidates.end());
  std::vector<bool> used_a(a.size()), used_b(b.size());
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (const auto& [d, i, j] : candidates) {
    if (used_a[i] || used_b[j]) continue;
    used_a[i] = used_b[j] = true;
    pairs.emplace_back(i, j);
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

Dataset ReadTum(const fs::path& root) {
  Dataset d;
  d.format = "tum";
  d.depth_m_per_unit = 1.0 / 5000.0;
  std::string name = root.filename().string();
  if (name.empty()) name = root.parent_path().filename().string();
  // The benchmark's published colour calibrations; fr1 unless the folder names fr2/fr3.
  if (name.find("freiburg2") != std::string::npos || name.find("fr2") != std::string::npos) {
    d.intrinsics = Intrinsics(640, 480, 520.9, 521.0, 325.1, 249.7);
  } else if (name.find("freiburg3") != std::string::npos || name.find("fr3") != std::string::npos) {
    d.intrinsics = Intrinsics(640, 480, 535.4, 539.2, 320.1, 247.6);
  } else {
    d.intrinsics = Intrinsics(640, 480, 517.3, 516.5, 318.6, 255.3);
  }

  // (rgb time, rgb path, depth time, depth path), kept where both files exist.
  std::vector<std::tuple<double, std::string, double, std::string>> pairs;
  if (fs::exists(root / "associate.txt")) {
    for (const auto& row : ReadTable(root / "associate.txt")) {
      if (row.size() >= 4) pairs.emplace_back(std::stod(row[0]), row[1], std::stod(row[2]), row[3]);
    }
  } else {
    std::vector<double> rt, dt;
    std::vector<std::string> rp, dp;
    for (const auto& row : ReadTable(root / "rgb.txt")) rt.push_back(std::stod(row.at(0))), rp.push_back(row.at(1));
    for (const auto& row : ReadTable(root / "depth.txt")) dt.push_back(std::stod(row.at(0))), dp.push_back(row.at(1));
    for (const auto& [i, j] : Associate(rt, dt, 0.02)) pairs.emplace_back(rt[i], rp[i], dt[j], dp[j]);
  }
  pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                             [&](const auto& p) {
                               return !fs::exists(root / std::get<1>(p)) || !fs::exists(root / std::get<3>(p));
                             }),
              pairs.end());

  std::vector<std::pair<double, std::array<double, 7>>> gt;
  if (fs::exists(root / "groundtruth.txt")) {
    for (const auto& row : ReadTable(root / "groundtruth.txt")) {
      if (row.size() < 8) continue;
      std::array<double, 7> p{};
      for (int i = 0; i < 7; ++i) p[i] = std::stod(row[i + 1]);
      gt.emplace_back(std::stod(row[0]), p);
    }
    std::sort(gt.begin(), gt.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  }
  // Ground truth interpolated to the depth time (linear translation, slerp rotation) between
  // samples at most 0.1 s apart; within 0.02 s of either end, the end sample.
  auto pose_at = [&](double t) -> std::optional<std::array<double, 7>> {
    if (gt.empty()) return std::nullopt;
    auto it = std::lower_bound(gt.begin(), gt.end(), t, [](const auto& s, double v) { return s.first < v; });
    if (it == gt.begin()) return std::abs(t - it->first) < 0.02 ? std::optional(it->second) : std::nullopt;
    if (it == gt.end()) return std::abs(t - gt.back().first) < 0.02 ? std::optional(gt.back().second) : std::nullopt;
    const auto& [t1, p1] = *it;
    const auto& [t0, p0] = *(it - 1);
    if (t1 - t0 > 0.1) return std::nullopt;
    const double a = (t - t0) / (t1 - t0);
    std::array<double, 7> p{};
    for (int i = 0; i < 3; ++i) p[i] = p0[i] + a * (p1[i] - p0[i]);
    const auto q = Slerp({p0[3], p0[4], p0[5], p0[6]}, {p1[3], p1[4], p1[5], p1[6]}, a);
    for (int i = 0; i < 4; ++i) p[3 + i] = q[i];
    return p;
  };

  std::uint64_t seq = 0;
  for (const auto& [rt, rp, dt, dp] : pairs) {
    DatasetFrame f;
    f.sequence = seq++;
    f.capture_time_s = dt;
    f.pose_world_camera = pose_at(dt);
    f.color_path = (root / rp).string();
    f.depth_path = (root / dp).string();
    d.frames.push_back(std::move(f));
  }
  return d;
}

Dataset ReadRedwood(const fs::path& root) {
  Dataset d;
  d.format = "redwood";
  d.depth_m_per_unit = 0.001;
  d.intrinsics = Intrinsics(640, 480, 525.0, 525.0, 319.5, 239.5);  // PrimeSense defaults
  for (const char* name : {"camera_primesense.json", "camera_intrinsic.json", "intrinsic.json", "intrinsics.json"}) {
    if (!fs::exists(root / name)) continue;
    // Open3D PinholeCameraIntrinsic JSON: width, height, intrinsic_matrix (column-major 3x3).
    const std::string text = ReadFile(root / name);
    auto number_after = [&](const std::string& key) {
      const auto at = text.find("\"" + key + "\"");
      if (at == std::string::npos) throw std::runtime_error(std::string(name) + ": no " + key);
      return std::stod(text.substr(text.find(':', at) + 1));
    };
    std::vector<double> m;
    std::size_t at = text.find('[', text.find("\"intrinsic_matrix\""));
    const std::size_t end = text.find(']', at);
    for (std::size_t i = at + 1; i < end;) {
      std::size_t used = 0;
      m.push_back(std::stod(text.substr(i, end - i), &used));
      i += used;
      i = text.find_first_not_of(" \t\r\n,", i);
    }
    if (m.size() != 9) throw std::runtime_error(std::string(name) + ": intrinsic_matrix needs 9 numbers");
    d.intrinsics = Intrinsics(static_cast<std::uint32_t>(number_after("width")),
                              static_cast<std::uint32_t>(number_after("height")), m[0], m[4], m[6], m[7]);
    break;
  }

  std::vector<std::pair<std::string, std::string>> pairs;  // (colour, depth)
  if (fs::exists(root / "rgbd.match")) {
    for (const auto& row : ReadTable(root / "rgbd.match")) {
      if (row.size() >= 2) pairs.emplace_back(row[1], row[0]);
    }
  } else {
    std::vector<std::string> colors, depths;
    for (const auto& e : fs::directory_iterator(root / "color")) colors.push_back("color/" + e.path().filename().string());
    for (const auto& e : fs::directory_iterator(root / "depth")) depths.push_back("depth/" + e.path().filename().string());
    std::sort(colors.begin(), colors.end());
    std::sort(depths.begin(), depths.end());
    for (std::size_t i = 0; i < std::min(colors.size(), depths.size()); ++i) pairs.emplace_back(colors[i], depths[i]);
  }

  // trajectory.log: "i j n" then four rows of the 4x4 T_W_C of frame i.
  std::map<std::uint64_t, std::array<double, 7>> poses;
  if (fs::exists(root / "trajectory.log")) {
    const auto rows = ReadTable(root / "trajectory.log");
    for (std::size_t r = 0; r + 4 < rows.size() && rows[r].size() == 3; r += 5) {
      double m[3][3];
      std::array<double, 7> p{};
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) m[i][j] = std::stod(rows[r + 1 + i].at(j));
        p[i] = std::stod(rows[r + 1 + i].at(3));
      }
      const auto q = QuatFromMatrix(m);
      for (int i = 0; i < 4; ++i) p[3 + i] = q[i];
      poses[std::stoull(rows[r][0])] = p;
    }
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    DatasetFrame f;
    f.sequence = i;
    f.capture_time_s = static_cast<double>(i) / 30.0;  // Redwood folders carry no timestamps
    if (auto it = poses.find(i); it != poses.end()) f.pose_world_camera = it->second;
    f.color_path = (root / pairs[i].first).string();
    f.depth_path = (root / pairs[i].second).string();
    d.frames.push_back(std::move(f));
  }
  return d;
}

}  // namespace

Dataset ReadDataset(const std::string& folder) {
  const fs::path root(folder);
  if (!fs::is_directory(root)) throw std::runtime_error(folder + " is not a folder");
  if (fs::exists(root / "rgb.txt") && fs::exists(root / "depth.txt")) return ReadTum(root);
  if (fs::is_directory(root / "color") && fs::is_directory(root / "depth")) return ReadRedwood(root);
  throw std::runtime_error(folder + ": neither a TUM (rgb.txt, depth.txt) nor a Redwood (color/, depth/) folder");
}

sora::v1::CameraFrame LoadFrame(const Dataset& dataset, const DatasetFrame& frame) {
  sora::v1::CameraFrame msg;
  msg.set_sequence(frame.sequence);
  msg.set_capture_time_s(frame.capture_time_s);
  if (frame.pose_world_camera) {
    const auto& p = *frame.pose_world_camera;
    auto* pose = msg.mutable_pose_world_camera();
    pose->mutable_position_m()->set_x(static_cast<float>(p[0]));
    pose->mutable_position_m()->set_y(static_cast<float>(p[1]));
    pose->mutable_position_m()->set_z(static_cast<float>(p[2]));
    pose->mutable_orientation()->set_x(static_cast<float>(p[3]));
    pose->mutable_orientation()->set_y(static_cast<float>(p[4]));
    pose->mutable_orientation()->set_z(static_cast<float>(p[5]));
    pose->mutable_orientation()->set_w(static_cast<float>(p[6]));
  }

  std::string depth = ReadFile(frame.depth_path);
  const auto [dw, dh] = ImageSize(depth, frame.depth_path);
  // Intrinsics are given at the depth image's resolution.
  auto k = dataset.intrinsics;
  if (k.width_px() != dw || k.height_px() != dh) {
    const double sx = static_cast<double>(dw) / k.width_px(), sy = static_cast<double>(dh) / k.height_px();
    k = Intrinsics(dw, dh, k.fx_px() * sx, k.fy_px() * sy, (k.cx_px() + 0.5) * sx - 0.5, (k.cy_px() + 0.5) * sy - 0.5);
  }
  *msg.mutable_intrinsics() = k;
  auto* d = msg.mutable_depth();
  d->set_encoding(sora::v1::DEPTH_ENCODING_PNG_U16);
  d->set_width_px(dw);
  d->set_height_px(dh);
  d->set_m_per_unit(dataset.depth_m_per_unit);
  d->set_data(std::move(depth));

  std::string color = ReadFile(frame.color_path);
  const auto [cw, ch] = ImageSize(color, frame.color_path);
  auto* c = msg.mutable_color();
  const bool png = color.size() > 4 && color.compare(1, 3, "PNG") == 0;
  c->set_encoding(png ? sora::v1::COLOR_ENCODING_PNG : sora::v1::COLOR_ENCODING_JPEG);
  c->set_width_px(cw);
  c->set_height_px(ch);
  c->set_data(std::move(color));
  return msg;
}

}  // namespace example
