"""Regenerate the README's pictures of the web desk: docs/desk-map.png, desk-timeline.png and
desk-incident.png, with Debian's headless Chromium.

Usage: .venv/bin/python docs/render_desk.py [OUT_DIR]   (default: docs/)

The store is a month of a busy desk: the browser tests' samples (``tests/support/web_desk.py``:
the attack near Al-Mayadin whose toll two reports raised, its evidence, its alert) and 600
incidents from the page-load benchmark's generator (``bench/bench_web.py``: real places of the
gazetteer over Syria and Iraq, tolls mostly small), all written through the store's writer and
served by the real app on 127.0.0.1. Each picture is the browser's viewport at a fixed size, then
``optipng`` (Debian package ``optipng``) when it is installed, so each file stays small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_web import sample  # noqa: E402

from desk.store.engine import open_engine  # noqa: E402
from desk.store.writer import store_alert, store_article, store_incident  # noqa: E402
from desk.web.app import create_app  # noqa: E402
from desk.web.store_source import StoreSource  # noqa: E402
from tests.support import browser  # noqa: E402
from tests.support.web_desk import RULES, TODAY, fill, serve  # noqa: E402

#: benchmark incidents beside the samples: about 140 in the map's default week
BUSY_MONTH = 600
#: (file, path, window width, window height)
SHOTS = (
    ("desk-map.png", "/", 1280, 1240),
    ("desk-timeline.png", f"/timeline?since={TODAY - timedelta(days=29)}", 1280, 1150),
    ("desk-incident.png", "/incidents/inc-dy", 1280, 2050),
)


def store(directory: Path) -> StoreSource:
    engine = open_engine(f"sqlite:///{directory / 'desk.db'}")
    fill(engine)
    articles, incidents, alerts = sample(TODAY, count=BUSY_MONTH, seed=7)
    with engine.begin() as conn:
        for article in articles:
            store_article(conn, article)
        for incident in incidents:
            store_incident(conn, incident)
        for alert in alerts:
            store_alert(conn, alert)
    return StoreSource(engine)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs"
    problem = browser.missing()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    optipng = shutil.which("optipng")
    with tempfile.TemporaryDirectory(prefix="marsad-desk-shots-") as tmp:
        source = store(Path(tmp))
        app = create_app(source, rules=RULES, today=lambda: TODAY)
        try:
            with serve(app) as served, browser.chromium() as chrome:
                for name, path, width, height in SHOTS:
                    chrome.set_window_size(width, height)
                    chrome.get(served.url + path)
                    target = out / name
                    chrome.save_screenshot(str(target))
                    if optipng:
                        subprocess.run([optipng, "-quiet", "-o2", str(target)], check=True)
                    print(f"{target}: {target.stat().st_size / 1024:.0f} KB")
        finally:
            source.close()
    if not optipng:
        print("optipng not installed: the pictures are not optimised", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
