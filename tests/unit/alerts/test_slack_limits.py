"""Every message the notifier builds fits Slack's limits, whatever the alert carries.

Issue #12 item 6: a source list of long Arabic news URLs was cut at 3,000 characters inside
a ``<url|label>`` link (losing the "+N more" note), and unbounded strings (rule names, window
groups, a 200-change revision) made fields and replies Slack refuses with ``invalid_blocks``.

Hypothesis-style: seeded random loops over adversarial lengths; every block is parsed and
validated by slack-sdk's own Block Kit models, and every documented limit is asserted (the
models do not check a field's or a context element's length).
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import quote as url_quote

import pytest
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from alerts import blocks, changes
from alerts.blocks import SlackMessage
from alerts.mrkdwn import (
    PDI,
    RLI,
    escape,
    join_within,
    safe_link,
    slack_len,
    truncate,
)
from marsad.records import Alert
from tests.support import alert_samples as samples

HEADER_MAX, SECTION_MAX, FIELD_MAX, FIELDS, CONTEXT_ELEMENTS, BLOCKS = 150, 3000, 2000, 10, 10, 50
MESSAGE_TEXT_MAX = 40000
#: "keep the fallback short": the body, then the marker
FALLBACK_BODY_MAX = 500

LINK = re.compile(r"<(https?://[^|<>\s]+)\|([^<>]+)>")
ESCAPE = re.compile(r"&(?!amp;|lt;|gt;)")
WORDS = ["مقتل", "عناصر", "قوات", "النظام", "بهجوم", "لخلايا", "التنظيم", "في", "بادية", "الميادين"]
HOSTS = ["www.syriahr.com", "deirezzor24.net", "www.enabbaladi.net", "orient-news.net"]
NASTY = "&<>*_~`|\u200f\u2067\U0001f534"  # escapes, markup, direction marks, an emoji


def arabic_url(rng: random.Random, host: str | None = None) -> str:
    """A news URL with a percent-encoded Arabic slug, ~360 characters like the real ones."""
    slug = "-".join(rng.choice(WORDS) for _ in range(rng.randint(8, 11)))
    return f"https://{host or rng.choice(HOSTS)}/{url_quote(slug)}/{rng.randint(1, 999999)}/"


def nasty(rng: random.Random, n: int) -> str:
    alphabet = "abc xyz" + NASTY + "قتلى"
    return "".join(rng.choices(alphabet, k=n))


def mrkdwn_texts(msg: SlackMessage) -> list[str]:
    out = []
    for block in msg.blocks:
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") == "mrkdwn":
            out.append(text["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return out


def assert_fits(msg: SlackMessage) -> None:
    """slack-sdk's models accept every block, and every documented limit holds."""
    assert 1 <= len(msg.blocks) <= BLOCKS
    assert slack_len(msg.text) <= MESSAGE_TEXT_MAX
    assert slack_len(msg.text.split(" [alert ")[0]) <= FALLBACK_BODY_MAX
    for block in msg.blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        assert parsed.to_dict() == block
        if isinstance(parsed, HeaderBlock):
            assert block["text"]["type"] == "plain_text"
            assert slack_len(block["text"]["text"]) <= HEADER_MAX
        elif isinstance(parsed, SectionBlock):
            if "text" in block:
                assert slack_len(block["text"]["text"]) <= SECTION_MAX
            fields = block.get("fields", [])
            assert len(fields) <= FIELDS
            assert all(slack_len(f["text"]) <= FIELD_MAX for f in fields)
        elif isinstance(parsed, ContextBlock):
            assert len(block["elements"]) <= CONTEXT_ELEMENTS
            assert all(slack_len(e["text"]) <= SECTION_MAX for e in block["elements"])
        else:  # pragma: no cover - the notifier builds only these three
            pytest.fail(f"unexpected block {block['type']}")
    for text in [*mrkdwn_texts(msg), msg.text]:
        assert text.strip(), "Slack refuses an empty text"
        assert_markup_whole(text)


