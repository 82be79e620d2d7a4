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
from typing import IO, Any

import click

from marsad.records import Article, Extraction, RecordError, error_line

log = logging.getLogger("marsad.extract")


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


@click.command(name="eval")
@click.argument("gold_file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--details", is_flag=True, help="With --json: include per-article scores.")
def eval_cmd(gold_file: IO[str], as_json: bool, details: bool) -> None:
    """Score the extractor on a gold file in the seeds' format."""
    from stream.extract import extract
    from stream.extract.evaluate import aggregate, render, score_article
    from stream.extract.lexicon import lexicon
    from stream.extract.places import gazetteer

    rows = _read_gold(gold_file)
    lexicon(), gazetteer()  # load data before timing
    scores = []
    elapsed = 0.0
    for row in rows:
        gold = row.pop("gold")
        article = Article.model_validate(row)
        start = time.perf_counter()
        extraction: Extraction = extract(article)
        elapsed += time.perf_counter() - start
        scores.append(score_article(article.id, gold, extraction))
    figures = aggregate(scores, 1000 * elapsed / len(rows) if rows else None)
    if as_json:
        click.echo(json.dumps(figures.to_dict(details), ensure_ascii=False, indent=2))
    else:
        click.echo(render(figures))
