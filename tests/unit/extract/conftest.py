"""Helpers for extractor tests: build articles and read one sentence's tokens."""

from __future__ import annotations

from datetime import datetime

import pytest

from marsad.records import Article, Extraction, Incident
from stream.extract import extract
from stream.extract.lexicon import Lexicon, lexicon
from stream.extract.normalize import normalize
from stream.extract.segment import tokenize


@pytest.fixture(scope="session")
def lex() -> Lexicon:
    return lexicon()


def words_of(text: str) -> list[str]:
    return [t.text for t in tokenize(normalize(text).text)]


def run(
    text: str, published: str = "2019-06-14T12:00:00+03:00", title: str | None = None
) -> Extraction:
    article = Article(
        id="t", text=text, title=title, published_at=datetime.fromisoformat(published)
    )
    return extract(article)


def current(ex: Extraction) -> list[Incident]:
    return [i for i in ex.incidents if not i.background]
