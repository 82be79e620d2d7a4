"""The map: shipped governorate outlines and incidents, laid out as SVG shapes (pure).

Why server-side SVG: the map must work with no tile server, no CDN and no JavaScript
library; an SVG the server writes is a page the browser only paints, and a test can count
its markers. The projection is Web Mercator (EPSG:3857), the one slippy-map tiles use, so an
optional tile background (``MARSAD_WEB_TILE_URL``) lines up with the outlines exactly.

The outlines are the kernel's (:func:`marsad.geography.boundaries`: Natural Earth admin-1,
built by ``scripts/build_boundaries.py``); an incident without coordinates of its own is drawn
at its governorate's centre, and one with neither is counted as "not on the map".

The markers' SVG is written here (:func:`marker_svg`), not by the template: a busy month draws
thousands of them, and having Jinja escape each attribute of each marker was most of the map
page's time (bench/bench_web.py). Only the two strings from the store (the id, the title) are
escaped; every other value of a marker is a number or a class name of ours.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple, Protocol

from markupsafe import Markup

from marsad.geography import boundaries, rings


class Placed(Protocol):
    """What a marker is drawn from: a :class:`desk.web.queries.MapPoint` or an
    :class:`~desk.store.records.IncidentRow` (both have these columns)."""

    @property
    def id(self) -> str: ...
    @property
    def day(self) -> date | None: ...
    @property
    def event_type(self) -> str: ...
    @property
    def sub_event_type(self) -> str: ...
    @property
    def admin1(self) -> str | None: ...
    @property
    def place_en(self) -> str | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def killed(self) -> int | None: ...


#: the SVG's width in its own units; its height follows from the area drawn
WIDTH = 1000.0
#: room around the outlines, in SVG units
MARGIN = 12.0
#: the CSS class of each event type's markers (and the legend's swatch)
EVENT_CLASSES = {
    "Battles": "ev-battles",
    "Explosions/Remote violence": "ev-explosions",
    "Violence against civilians": "ev-civilians",
    "Strategic developments": "ev-strategic",
}


@lru_cache(maxsize=1)
def governorate_codes() -> frozenset[str]:
    """ISO 3166-2 codes of the governorates on the map: what ``admin1`` may be."""
    return frozenset(f["properties"]["admin1"] for f in boundaries()["features"])


@lru_cache(maxsize=1)
def governorate_names() -> dict[str, tuple[str, str]]:
    """``{code: (English, Arabic)}`` as the boundary file names them."""
    return {
        f["properties"]["admin1"]: (f["properties"]["name_en"], f["properties"]["name_ar"])
        for f in boundaries()["features"]
    }


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator on the unit square: x, y in [0, 1], y growing southwards (as tiles)."""
    lat = max(-85.0, min(85.0, lat))
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180.0) / 360.0, 0.5 - y / (2 * math.pi)


@dataclass(frozen=True)
class Frame:
    """Where the unit square's area of interest lands in the SVG."""

    x0: float
    y0: float
    scale: float
    width: float
    height: float

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = mercator(lon, lat)
        return (
            round(MARGIN + (x - self.x0) * self.scale, 1),
            round(MARGIN + (y - self.y0) * self.scale, 1),
        )


@lru_cache(maxsize=1)
def frame() -> Frame:
    """The frame that fits every shipped governorate in :data:`WIDTH`."""
    xs, ys = [], []
    for feature in boundaries()["features"]:
        for ring in rings(feature):
            for lon, lat in ring:
                x, y = mercator(lon, lat)
                xs.append(x)
                ys.append(y)
    x0, y0 = min(xs), min(ys)
    scale = (WIDTH - 2 * MARGIN) / (max(xs) - x0)
    height = (max(ys) - y0) * scale + 2 * MARGIN
    return Frame(x0=x0, y0=y0, scale=scale, width=WIDTH, height=round(height, 1))


@dataclass(frozen=True)
class Outline:
    admin1: str
    country: str
    name_en: str
    name_ar: str
    #: the SVG path's ``d``
    path: str
    #: where the label and the incidents without coordinates go
    centre: tuple[float, float]


