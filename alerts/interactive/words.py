"""The desk's words (``words.yaml``): loaded once, looked up by dotted key.

Why a data file: the sentences people read on buttons, modals and refusals are changed by
people who should not need to read the handler to do it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

WORDS_FILE = Path(__file__).resolve().parent / "words.yaml"


@lru_cache(maxsize=1)
def _words() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORDS_FILE.read_text("utf-8"))
    return data


def entry(key: str) -> Any:
    """The value at a dotted key (``"mute.durations"``); a KeyError names a missing key."""
    node: Any = _words()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"{WORDS_FILE.name} has no {key!r}")
        node = node[part]
    return node


def word(key: str, **values: object) -> str:
    """The sentence at ``key`` with its ``{placeholders}`` filled."""
    return str(entry(key)).format(**values)


def durations() -> dict[str, tuple[str, int]]:
    """Mute durations: code (``6h``) → (label, hours), in the file's order."""
    raw: dict[str, dict[str, Any]] = entry("mute.durations")
    return {code: (str(d["label"]), int(d["hours"])) for code, d in raw.items()}
