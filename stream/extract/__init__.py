"""Arabic incident extraction: pure functions from an :class:`Article` to an :class:`Extraction`.

Public surface: :func:`extract`.  The modules behind it, in the order data flows:
normalize → segment → numbers / actors / places / dates (document) → casualties →
incidents (tallies, background, merging) → classify → summary; lexicons in ``data/``.
"""

from __future__ import annotations

from marsad.records import Article, Extraction


def extract(article: Article) -> Extraction:
    """Read one article the way an ACLED coder would: incidents, tallies, background events."""
    from stream.extract.extractor import extract_article

    return extract_article(article)


__all__ = ["extract"]
