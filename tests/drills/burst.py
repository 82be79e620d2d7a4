"""A backfill burst through ``marsad replay``, measured: articles/s, peak RSS, time to drain.

Shared by drill 7 (a CI-sized burst) and ``bench/bench_burst.py`` (10,000 articles). The
replay runs exactly as a user runs it — ``marsad replay ARTICLES.jsonl`` as a subprocess,
under its own topic prefix and home, with the Slack-compatible fake server as Slack — while
this module samples, every ``sample_s``:

* the RSS of the replay process and of every descendant (the stream worker, the notifier),
  keeping each one's peak, keyed by its ``marsad`` subcommand;
* the replay app's consumer lag on ``articles`` (the app id is read from replay's first
  output line), so the figures show the backlog building up and draining to zero.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.drills.harness import MARSAD, PARTITIONS, REPO, new_prefix, rss_mb, warm_coordinator
from tests.drills.reports import first_report, follow_up, story
from tests.support.slack_server import DEFAULT_TOKEN, SlackServer

#: replay's first line: "replay <app id>: <n> article(s) -> <bootstrap>; namespace <prefix>;"
APP_LINE = re.compile(r"replay (\S+): (\d+) article\(s\) -> \S+; namespace (\S+);")
#: replay's summary: "<n> article(s) in <s> s (<rate>/s)" — publish to every consumer drained.
DONE_LINE = re.compile(r"article\(s\) in ([\d.]+) s \(([\d.]+)/s\)")


def write_archive(path: Path, count: int, base_url: str = "https://archive.example/a") -> int:
    """``count`` articles as JSON Lines: new stories, every fourth line a follow-up."""
    with path.open("w", encoding="utf-8") as out:
        seq = 0
        for n in range(count):
            if n % 4 == 3 and seq > 2:
                report = follow_up(story(seq - 2), 1)
            else:
                report = first_report(story(seq))
                seq += 1
            article = {
                "id": f"burst-{n}",
                "title": report.title,
                "text": report.text,
                "published_at": report.published.isoformat(),
                "url": f"{base_url}/{report.slug}",
                "source": "burst",
                "language": "ar",
            }
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    return count


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc: no psutil needed)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _role(pid: int) -> str:
    """``replay``, ``stream``, ``alerts``… — the marsad subcommand a process runs."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode("utf-8", "replace") for a in argv if a]
    for i, word in enumerate(words):
        if word.endswith("marsad") and i + 1 < len(words):
            return words[i + 1]
    return Path(words[0]).name if words else "?"


@dataclass
class BurstResult:
    articles: int
    returncode: int
    wall_s: float
    #: replay's own figure: from publishing to the stream AND the notifier being drained.
    end_to_end_s: float | None
    #: from the first sample with a backlog on ``articles`` to the stream's lag back at 0.
    stream_drain_s: float | None
    articles_per_s: float
    peak_rss_mb: dict[str, float]
    peak_lag: int
    lag_samples: list[tuple[float, int]] = field(default_factory=list)
    alert_revisions: int = 0
    #: Last revisions of twin alerts merged into another: an edit in Slack, never a reply.
    merged_revisions: int = 0
    alerts: int = 0
    slack_messages: int = 0
    slack_replies: int = 0
    output_tail: str = ""

    def figures(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "articles_per_s": round(self.articles_per_s, 1),
            "time_to_drain_s": self.end_to_end_s,
            "stream_lag_drained_in_s": (
                round(self.stream_drain_s, 1) if self.stream_drain_s is not None else None
            ),
            "wall_s": round(self.wall_s, 1),
            "peak_rss_mb": {k: round(v, 1) for k, v in sorted(self.peak_rss_mb.items())},
            "peak_lag": self.peak_lag,
            "alerts": self.alerts,
            "alert_revisions": self.alert_revisions,
            "merged_revisions": self.merged_revisions,
            "slack_messages": self.slack_messages,
            "slack_replies": self.slack_replies,
        }


