"""Reading a service's ``/metrics`` in tests: every sample by name and labels, and sums."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

#: ``(name, sorted labels) -> value`` for every sample of one scrape
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    """One scrape of ``http://127.0.0.1:{port}/metrics``, parsed by prometheus_client."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: Samples, name: str, **want: str) -> float:
    """The sum of ``name``'s samples whose labels include ``want``."""
    return sum(
        v
        for (n, labels), v in samples.items()
        if n == name and all((k, w) in labels for k, w in want.items())
    )
