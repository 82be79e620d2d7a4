"""Full text of items whose feed body is only a summary: fetch the linked page (through the
same guarded fetcher) and extract the article body with trafilatura, in a bounded pool.

Why a pool: extraction is CPU work in lxml; running it on the event loop would stall every
other poll.  The semaphore bounds how many pages are in flight (fetched but not extracted),
so memory stays bounded when a busy feed lists hundreds of summary-only items.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from ingest.errors import FetchError
from ingest.fetch import Fetcher

log = logging.getLogger(__name__)

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
MIN_USEFUL_CHARS = 40


def extract_text(page: bytes, url: str | None = None) -> str | None:
    """The main text of an HTML page, or None when trafilatura finds none."""
    import trafilatura

    try:
        text = trafilatura.extract(
            page, url=url, include_comments=False, include_tables=False, favor_precision=True
        )
    except Exception as exc:  # trafilatura on hostile HTML: log, fall back to the summary
        log.warning("full-text extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
        return None
    if not text or len(text.strip()) < MIN_USEFUL_CHARS:
        return None
    return text.strip()


class FullTextFetcher:
    """Bounded full-text retrieval: ``workers`` extraction threads, ``2 x workers`` pages in
    flight at most."""

    def __init__(self, fetcher: Fetcher, *, workers: int = 2, max_bytes: int = 3_000_000) -> None:
        self.fetcher = fetcher
        self.max_bytes = max_bytes
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest-fulltext")
        self._slots = asyncio.Semaphore(workers * 2)

    async def text_of(self, url: str) -> str | None:
        """The extracted text of ``url``, or None (logged) when it cannot be had."""
        async with self._slots:
            try:
                result = await self.fetcher.get(url, accept=HTML_ACCEPT)
            except FetchError as exc:
                log.info("full text of %s not fetched (%s): %s", url, exc.outcome, exc)
                return None
            if result.status != 200 or not result.body:
                log.info("full text of %s not fetched: HTTP %s", url, result.status)
                return None
            body = result.body[: self.max_bytes]
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, extract_text, body, result.final_url)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
