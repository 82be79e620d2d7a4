"""Block Kit rendering: content, limits, Arabic kept in logical order, injection escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from alerts import blocks
from alerts.mrkdwn import PDI, RLI, RLM, escape, quote, safe_link, truncate
from marsad.records import Alert
from tests.support import alert_samples as samples


def _mrkdwn_texts(message: blocks.SlackMessage) -> list[str]:
    out = [message.text]
    for block in message.blocks:
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") == "mrkdwn":
            out.append(text["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return out


def _all_text(message: blocks.SlackMessage) -> str:
    return json.dumps(message.blocks, ensure_ascii=False) + message.text


def render(**kw: Any) -> blocks.SlackMessage:
    return blocks.render(Alert.from_json(samples.alert(**kw)))


def test_header_carries_severity_and_english_summary() -> None:
    msg = render()
    header = msg.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["type"] == "plain_text"
    assert header["text"]["text"].startswith("\U0001f534 CRITICAL · 30 killed in ISIS attack")
    assert len(header["text"]["text"]) <= blocks.HEADER_MAX


def test_fields_show_toll_per_side_place_date_actors_event_rule() -> None:
    msg = render()
    fields = "\n".join(f["text"] for b in msg.blocks for f in b.get("fields", []))
    assert "*Killed:* 30" in fields and "*Injured:* 12" in fields
    assert "Syrian government forces 22, Iran-backed militias 8" in fields
    assert "الميادين" in fields and "Al-Mayadin" in fields
    assert "Deir ez-Zor (SY-DY)" in fields
    assert "2024-03-14" in fields
    assert "ISIS → Syrian government forces, Iran-backed militias" in fields
    assert "Battles — Armed clash" in fields
    assert "`incident_toll`" in fields
    assert all(len(f["text"]) <= blocks.FIELD_MAX for b in msg.blocks for f in b.get("fields", []))


def test_sources_are_links_labelled_with_their_own_host() -> None:
    texts = "\n".join(_mrkdwn_texts(render()))
    assert "SOHR" in texts
    assert "<https://www.syriahr.com/en/000001/|syriahr.com>" in texts


def test_evidence_is_an_arabic_quote_in_logical_order() -> None:
    msg = render()
    quotes = [
        b["text"]["text"]
        for b in msg.blocks
        if b["type"] == "section" and "text" in b and b["text"]["text"].startswith(">")
    ]
    assert len(quotes) == 1
    body = quotes[0].removeprefix(">")
    # Only invisible direction marks are added; the sentence itself is untouched.
    assert body.strip(RLM) == samples.EVIDENCE_AR
    assert body.startswith(RLM) and body.endswith(RLM)


def test_place_isolates_the_arabic_name_inside_the_english_line() -> None:
    fields = "\n".join(f["text"] for b in render().blocks for f in b.get("fields", []))
    assert f"Al-Mayadin · {RLI}الميادين{PDI}" in fields


def test_a_place_told_as_its_surroundings_says_around() -> None:
    """ "بادية الميادين": the report puts the event around the town, not in it."""
    where = {"name_ar": "الميادين", "name_en": "Al-Mayadin", "admin1": "SY-DY", "vicinity": True}
    fields = "\n".join(
        f["text"]
        for b in render(incident=samples.incident(location=where)).blocks
        for f in b.get("fields", [])
    )
    assert f"around Al-Mayadin · {RLI}الميادين{PDI}" in fields


def test_fallback_text_is_plain_and_names_alert_and_revision() -> None:
    msg = render(revision=3)
    assert msg.text.startswith("[CRITICAL] 30 killed in ISIS attack")
    assert "Al-Mayadin" in msg.text and "killed 30" in msg.text
    assert msg.text.endswith("[alert alert-0001 r3]")
    assert msg.metadata == {
        "event_type": "marsad_alert",
        "event_payload": {"alert_id": "alert-0001", "revision": 3, "part": "message"},
    }


def test_revision_header_says_updated() -> None:
    assert render(revision=2).blocks[0]["text"]["text"].endswith("(updated)")
    assert not render(revision=1).blocks[0]["text"]["text"].endswith("(updated)")


def test_mention_injection_is_escaped_everywhere() -> None:
    msg = blocks.render(Alert.from_json(samples.injection_alert()))
    for text in _mrkdwn_texts(msg):
        # Only links we built ourselves may open with '<': http(s), host-labelled.
        for opening in re.findall(r"<[^>]*>", text):
            assert re.fullmatch(r"<https?://[^|<>\s]+\|[a-z0-9.\-]+>", opening), (opening, text)
        assert "<!" not in text and "<@" not in text
    joined = "\n".join(_mrkdwn_texts(msg))
    assert "&lt;!channel&gt;" in joined and "&lt;@U123ABC&gt;" in joined
    assert "&lt;!everyone&gt;" in joined
    # The disguised link shows its real host, never the claimed one as a label.
    assert "|bbc.com>" not in joined and "|www.bbc.com>" not in joined
    assert "<https://evil.example/a&gt;b%7Cc|evil.example>" in joined
    assert "javascript:alert(1)" in joined and "<javascript" not in joined


def test_unknown_toll_and_place_say_not_reported() -> None:
    inc = samples.incident(killed=None, injured=None, location=None, killed_by_actor={})
    msg = render(incident=inc)
    fields = "\n".join(f["text"] for b in msg.blocks for f in b.get("fields", []))
    assert "*Killed:* not reported" in fields
    assert "*Place:*\nnot reported" in fields


def test_qualifiers_are_words() -> None:
    inc = samples.incident(killed=10, killed_qualifier="at_least")
    fields = "\n".join(f["text"] for b in render(incident=inc).blocks for f in b.get("fields", []))
    assert "*Killed:* at least 10" in fields


def test_window_alert_shows_period_total_and_group() -> None:
    window = {
        "group_by": "admin1",
        "group": "SY-DY",
        "metric": "killed",
        "start": "2024-03-14T06:00:00+00:00",
        "end": "2024-03-15T06:00:00+00:00",
        "total": 81,
        "threshold": 25,
    }
    msg = render(kind="window", incident=None, window=window, incident_ids=["i1", "i2", "i3"])
    fields = "\n".join(f["text"] for b in msg.blocks for f in b.get("fields", []))
    assert "*Total:*\n81 killed (threshold 25)" in fields
    assert "2024-03-14 06:00 UTC →\n2024-03-15 06:00 UTC" in fields
    assert "*By admin1:*\nDeir ez-Zor (SY-DY)" in fields
    assert "*Incidents:*\n3" in fields


def test_surge_alert_shows_its_baseline() -> None:
    window = {
        "group_by": "perpetrator",
        "group": "ISIS",
        "metric": "count",
        "total": 9,
        "start": "x",
        "end": "y",
        "baseline_mean": 1.5,
        "baseline_windows": 4,
        "factor": 3,
    }
    msg = render(kind="surge", incident=None, window=window)
    fields = "\n".join(f["text"] for b in msg.blocks for f in b.get("fields", []))
    assert "*Total:*\n9 incidents" in fields and "mean 1.5 over 4 windows; ×3 fires" in fields
    assert "*By perpetrator:*\nISIS" in fields


def test_long_evidence_is_cut_to_slack_limits() -> None:
    inc = samples.incident(evidence="قصف & " * 2000, urls=[f"https://e.org/{i}" for i in range(20)])
    msg = render(incident=inc)
    for block in msg.blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= blocks.SECTION_MAX
    assert "(+12 more)" in _all_text(msg)
    json.dumps(msg.as_payload())  # serialisable as is


def test_update_reply_is_short_and_tagged() -> None:
    alert = Alert.from_json(samples.alert(revision=2))
    reply = blocks.render_update_reply(alert, "Updated to revision 2: toll 30 → 64")
    assert reply.text.startswith("Updated to revision 2: toll 30 → 64")
    assert reply.metadata["event_payload"]["part"] == "reply"


def test_escape_and_quote_and_links() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert quote("سطر\n<!here>") == f">{RLM}سطر{RLM}\n>&lt;!here&gt;"
    assert safe_link("ftp://x.org/f") == "ftp://x.org/f"
    assert safe_link("not a url <@U1>") == "not a url &lt;@U1&gt;"
    assert safe_link("https://a.org/q?x=1&y=2") == "<https://a.org/q?x=1&amp;y=2|a.org>"
    assert truncate("abc &amp; def", 8) == "abc …"
    assert truncate("short", 10) == "short"


def test_docs_example_is_what_the_notifier_sends() -> None:
    """docs/example-alert.json (shown in the README) must match the current rendering."""
    from marsad.settings import PROJECT_ROOT

    alert = Alert.from_json(samples.example_alert())
    expected = {"channel": "#marsad-critical", **blocks.render(alert).as_payload()}
    shown = json.loads((PROJECT_ROOT / "docs" / "example-alert.json").read_text(encoding="utf-8"))
    assert shown == expected, "regenerate docs/example-alert.json (see its README section)"


def test_blocks_pass_slack_sdk_validation() -> None:
    """slack-sdk's Block Kit models check types and Slack's documented limits."""
    from slack_sdk.models.blocks import Block

    for raw in (samples.example_alert(), samples.injection_alert(), samples.alert(revision=4)):
        for block in blocks.render(Alert.from_json(raw)).blocks:
            parsed = Block.parse(block)
            assert parsed is not None
            parsed.validate_json()
            assert parsed.to_dict() == block