def assert_markup_whole(text: str) -> None:
    """No cut inside markup: every '<' opens one of our whole links, every '&' an escape,
    every direction isolate is closed."""
    bare = "\n".join(line.removeprefix(">") for line in LINK.sub("", text).split("\n"))
    assert "<" not in bare and ">" not in bare, text[-200:]  # a quote's '>' opens its line
    assert not ESCAPE.search(text), text[-200:]
    for line in text.split("\n"):
        opened = line.count(RLI) + line.count("\u2066") + line.count("\u2068")
        assert opened == line.count(PDI), line[-200:]


def sources_section(msg: SlackMessage) -> str:
    (text,) = [t for t in mrkdwn_texts(msg) if t.startswith("*Sources:*")]
    return text


def render(**kw: Any) -> SlackMessage:
    return blocks.render(Alert.from_json(samples.alert(**kw)))


# -- sources: long Arabic URLs, 200 sources ---------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_long_arabic_source_lists_fit_with_whole_links_and_their_note(seed: int) -> None:
    rng = random.Random(seed)
    urls = [arabic_url(rng) for _ in range(rng.choice([1, 3, 8, 9, 20, 200]))]
    names = [nasty(rng, rng.randint(1, 60)) for _ in range(rng.choice([1, 5, 200]))]
    msg = render(incident=samples.incident(urls=urls, sources=names))
    assert_fits(msg)
    text = sources_section(msg)
    shown = LINK.findall(text)
    assert shown, "at least one link fits"
    assert [target for target, _ in shown] == [escape(u) for u in urls[: len(shown)]]
    for _target, label in shown:
        assert slack_len(label) <= 60  # host + path stub, never the whole URL
    hidden = len(urls) - len(shown)
    if hidden:
        assert text.endswith(f"(+{hidden} more)")
    else:
        assert "more)" not in text.split("\n")[-1]
    if len(names) == 200:
        assert re.search(r"\(\+\d+ more\)\n", text), "the names' own note is kept"


def test_two_hundred_long_arabic_urls_keep_the_note() -> None:
    rng = random.Random(7)
    urls = [arabic_url(rng, "www.syriahr.com") for _ in range(200)]
    assert 330 <= sum(map(len, urls)) / len(urls) <= 420
    msg = render(incident=samples.incident(urls=urls, sources=["SOHR"] * 200))
    assert_fits(msg)
    text = sources_section(msg)
    shown = LINK.findall(text)
    assert 1 <= len(shown) <= blocks.MAX_LINKS
    assert text.endswith(f"(+{200 - len(shown)} more)")
    # one host throughout: the labels tell the links apart by a stub of their path
    labels = [label for _, label in shown]
    assert all(label.startswith("syriahr.com/") for label in labels)
    assert "مقتل" in "".join(labels) or any(w in "".join(labels) for w in WORDS)


def test_a_link_too_long_to_fit_is_shown_as_its_label_only() -> None:
    huge = "https://www.syriahr.com/" + url_quote("مقتل " * 600)
    msg = render(incident=samples.incident(urls=[huge, "https://deirezzor24.net/ar/2"]))
    assert_fits(msg)
    text = sources_section(msg)
    assert "syriahr.com" in text and "<https://deirezzor24.net/ar/2|deirezzor24.net>" in text
    assert [t for t, _ in LINK.findall(text)] == ["https://deirezzor24.net/ar/2"]


def test_hostile_urls_fit_and_never_become_links() -> None:
    urls = ["javascript:" + "a&<" * 3000, "not a url " * 500, "https://" + "x" * 5000]
    msg = render(incident=samples.incident(urls=urls))
    assert_fits(msg)
    assert LINK.findall(sources_section(msg)) == []