def _centre(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The area-weighted centroid of the largest ring (a point inside for these shapes)."""
    area = cx = cy = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        cross = x1 * y2 - x2 * y1
        area += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if area == 0:
        return points[0]
    return round(cx / (3 * area), 1), round(cy / (3 * area), 1)


@lru_cache(maxsize=1)
def outlines() -> tuple[Outline, ...]:
    """Every governorate as an SVG path, in the shipped order."""
    f = frame()
    out = []
    for feature in boundaries()["features"]:
        parts: list[str] = []
        largest: list[tuple[float, float]] = []
        for ring in rings(feature):
            pts = [f.point(lon, lat) for lon, lat in ring]
            if len(pts) > len(largest):
                largest = pts
            parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
        props = feature["properties"]
        out.append(
            Outline(
                admin1=props["admin1"],
                country=props["country"],
                name_en=props["name_en"],
                name_ar=props["name_ar"],
                path="".join(parts),
                centre=_centre(largest),
            )
        )
    return tuple(out)


class Marker(NamedTuple):
    """One marker (a named tuple: a busy month's map builds thousands per page)."""

    id: str
    x: float
    y: float
    r: float
    css: str
    title: str
    #: True when drawn at the governorate's centre (no coordinates of its own)
    approximate: bool


@lru_cache(maxsize=1024)
def radius(killed: int | None) -> float:
    """Area grows with the toll (radius with its square root), bounded so one massacre does
    not hide a governorate; an incident with no reported toll is the smallest dot."""
    return round(min(4.0 + 2.2 * math.sqrt(max(killed or 0, 0)), 30.0), 1)


def markers(rows: Iterable[Placed]) -> tuple[list[Marker], int]:
    """One marker per incident (largest first, so small ones stay clickable on top), and how
    many incidents had no place to draw."""
    f = frame()
    centres = {o.admin1: o.centre for o in outlines()}
    projected: dict[tuple[float, float], tuple[float, float]] = {}  # places recur
    out, unplaced = [], 0
    for row in rows:
        approximate = row.lat is None or row.lon is None
        if not approximate:
            assert row.lat is not None and row.lon is not None
            key = (row.lon, row.lat)
            if key not in projected:
                projected[key] = f.point(row.lon, row.lat)
            x, y = projected[key]
        elif row.admin1 in centres:
            x, y = centres[row.admin1]
        else:
            unplaced += 1
            continue
        toll = "toll not reported" if row.killed is None else f"{row.killed} killed"
        where = row.place_en or row.admin1 or "?"
        out.append(
            Marker(
                id=row.id,
                x=x,
                y=y,
                r=radius(row.killed),
                css=EVENT_CLASSES.get(row.event_type, "ev-other"),
                title=f"{row.day or '?'} · {row.sub_event_type} · {where} · {toll}",
                approximate=approximate,
            )
        )
    out.sort(key=lambda m: -m.r)
    return out, unplaced


def marker_svg(drawn: Iterable[Marker]) -> Markup:
    """The markers as SVG, each a link to its incident's page with its hover title."""
    parts = []
    escape = html.escape  # quotes too; plain str, so no Markup per attribute
    for m in drawn:
        mid = escape(m.id)
        css = f"marker {m.css} approximate" if m.approximate else f"marker {m.css}"
        parts.append(
            f'<a href="/incidents/{mid}"><circle class="{css}" data-id="{mid}" cx="{m.x}"'
            f' cy="{m.y}" r="{m.r}"><title>{escape(m.title)}</title></circle></a>'
        )
    return Markup("\n".join(parts))


@dataclass(frozen=True)
class Tile:
    href: str
    x: float
    y: float
    size: float


def tiles(template: str, zoom: int = 6) -> list[Tile]:
    """The slippy-map tiles under the frame at ``zoom``, placed in SVG units; ``template``
    has ``{z}``, ``{x}``, ``{y}`` (the usual tile URL form)."""
    f = frame()
    n = 2**zoom
    x_first, y_first = int(f.x0 * n), int(f.y0 * n)
    x_last = int((f.x0 + (f.width - 2 * MARGIN) / f.scale) * n)
    y_last = int((f.y0 + (f.height - 2 * MARGIN) / f.scale) * n)
    size = round(f.scale / n, 2)
    return [
        Tile(
            href=template.format(z=zoom, x=tx, y=ty),
            x=round(MARGIN + (tx / n - f.x0) * f.scale, 1),
            y=round(MARGIN + (ty / n - f.y0) * f.scale, 1),
            size=size,
        )
        for ty in range(y_first, y_last + 1)
        for tx in range(x_first, x_last + 1)
    ]
