"""The digest's Block Kit message: what it says, and Slack's limits whatever the names."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock

from alerts.blocks import SlackMessage
from alerts.digest.build import build_digest
from alerts.digest.layout import digest_blocks, digest_message
from alerts.mrkdwn import slack_len
from tests.support.digest_samples import DAMASCUS, MORNING, Fix, example_digest, incident, place

HOUR = timedelta(hours=1)
HEADER_MAX, SECTION_MAX, FIELD_MAX, FIELDS, BLOCKS = 150, 3000, 2000, 10, 50
NASTY = "&<>*_~`|\u200f\u2067\U0001f534 <!channel> <@U1> "


def texts(msg: SlackMessage) -> list[str]:
    out = []
    for block in msg.blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", [])]
    return out


def assert_fits(msg: SlackMessage) -> None:
    """slack-sdk's models accept every block, and every documented limit holds."""
    assert 1 <= len(msg.blocks) <= BLOCKS
    assert 0 < slack_len(msg.text) <= 3000
    for block in msg.blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
        if isinstance(parsed, HeaderBlock):
            assert slack_len(block["text"]["text"]) <= HEADER_MAX
        elif isinstance(parsed, SectionBlock):
            if "text" in block:
                assert 0 < slack_len(block["text"]["text"]) <= SECTION_MAX
            fields = block.get("fields", [])
            assert len(fields) <= FIELDS
            assert all(0 < slack_len(f["text"]) <= FIELD_MAX for f in fields)
        elif isinstance(parsed, ContextBlock):
            assert all(slack_len(e["text"]) <= SECTION_MAX for e in block["elements"])
        else:
            assert isinstance(parsed, DividerBlock), block


def test_the_message_says_the_days_figures() -> None:
    at = MORNING - 3 * HOUR
    incs = [
        incident("big", 30, at, location=place("SY-DY", "Al-Mayadin", "الميادين"), injured=12),
        incident("small", 2, at, location=place("SY-HL", "Afrin", "عفرين"), perpetrator="TURKEY"),
    ]
    fixes = [Fix("alert-9", "wrong_toll", at, killed=28, injured=12, note="SOHR says 28")]
    msg = digest_message(build_digest(incs, MORNING, DAMASCUS, 4, fixes), "digest:#x:2026-12-02")
    assert_fits(msg)
    body = "\n".join(texts(msg))
    assert "Wed 2 Dec 2026" in msg.blocks[0]["text"]["text"]
    assert "*2 incidents, 32 killed*" in body
    assert "Deir ez-Zor (SY-DY): 1 incident, 30 killed" in body
    assert "Turkish forces: 1 incident, 2 killed" in body
    assert "*1.* *30 killed*, 12 injured · Al-Mayadin, Deir ez-Zor" in body
    assert "<https://news.example.org/big|news.example.org/big>" in body
    assert "*Muted:* 4 alerts not pinged" in body
    assert (
        "wrong toll: alert `alert-9` → 28 killed, 12 injured (by U0ANALYST) — SOHR says 28" in body
    )
    assert "<@" not in body  # the digest pings nobody
    assert msg.text.startswith("Marsad daily digest, Wed 2 Dec 2026: 2 incidents, 32 killed")
    assert msg.metadata["event_payload"] == {
        "alert_id": "digest:#x:2026-12-02",
        "revision": 1,
        "part": "digest",
    }


def test_a_quiet_day_still_says_so() -> None:
    blocks = digest_blocks(build_digest([], MORNING, DAMASCUS))
    shown = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert "No incidents in the last 24 h." in shown
    assert any("*Muted:* none\n*Corrections:* none" in t for t in shown)


def test_long_names_many_groups_long_links_and_many_corrections_fit() -> None:
    rng = random.Random(16)
    at = MORNING - HOUR
    incs = []
    for k in range(80):
        name = "".join(rng.choices("abc قتلى" + NASTY, k=rng.randint(200, 400)))
        url = "https://news.example.org/" + "%D9%85" * rng.randint(100, 400)
        incs.append(
            incident(
                f"inc-{k}-" + "x" * rng.randint(0, 300),
                rng.randint(1, 90),
                at,
                location=place(f"SY-X{k}", name, name),
                urls=[url] * rng.randint(1, 5),
                sources=[name] * 3,
            )
        )
    fixes = [
        Fix("a" * 200, "duplicate", at, duplicate_of="b" * 200, user=NASTY * 10, note=NASTY * 50)
        for _ in range(60)
    ]
    msg = digest_message(build_digest(incs, MORNING, DAMASCUS, 2, fixes), "digest:#x:2026-12-02")
    assert_fits(msg)
    body = "\n".join(texts(msg))
    assert "more)" in body  # groups and corrections cut by whole item, with their note
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert len([b for b in msg.blocks if b["type"] == "section"]) <= 10


def test_docs_example_is_what_marsad_digest_posts() -> None:
    """docs/example-digest.json (and its PNG) must match the current layout."""
    from marsad.settings import PROJECT_ROOT

    digest = example_digest()
    message = digest_message(digest, "digest:#marsad-alerts:2026-12-02")
    expected = {"channel": "#marsad-alerts", **message.as_payload()}
    shown = json.loads((PROJECT_ROOT / "docs" / "example-digest.json").read_text("utf-8"))
    assert shown == expected, "regenerate it: .venv/bin/python docs/render_digest.py --png"
    assert_fits(message)


def test_a_source_holding_less_than_two_weeks_makes_the_comparison_partial() -> None:
    held = MORNING - timedelta(days=9)
    digest = build_digest([], MORNING, DAMASCUS, held_from=held)
    assert digest.held_from == held
    (totals,) = [b["text"]["text"] for b in digest_blocks(digest) if "Week over" in str(b)]
    assert totals.endswith("; partial: incidents are held only from 08:00 Mon 23 Nov 2026)")
    # a source holding the whole two weeks (and the day before them) is not partial
    assert (
        build_digest([], MORNING, DAMASCUS, held_from=MORNING - timedelta(days=15)).held_from
        is None
    )