# -- unbounded strings: rule names, groups, places, ids ----------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_incident_alerts_with_unbounded_strings_fit(seed: int) -> None:
    rng = random.Random(1000 + seed)
    n = rng.choice([200, 2000, 5000])
    loc = {"name_ar": nasty(rng, n), "name_en": nasty(rng, n), "admin1": nasty(rng, n)}
    inc = samples.incident(
        location=loc,
        evidence="\n".join(nasty(rng, rng.randint(1, 4000)) for _ in range(rng.randint(1, 5))),
        targets=rng.choices(["SYRIAN_GOV", "IRAN_BACKED", "CIVILIANS"], k=rng.randint(0, 3000)),
        killed=rng.choice([None, 5, 10**3000]),
        injured=rng.choice([None, 10**1500]),
        killed_by_actor={"SYRIAN_GOV": 10**2000, "ISIS": 10**2000, "CIVILIANS": 3},
        sources=[nasty(rng, 300) for _ in range(rng.randint(0, 200))],
        urls=[arabic_url(rng) for _ in range(rng.randint(0, 30))],
    )
    revision, merged_into = rng.randint(1, 5), rng.choice([None, nasty(rng, n)])
    msg = render(
        alert_id=nasty(rng, n),
        rule=nasty(rng, n),
        summary_en=nasty(rng, n),
        summary_ar=nasty(rng, n),
        incident_ids=[nasty(rng, n) for _ in range(rng.randint(1, 10))],
        revision=revision,
        incident=inc,
        merged_into=merged_into,
    )
    assert_fits(msg)
    header = msg.blocks[0]["text"]["text"]
    assert header.startswith("\U0001f534 CRITICAL · ")
    if merged_into:
        assert header.endswith("… (merged)")
    elif revision > 1:
        assert header.endswith("… (updated)")


@pytest.mark.parametrize("seed", range(12))
def test_window_and_surge_alerts_with_unbounded_groups_fit(seed: int) -> None:
    rng = random.Random(2000 + seed)
    n = rng.choice([300, 5000])
    window = {
        "group_by": rng.choice(["admin1", "perpetrator", "sub_event_type", nasty(rng, n)]),
        "group": nasty(rng, n),
        "metric": rng.choice(["killed", "count", nasty(rng, n)]),
        "start": nasty(rng, n),
        "end": "2024-03-15T06:00:00+00:00",
        "total": 10**3000,
        "threshold": nasty(rng, n),
        "baseline_mean": nasty(rng, n),
        "baseline_windows": nasty(rng, n),
        "factor": nasty(rng, n),
    }
    msg = render(
        kind=rng.choice(["window", "surge"]),
        incident=None,
        window=window,
        rule=nasty(rng, n),
        incident_ids=[nasty(rng, 200) for _ in range(rng.randint(0, 500))],
    )
    assert_fits(msg)


def test_a_5000_character_rule_name_stays_a_closed_code_span() -> None:
    rule = "r`*&<" * 1000
    msg = render(rule=rule)
    assert_fits(msg)
    (field,) = [f["text"] for b in msg.blocks for f in b.get("fields", []) if "Rule" in f["text"]]
    assert field.startswith("*Rule:*\n`") and field.endswith("…`") and field.count("`") == 2


def test_long_header_keeps_its_revision_tag() -> None:
    msg = render(revision=2, summary_en="\U0001f534" * 400)
    assert_fits(msg)
    assert msg.blocks[0]["text"]["text"].endswith("… (updated)")


# -- the revision reply --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_revision_replies_fit_whatever_changed(seed: int) -> None:
    rng = random.Random(3000 + seed)
    many = [nasty(rng, rng.choice([10, 300, 5000])) for _ in range(rng.choice([1, 50, 200]))]
    alert = Alert.from_json(samples.alert(revision=rng.randint(2, 300), changes=many))
    note = changes.summary(alert, None)
    reply = blocks.render_update_reply(alert, note)
    assert_fits(reply)
    assert reply.metadata["event_payload"]["part"] == "reply"
    assert reply.text.endswith(f"[alert alert-0001 r{alert.revision}]")


