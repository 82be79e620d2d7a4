"""Human names for the contract's codes and the alert's marks, as tables (data, not logic).

Why a table: the Slack message is read by people at 3 a.m., who should see
"Syrian government forces" and "Deir ez-Zor", not ``SYRIAN_GOV`` and ``SY-DY``.
Actor and governorate names and the qualifier words are shared with the stream's summaries
(``marsad.vocabulary``).
"""

from __future__ import annotations

from marsad.vocabulary import actor_name, governorate_name, qualifier_words

__all__ = ["QUALIFIER_WORDS", "SEVERITY_EMOJI", "actor_name", "governorate_name"]

SEVERITY_EMOJI: dict[str, str] = {
    "critical": "\U0001f534",  # red circle
    "warning": "\U0001f7e0",  # orange circle
    "info": "\U0001f535",  # blue circle
}

#: before a qualified figure in an alert's field ("about 12", "~10"): the kernel's vocabulary
QUALIFIER_WORDS: dict[str, str] = qualifier_words()
