"""Thresholds of the object layer, in one frozen dataclass (metres, seconds, degrees unless named otherwise)."""

from __future__ import annotations

from dataclasses import dataclass

from sora_sdk.core.config import ObjectsConfig

__all__ = ["ObjectOptions"]


@dataclass(frozen=True)
class ObjectOptions:
    """Discovery, tracking, relation and vocabulary thresholds of :class:`~sora_sdk.objects.ObjectMapper`.

    The defaults suit a 2 cm TSDF voxel (``MapperConfig.voxel_size_m``); lengths are metres in the world
    frame, heights are measured along the session's up direction.
    """

    # ---------------------------------------------------------------- support surfaces
    support_labels: tuple[str, ...] = ("floor", "table", "seat", "other")
    """plane labels (``PlaneLabel`` values) objects may stand on; the plane must also face up"""
    horizontal_tolerance_deg: float = 12.0
    """a plane faces up when its normal is within this angle of up"""
    support_min_area_m2: float = 0.09
    """smaller upward planes (a box's top) are parts of objects, not supports"""
    support_margin_m: float = 0.04
    """a point stands over a support when its projection is inside the support's boundary grown by this"""

    # ---------------------------------------------------------------- candidate points
    min_point_height_m: float = 0.015
    """surface points lower than this above their support are the support itself"""
    level_surface_band_m: float = 0.04
    """level surface points (normal within ``level_normal_tolerance_deg`` of up) lower than this above their
    support are the support too: real planes are fitted with centimetres of residual"""
    level_normal_tolerance_deg: float = 20.0
    """a surface point is level when its normal is within this angle of up"""
    max_point_height_m: float = 1.0
    """surface points higher than this above their support are not looked at"""
    structure_plane_min_area_m2: float = 0.09
    """non-horizontal planes at least this large (walls, shelf sides, backrests) are structure …"""
    structure_plane_min_extent_m: float = 0.45
    """… and so are those this long in either direction (a table's edge, a shelf's side)"""
    structure_plane_band_m: float = 0.025
    """points this close to a structure plane (and over its boundary, grown by ``support_margin_m``) are its"""
    underside_band_m: float = 0.035
    """points less than this below a support, over it, are its edge or what holds it (legs, skirts)"""

    # ---------------------------------------------------------------- clusters
    cluster_cell_m: float = 0.02
    """candidate points in 26-connected cells of this edge are one cluster (use the TSDF voxel size)"""
    min_cluster_points: int = 40
    """clusters with fewer surface points are noise"""
    min_object_height_m: float = 0.03
    """clusters nine tenths of whose points are lower than this above the support are flat (paper, a rug): not
    objects"""
    min_object_extent_m: float = 0.04
    """clusters whose footprint's longer side is shorter than this are specks"""
    max_object_extent_m: float = 1.0
    """clusters whose footprint's longer side is longer than this are furniture"""
    max_object_height_m: float = 0.9
    """clusters taller than this above their support are furniture"""
    max_base_gap_m: float = 0.06
    """a cluster whose lowest point is higher than this above its support floats: an edge of furniture, or
    what is left of a carved-out object"""
    max_post_aspect: float = 3.5
    """a cluster more than this many times as tall as its footprint is wide …"""
    post_min_height_m: float = 0.25
    """… and at least this tall is a post: a leg, a chair's side, a shelf's edge"""
    leg_max_width_m: float = 0.06
    """a cluster under another support whose footprint is narrower than this is what is seen of a leg"""
    open_top_probes: int = 24
    """with a free-space probe: footprint columns probed above the top of a cluster under another support …"""
    open_top_clearance_m: float = 0.05
    """… this far above their highest point …"""
    min_open_top_fraction: float = 0.3
    """… of which at least this share must be free: an object's top is seen with air above it, the
    visible end of a leg under a table is not"""
    max_rim_fraction: float = 0.5
    """a cluster with more than this share of its points next to structure-plane points is that structure's rim"""
    max_underside_points: int = 3
    """a cluster with more points than this in a support's underside band is what holds the support up"""

    # ---------------------------------------------------------------- tracking
    confirm_observations: int = ObjectsConfig.confirm_observations  # the server's setting, one default
    """updates a track must be observed in before it is confirmed (and published) …"""
    confirm_frames: float = ObjectsConfig.confirm_frames
    """… unless the map says its surface was already seen in this many depth frames (the median TSDF
    weight at its points, through the ``seen_count`` probe): an object first found when a scan stops
    (the last update before a pause) is backed by the frames fused, not by how often the updater ran"""
    publish_tentative: bool = False
    """publish tentative tracks too (subscribers then see objects that may vanish again)"""
    association_gate_m: float = 0.15
    """an observation may continue a track whose centroid is at most this far away (horizontally) …"""
    association_gate_fraction: float = 0.5
    """… or within this fraction of the track's footprint diagonal, whichever is larger"""
    max_size_ratio: float = 2.5
    """an observation may not continue a track whose footprint diagonal is more than this many times
    larger or smaller"""
    smoothing: float = 0.3
    """weight of a new observation in a track's box when it changed the box little (exponential smoothing,
    0..1); the weight grows to 1 for a change of twice ``republish_distance_m`` (the map grew there)"""
    republish_distance_m: float = 0.02
    """a track is re-sent when its centroid moved at least this far …"""
    republish_size_m: float = 0.02
    """… or a box edge changed at least this much …"""
    republish_yaw_deg: float = 10.0
    """… or its heading turned at least this much (modulo the box's symmetry), or its label, colour name,
    state or support changed"""
    tentative_max_misses: int = 3
    """a tentative track not observed in this many updates in a row is dropped"""
    lost_after_s: float = 3.0
    """a confirmed track not observed for this long (with no evidence that its place is free) is lost"""
    forget_lost_after_s: float = 600.0
    """a lost track is removed after this long without an observation"""
    detection_wait_s: float = 3.0
    """a detection that falls on no object yet (the map does not hold enough of its surface for discovery)
    waits this long, in capture time, for an update that finds one under it, and then votes for its label"""

    # ---------------------------------------------------------------- free space and moves
    free_probe_points: int = 4
    """points per box axis sampled inside a track's box for the free-space probe (n**3 in all)"""
    free_probe_shrink: float = 0.6
    """the probe samples the box's footprint shrunk to this fraction of its edges (stays off the surface), in
    the lower half of its height (the bulk of an object standing there, below any lingering top)"""
    free_fraction: float = 0.6
    """a track's place is free when at least this share of the probed points are free"""
    min_free_probes: int = 4
    """… and at least this many are"""
    remnant_memory_s: float = 60.0
    """for this long after a place was vacated, a new cluster there whose inside the probe finds empty is
    what the TSDF has not yet forgotten of the old object, not a new one"""
    move_max_size_change: float = 0.35
    """a new cluster continues a vanished track (a move) when every box edge is within this fraction …"""
    move_max_color_distance: float = 40.0
    """… and their colours are within this RGB distance (0..441), and the old place is free"""
    move_window_s: float = 15.0
    """a vacated track may also take over a track this young that looks like it (its object was seen at the
    new place before its old place was seen empty); the young track's ID is then removed"""

    # ---------------------------------------------------------------- relations
    on_max_gap_m: float = 0.04
    """``on``: the subject's bottom is at most this far from the top of what holds it"""
    near_max_distance_m: float = 0.5
    """``near``: box surfaces at most this far apart (and not ``next_to``)"""
    next_to_max_distance_m: float = 0.2
    """``next_to``: on the same support, box surfaces at most this far apart"""
    direction_min_separation_m: float = 0.05
    """left/right/in front/behind: the centroids differ by at least this along that axis of the view …"""
    direction_max_distance_m: float = 1.5
    """… and are at most this far apart (objects across the room are not "left of" each other)"""
    view_update_m: float = 0.5
    """the view relations follow the user's view once it moved at least this far …"""
    view_update_deg: float = 20.0
    """… or turned at least this much since the view they were computed for"""
    direction_dominance: float = 0.8
    """… and that axis carries at least this share of their horizontal separation (0.5 = 45 deg sectors
    overlap, 1 = only straight along the axis): keeps diagonal pairs from being both left of and behind"""

    # ---------------------------------------------------------------- vocabulary
    text_min_score: float = 0.42
    """a label matches a text query when the sentence embeddings' cosine is at least this"""
    text_relative_margin: float = 0.12
    """… and within this much of the best label's score"""