def test_a_200_change_revision_names_whole_changes_and_counts_the_rest() -> None:
    many = [f"killed {i} → {i + 1} & more" for i in range(200)]
    alert = Alert.from_json(samples.alert(revision=201, changes=many))
    note = changes.summary(alert, None)
    reply = blocks.render_update_reply(alert, note)
    assert_fits(reply)
    body = reply.blocks[0]["text"]["text"]
    shown = re.findall(r"killed \d+ → \d+ &amp; more", body)
    assert len(shown) < 200 and body.endswith(f"(+{200 - len(shown)} more changes)")
    assert [f"killed {i} → {i + 1} &amp; more" for i in range(len(shown))] == shown


def test_computed_changes_with_thousands_of_new_sources_fit() -> None:
    before = changes.facts(Alert.from_json(samples.alert()))
    rng = random.Random(5)
    urls = [arabic_url(rng) for _ in range(200)]
    inc = samples.incident(killed=10**3000, urls=urls, sources=[str(i) for i in range(200)])
    later = Alert.from_json(samples.alert(revision=2, incident=inc))
    reply = blocks.render_update_reply(later, changes.summary(later, before))
    assert_fits(reply)
    assert reply.blocks[0]["text"]["text"].endswith("400 new sources")


# -- the pieces ----------------------------------------------------------------------------


def test_normal_alerts_are_untouched_by_the_limits() -> None:
    for raw in (samples.example_alert(), samples.alert(revision=3), samples.injection_alert()):
        assert_fits(blocks.render(Alert.from_json(raw)))
    text = sources_section(blocks.render(Alert.from_json(samples.example_alert())))
    assert text == (
        "*Sources:* SOHR, Deir Ezzor 24\n<https://www.syriahr.com/en/000001/|syriahr.com> · "
        "<https://deirezzor24.net/ar/000002|deirezzor24.net>"
    )


@pytest.mark.parametrize("seed", range(50))
def test_truncate_never_cuts_inside_markup(seed: int) -> None:
    rng = random.Random(4000 + seed)
    parts = [
        rng.choice(
            [
                escape(nasty(rng, rng.randint(1, 30))),
                safe_link(arabic_url(rng), with_path=True),
                f"{RLI}قتلى{PDI}",
            ]
        )
        for _ in range(rng.randint(1, 40))
    ]
    text = " ".join(parts)
    limit = rng.randint(5, max(6, slack_len(text)))
    cut = truncate(text, limit)
    assert slack_len(cut) <= limit
    assert_markup_whole(cut)
    if cut != text:
        assert cut.endswith("…")


def test_join_within_keeps_whole_items_and_the_note() -> None:
    items = ["a" * 10] * 100
    joined = join_within(items, ", ", 100)
    assert joined == ", ".join(["a" * 10] * 7) + " (+93 more)" and len(joined) <= 100
    assert join_within(items, ", ", 5) == ""
    assert join_within(["a" * 200], ", ", 50) == "(+1 more)"
    assert join_within(["x", "y"], ", ", 100) == "x, y"
    assert join_within(["x", "y", "z"], ", ", 100, max_items=2) == "x, y (+1 more)"


def test_untrusted_direction_controls_are_dropped_ours_stay_balanced() -> None:
    evil = "\u202eabc\u2067قتلى"  # an override and an isolate left open by an article
    assert escape(evil) == "abcقتلى"
    loc = {"name_ar": evil, "name_en": evil, "admin1": "SY-DY"}
    msg = render(incident=samples.incident(location=loc, evidence=evil), summary_ar=evil)
    assert_fits(msg)
    assert "\u202e" not in str(msg.blocks)
    only_controls = render(summary_ar="\u202e\u2067", summary_en="\u202eabc")
    assert_fits(only_controls)  # no empty Arabic section
    assert only_controls.blocks[0]["text"]["text"] == "\U0001f534 CRITICAL · abc"
    assert only_controls.blocks[1]["type"] == "section" and "fields" in only_controls.blocks[1]
