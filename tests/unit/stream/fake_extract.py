"""A stand-in extractor for stream tests: reads the incidents the test put on the article.

Why: stream tests check merging, rules and failure handling, not Arabic reading; the
article carries its expected extraction in the extra field ``test_extraction`` (articles
keep unknown fields), so the worker subprocess can run with
``--extractor tests.unit.stream.fake_extract:extract``. A text of ``RAISE`` makes the
extractor fail, to exercise the dead-letter path.
"""

from __future__ import annotations

from marsad.records import Article, Extraction


def extract(article: Article) -> Extraction:
    if article.text == "RAISE":
        raise RuntimeError("extractor exploded (test)")
    data = (article.model_extra or {}).get("test_extraction") or {}
    return Extraction.model_validate({"id": article.id, **data})
