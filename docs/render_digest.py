"""Regenerate docs/example-digest.json and, with headless Chromium, docs/example-digest.png.

Usage: .venv/bin/python docs/render_digest.py [--png]

The digest of a made-up morning (08:00 in Damascus, 2 December 2026:
``tests.support.digest_samples.example_digest``). The payload is the one ``marsad digest``
posts; the PNG draws it with ``docs/render_example.py``'s mock of Slack's layout (Slack's own
rendering differs in fonts and spacing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from render_example import page  # type: ignore[import-not-found]  # noqa: E402

from alerts.digest.layout import digest_message  # noqa: E402
from alerts.digest.schedule import key  # noqa: E402
from tests.support.digest_samples import example_digest  # noqa: E402

CHANNEL = "#marsad-alerts"


def example() -> dict[str, Any]:
    digest = example_digest()
    return {
        "channel": CHANNEL,
        **digest_message(digest, key(CHANNEL, digest.local_date)).as_payload(),
    }


def main() -> None:
    payload = example()
    out = ROOT / "docs" / "example-digest.json"
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if "--png" not in sys.argv:
        return
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "digest.html"
        src.write_text(page(payload).replace(">06:12<", ">08:00<"), encoding="utf-8")
        png = ROOT / "docs" / "example-digest.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=780,770",
                f"--screenshot={png}",
                src.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
