"""Backfill burst: 10,000 articles through `marsad replay`, on a real local broker.

Starts a broker of its own (or uses ``--bootstrap``), writes an archive of generated Arabic
reports (new stories and follow-ups that revise them), runs ``marsad replay`` on it with the
Slack-compatible fake server as Slack, and samples every process meanwhile.

Figures: articles/s and time to drain (replay's own measure: from publishing until the
stream AND the notifier have consumed everything), how long the stream's lag on
``articles`` took to drain, the peak lag, peak RSS per process (replay, stream worker,
notifier, broker), alerts and Slack messages. The last line is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.drills.burst import run_burst  # noqa: E402
from tests.drills.harness import own_broker  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--bootstrap", default="", help="use this broker (default: start one)")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="marsad-bench-burst-") as tmp:
        broker = None
        bootstrap = args.bootstrap
        extra: dict[str, int] = {}
        if not bootstrap:
            broker = own_broker(Path(tmp) / "kafka")
            bootstrap = broker.bootstrap
            extra["broker"] = broker.pid() or 0
        try:
            result = run_burst(
                bootstrap, Path(tmp) / "run", args.articles, timeout=args.timeout, extra_pids=extra
            )
        finally:
            if broker is not None:
                broker.stop()
    figures = result.figures()
    print(f"replay exit {result.returncode}; {result.articles} articles")
    print(
        f"  {figures['articles_per_s']} articles/s end to end, drained in "
        f"{figures['time_to_drain_s']} s (stream lag drained in "
        f"{figures['stream_lag_drained_in_s']} s; peak lag {figures['peak_lag']})"
    )
    for role, mb in figures["peak_rss_mb"].items():
        print(f"  peak RSS {role:8s} {mb:8.1f} MiB")
    print(
        f"  {figures['alerts']} alerts, {figures['alert_revisions']} revisions; Slack "
        f"{figures['slack_messages']} messages + {figures['slack_replies']} thread replies"
    )
    if result.returncode != 0:
        print(result.output_tail, file=sys.stderr)
    print(json.dumps({"bench": "burst", "ok": result.returncode == 0, **figures}))
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
