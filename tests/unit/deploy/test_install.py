"""The install stays lean: none of camel-tools' model-serving stack is installed.

Marsad uses camel_tools.utils only; pyproject.toml's ``[tool.uv] override-dependencies`` drops
the rest from uv.lock. If a dependency change brings torch, CUDA or transformers back, this
fails rather than letting every install grow by gigabytes again.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HEAVY = re.compile(r"^(torch|triton|transformers|nvidia-.*|scipy|scikit-learn|pandas|numpy)$")


def _installed() -> set[str]:
    return {
        re.sub(r"[-_.]+", "-", (dist.metadata["Name"] or "").lower())
        for dist in metadata.distributions()
    }


def test_no_model_serving_package_is_installed() -> None:
    heavy = sorted(name for name in _installed() if HEAVY.match(name))
    assert heavy == [], f"installed but never used: {heavy} (see [tool.uv] in pyproject.toml)"


def test_the_camel_tools_utilities_marsad_uses_still_import() -> None:
    from camel_tools.utils.dediac import dediac_ar
    from camel_tools.utils.normalize import normalize_alef_ar

    assert dediac_ar("أَحْمَد") == "أحمد"
    assert normalize_alef_ar("أحمد") == "احمد"


def test_the_lock_pins_every_dependency_and_drops_the_heavy_ones() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in lock["package"]}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in project["project"]["dependencies"]:
        name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in packages and packages[name].get("version"), name
    camel = next(p for p in lock["package"] if p["name"] == "camel-tools")
    kept = {d["name"] for d in camel.get("dependencies", []) if "marker" not in d}
    assert not any(HEAVY.match(name) for name in kept), kept
