"""`marsad extract` and `marsad eval`: the extractor at the command line (the I/O edge).

``marsad extract [FILE|-]`` reads JSON Lines articles and writes one JSON line per input
line; a bad line yields ``{"id": …, "error": …}`` and the run goes on, exiting non-zero at
the end.  ``marsad eval GOLD.jsonl`` scores the extractor on a gold file.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from marsad.commands import file_option
from marsad.records import Article, Extraction, RecordError, error_line

log = logging.getLogger(__name__)


def _parse(line: str) -> tuple[str | None, Article | None, str | None]:
    """(id, article, error) of one input line."""
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"not JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(data, dict):
        return None, None, "not a JSON object"
    article_id = data.get("id")
    article_id = str(article_id) if article_id is not None else None
    if not isinstance(data.get("text"), str):
        return article_id, None, "no text"
    if article_id is None:
        return None, None, "no id"
    try:
        return article_id, Article.from_json(data), None
    except RecordError as exc:
        return article_id, None, str(exc)


def extract_line(line: str) -> tuple[str, bool]:
    """The output line for one input line, and whether it is an error line."""
    from stream.extract import extract

    article_id, article, error = _parse(line)
    if article is None:
        return error_line(article_id, error or "unreadable"), True
    try:
        extraction = extract(article)
    except Exception as exc:  # one bad article must not stop the run
        log.exception("extraction failed for %s", article_id)
        return error_line(article_id, f"extraction failed: {type(exc).__name__}: {exc}"), True
    return extraction.to_json(), False


@click.command(name="extract")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
def extract_cmd(source: IO[str]) -> None:
    """Extract incidents from articles: JSON Lines in (FILE or -), JSON Lines out."""
    errors = total = 0
    for raw in source:
        line = raw.strip()
        total += 1
        out, failed = extract_line(line) if line else (error_line(None, "empty line"), True)
        errors += failed
        click.echo(out)
        sys.stdout.flush()
    log.info("extracted %d lines, %d errors", total, errors)
    if errors:
        raise SystemExit(1)


def _read_gold(source: IO[str]) -> list[dict[str, Any]]:
    rows = []
    for n, raw in enumerate(source, 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"gold line {n} is not JSON: {exc.msg}") from exc
        if not isinstance(row, dict) or "gold" not in row or "text" not in row:
            raise click.ClickException(f"gold line {n} has no 'text' or 'gold'")
        rows.append(row)
    return rows


def _score_rows(rows: list[dict[str, Any]]) -> Any:
    """Figures of the extractor over gold rows (each keeps its ``gold`` and ``category``)."""
    from stream.extract import extract
    from stream.extract.confidence import model
    from stream.extract.evaluate import aggregate, score_article
    from stream.extract.lexicon import lexicon
    from stream.extract.places import gazetteer

    lexicon(), gazetteer()  # load data before timing
    threshold = model().alert_threshold
    scores = []
    elapsed = 0.0
    for row in rows:
        row = dict(row)
        gold = row.pop("gold")
        category = row.pop("category", None)
        article = Article.model_validate(row)
        start = time.perf_counter()
        extraction: Extraction = extract(article)
        elapsed += time.perf_counter() - start
        scores.append(score_article(article.id, gold, extraction, category, threshold))
    return aggregate(scores, 1000 * elapsed / len(rows) if rows else None)


def _repo_root(baseline: Path) -> Path:
    """Gold paths in a baseline file are relative to the repository holding it."""
    for parent in baseline.resolve().parents:
        if (parent / "pyproject.toml").exists():
            return parent
    return baseline.resolve().parent


def _run_gate(baseline_path: Path, pin: bool, quiet: bool) -> None:
    from stream.extract.evaluate import render
    from stream.extract.gate import check, dump, load_baseline, pinned_line, sha256_of

    try:
        baseline = load_baseline(baseline_path)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{baseline_path}: {exc}") from exc
    root = _repo_root(baseline_path)
    breaches = []
    for name, pinned in baseline.sets.items():
        path = (root / pinned.gold).resolve()
        if not path.is_file():
            breaches.extend(check(name, pinned, None, None))
            continue
        with path.open(encoding="utf-8") as fh:
            figures = _score_rows(_read_gold(fh))
        digest = sha256_of(path)
        if not quiet:
            click.echo(f"== {name} ({pinned.gold})")
            click.echo(render(figures))
            click.echo("")
        if pin:
            baseline.sets[name] = pinned_line(pinned.gold, digest, figures)
        else:
            breaches.extend(check(name, pinned, digest, figures))
    if pin:
        baseline_path.write_text(dump(baseline), encoding="utf-8")
        click.echo(f"pinned today's figures as the floors in {baseline_path}")
        return
    if breaches:
        for b in breaches:
            click.echo(f"GATE FAILED: {b}", err=True)
        raise SystemExit(1)
    click.echo(f"evaluation gate passed: {', '.join(baseline.sets)} at or above their floors")


@click.command(name="eval")
@click.argument("gold_file", type=click.File("r", encoding="utf-8"), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--details", is_flag=True, help="With --json: include per-article scores.")
@file_option(
    "--gate",
    "gate_file",
    "Score every set of a baseline file and fail if a figure fell below its floor.",
)
@click.option("--pin", is_flag=True, help="With --gate: write today's figures as the floors.")
@click.option("--quiet", is_flag=True, help="With --gate: print only the verdict.")
def eval_cmd(
    gold_file: IO[str] | None,
    as_json: bool,
    details: bool,
    gate_file: Path | None,
    pin: bool,
    quiet: bool,
) -> None:
    """Score the extractor on a gold file in the seeds' format, or run the gate."""
    from stream.extract.evaluate import render

    if gate_file is not None:
        _run_gate(gate_file, pin, quiet)
        return
    if gold_file is None:
        raise click.UsageError("give a GOLD_FILE, or --gate BASELINE")
    figures = _score_rows(_read_gold(gold_file))
    if as_json:
        click.echo(json.dumps(figures.to_dict(details), ensure_ascii=False, indent=2))
    else:
        click.echo(render(figures))
