"""Arabic incident extraction: pure functions from an :class:`Article` to an :class:`Extraction`.

Public surface: :func:`extract`. (Placeholder until the extractor lands: finds nothing.)
"""

from __future__ import annotations

from marsad.records import Article, Extraction


def extract(article: Article) -> Extraction:
    """Read one article the way an ACLED coder would: incidents, tallies, background events."""
    return Extraction(id=article.id)


__all__ = ["extract"]
