"""The evaluation gate: figures on frozen gold sets may not fall below pinned floors.

Why: extraction rules are tuned by hand, and a rule that fixes one phrasing can quietly
break three others. The gate pins, per gold set, the figures it reached when someone last
raised them (``tests/fixtures/eval_baseline.json``) and a SHA-256 of the gold file, so that

* a drop in any figure fails ``make test`` (and says which set and which figure),
* an edited gold file fails too (the frozen test split must not drift to meet the rules),
* a missing gold file fails; it never skips.

Raising a floor is deliberate: ``marsad eval --gate FILE --pin`` rewrites the floors to the
current figures, and that change is committed on its own. Pure functions here; the CLI reads
files and runs the extractor.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stream.extract.evaluate import Figures

#: figures where higher is better (floors) and where lower is better (ceilings)
FLOOR_FIGURES = (
    "max_toll_exact",
    "alert_precision",
    "alert_recall",
    "incident_precision",
    "incident_recall",
    "largest_admin1",
    "largest_perpetrator",
    "largest_event_type",
    "main_alert_precision",
    "main_alert_recall",
)
CEILING_FIGURES = ("tally_leaks",)


class GoldSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gold: str = Field(description="path of the gold JSONL, relative to the repository root")
    sha256: str
    articles: int
    floors: dict[str, float]
    ceilings: dict[str, float] = Field(default_factory=dict)


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    about: str = ""
    sets: dict[str, GoldSet]


@dataclass(frozen=True)
class Breach:
    set_name: str
    what: str

    def __str__(self) -> str:
        return f"{self.set_name}: {self.what}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_baseline(path: Path) -> Baseline:
    return Baseline.model_validate(json.loads(path.read_text(encoding="utf-8")))


def check(name: str, pinned: GoldSet, digest: str | None, figures: Figures | None) -> list[Breach]:
    """What is wrong with one set against its pinned line (empty: it passes)."""
    if digest is None or figures is None:
        return [Breach(name, f"gold file {pinned.gold} is missing")]
    out: list[Breach] = []
    if digest != pinned.sha256:
        out.append(
            Breach(
                name,
                f"gold file {pinned.gold} changed (sha256 {digest[:12]}…, "
                f"pinned {pinned.sha256[:12]}…): the set is frozen",
            )
        )
    if figures.articles != pinned.articles:
        out.append(Breach(name, f"{figures.articles} articles, pinned {pinned.articles}"))
    for key, floor in pinned.floors.items():
        if getattr(figures, key) is None:
            out.append(Breach(name, f"{key} is no longer computed"))
            continue
        value = float(getattr(figures, key))
        if value + 1e-9 < floor:
            out.append(Breach(name, f"{key} {value:.4f} fell below its floor {floor:.4f}"))
    for key, ceiling in pinned.ceilings.items():
        value = float(getattr(figures, key))
        if value > ceiling + 1e-9:
            out.append(Breach(name, f"{key} {value:g} rose above its ceiling {ceiling:g}"))
    return out


def pinned_line(gold: str, digest: str, figures: Figures) -> GoldSet:
    """The line ``--pin`` writes: today's figures become the floors."""
    return GoldSet(
        gold=gold,
        sha256=digest,
        articles=figures.articles,
        floors={k: float(v) for k in FLOOR_FIGURES if (v := getattr(figures, k)) is not None},
        ceilings={k: float(getattr(figures, k)) for k in CEILING_FIGURES},
    )


def dump(baseline: Baseline) -> str:
    data: dict[str, Any] = baseline.model_dump()
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
