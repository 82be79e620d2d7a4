"""Shared word runs between a corpus article and the real report it was written from.

Why: corpus articles keep a report's structure, numbers and traps but must be in our own
words. Writers save the report's text and the article's, and check that no run of N words is
shared (names of people, places and organisations aside).

Usage: python3 scripts/shared_spans.py ARTICLE_TEXT_FILE SOURCE_TEXT_FILE [N=5]
Prints every run of N consecutive words the two share (diacritics, hamza forms and
punctuation ignored); prints OK when there is none.
"""

import re
import sys
from pathlib import Path


def words(t: str) -> list[str]:
    t = re.sub(r"[\u064B-\u0652\u0640]", "", t)
    t = re.sub(r"[إأآٱ]", "ا", t).replace("ى", "ي").replace("ة", "ه")
    return re.findall(r"\w+", t)


def main(article: str, source: str, n: int) -> int:
    a = words(Path(article).read_text(encoding="utf-8"))
    b = words(Path(source).read_text(encoding="utf-8"))
    grams = {tuple(b[i : i + n]) for i in range(len(b) - n + 1)}
    hits = [" ".join(a[i : i + n]) for i in range(len(a) - n + 1) if tuple(a[i : i + n]) in grams]
    print("\n".join(hits) if hits else "OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5))