def run_burst(
    bootstrap: str,
    workdir: Path,
    count: int,
    *,
    timeout: float = 1800.0,
    sample_s: float = 0.5,
    extra_pids: dict[str, int] | None = None,
) -> BurstResult:
    """Replay ``count`` generated articles on ``bootstrap``; measure while it runs."""
    from marsad.kafka.probes import GroupProbe
    from marsad.topics import Topics, ensure_topics

    workdir.mkdir(parents=True, exist_ok=True)
    prefix = new_prefix("burst")
    ensure_topics(bootstrap, PARTITIONS, Topics(prefix))
    warm_coordinator(bootstrap)
    archive = workdir / "archive.jsonl"
    write_archive(archive, count)
    alerts_out = workdir / "alerts.jsonl"
    peaks: dict[str, float] = {}
    lag_samples: list[tuple[float, int]] = []
    with SlackServer() as slack:
        env = {
            **os.environ,
            "MARSAD_TOPIC_PREFIX": prefix,
            "MARSAD_HOME": str(workdir / "home"),
            "MARSAD_KAFKA_BOOTSTRAP": bootstrap,
            "MARSAD_PARTITIONS": str(PARTITIONS),
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "SLACK_WEBHOOK_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
        log_path = workdir / "replay.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [MARSAD, "replay", str(archive), "--alerts-out", str(alerts_out)],
                env=env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            app_id: str | None = None
            articles = f"{prefix}articles"
            drained_at: float | None = None
            probe: GroupProbe | None = None
            try:
                while proc.poll() is None:
                    if time.monotonic() - started > timeout:
                        proc.kill()
                        raise TimeoutError(f"replay of {count} articles exceeded {timeout:.0f} s")
                    for pid in [proc.pid, *_children(proc.pid)]:
                        rss = rss_mb(pid)
                        if rss is not None:
                            role = _role(pid)
                            peaks[role] = max(peaks.get(role, 0.0), rss)
                    for role, pid in (extra_pids or {}).items():
                        rss = rss_mb(pid)
                        if rss is not None:
                            peaks[role] = max(peaks.get(role, 0.0), rss)
                    if app_id is None:
                        found = APP_LINE.search(log_path.read_text(errors="replace"))
                        if found:
                            app_id = found.group(1)
                            articles = f"{found.group(3)}articles"  # the run's own namespace
                            probe = GroupProbe(bootstrap)
                    if probe is not None and app_id is not None:
                        try:
                            lag = probe.lag(app_id, [articles]).get(articles, 0)
                            lag_samples.append((round(time.monotonic() - started, 1), lag))
                            if lag == 0 and drained_at is None and len(lag_samples) > 1:
                                drained_at = time.monotonic()
                            elif lag > 0:
                                drained_at = None
                        except Exception:  # group not there yet / being deleted at the end
                            pass
                    time.sleep(sample_s)  # sampling period of the measurement
            finally:
                if probe is not None:
                    probe.close()
                if proc.poll() is None:
                    proc.kill()
                proc.wait(30)
        wall = time.monotonic() - started
        output = log_path.read_text(errors="replace")
        revisions = (
            [json.loads(x) for x in alerts_out.read_text().splitlines()]
            if (alerts_out.exists())
            else []
        )
        messages = [m for ms in slack.all_messages().values() for m in ms]
    replies = [m for m in messages if m.get("thread_ts") and m["thread_ts"] != m["ts"]]
    publish_start = next((t for t, lag in lag_samples if lag > 0), None)
    drained = (
        drained_at - started - publish_start
        if drained_at is not None and publish_start is not None
        else None
    )
    done = DONE_LINE.search(output)
    end_to_end = float(done.group(1)) if done else None
    return BurstResult(
        articles=count,
        returncode=proc.returncode,
        wall_s=wall,
        end_to_end_s=end_to_end,
        stream_drain_s=drained,
        articles_per_s=count / end_to_end if end_to_end else count / wall,
        peak_rss_mb=peaks,
        peak_lag=max((lag for _, lag in lag_samples), default=0),
        lag_samples=lag_samples,
        alert_revisions=len({(a["id"], a["revision"]) for a in revisions}),
        merged_revisions=len({(a["id"], a["revision"]) for a in revisions if a.get("merged_into")}),
        alerts=len({a["id"] for a in revisions}),
        slack_messages=len(messages) - len(replies),
        slack_replies=len(replies),
        output_tail=output[-3000:],
    )
