"""Where the evidence is in an article's original text: the pieces to show, marked or not.

The extractor gives an incident its ``evidence`` (the sentences its numbers came from, joined
by " … " when they are apart) and ``evidence_span``, offsets into the text of the report it
read. A merged incident has several reports and one span, so for each article the span is
used when the text there is the evidence; otherwise each evidence sentence is looked for in
the text as written. Pure: text in, segments out; the template escapes and wraps ``<mark>``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: how the extractor joins evidence sentences that are apart in the text
JOINER = " … "


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


def _spans(text: str, evidence: str, span: tuple[int, int] | None) -> list[tuple[int, int]]:
    if span is not None:
        start, end = span
        if 0 <= start < end <= len(text):
            piece = text[start:end]
            parts = [p for p in evidence.split(JOINER) if p.strip()]
            if parts and piece.startswith(parts[0][:20]) and piece.endswith(parts[-1][-20:]):
                return [(start, end)]
    found, at = [], 0
    for part in (p.strip() for p in evidence.split(JOINER)):
        if not part:
            continue
        i = text.find(part, at)
        if i < 0:
            i = text.find(part)
        if i >= 0:
            found.append((i, i + len(part)))
            at = i + len(part)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark(text: str, evidence: str, span: tuple[int, int] | None = None) -> list[Segment]:
    """``text`` cut into segments, the evidence ones ``marked`` (none when it is not there)."""
    segments, at = [], 0
    for start, end in _spans(text, evidence, span):
        if start > at:
            segments.append(Segment(text[at:start], False))
        segments.append(Segment(text[start:end], True))
        at = end
    if at < len(text) or not segments:
        segments.append(Segment(text[at:], False))
    return segments


def paragraphs(segments: list[Segment]) -> list[list[Segment]]:
    """The segments split at blank lines, so a long article reads as paragraphs."""
    out: list[list[Segment]] = [[]]
    for seg in segments:
        pieces = seg.text.split("\n\n")
        for i, piece in enumerate(pieces):
            if i:
                out.append([])
            if piece:
                out[-1].append(Segment(piece, seg.marked))
    return [p for p in out if p]
