"""Regenerate docs/example-alert.json and, with headless Chromium, docs/example-alert.png.

Usage: .venv/bin/python docs/render_example.py [--png] [--actions]

``--actions``: the message as it looks where the desk acts on it (Socket Mode on): its buttons
and a status line, to docs/example-alert-actions.json/.png (docs/slack-actions.md).

The PNG is a mock of Slack's layout (header, Arabic summary, two-column fields, sources, quote,
context) drawn from the very payload the notifier sends; Slack's own rendering differs in fonts
and spacing.  Chromium shapes the Arabic (HarfBuzz) and applies the bidi algorithm, so the marks
the notifier adds are shown doing their job.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.blocks import Desk, render  # noqa: E402
from marsad.records import Alert  # noqa: E402
from tests.support.alert_samples import example_alert  # noqa: E402

CSS = """
body { font-family: 'Lato', 'DejaVu Sans', sans-serif; margin: 0; color: #1d1c1d; }
.msg { display: flex; padding: 16px 20px; width: 720px; font-size: 15px; line-height: 1.45; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #1264a3; color: #fff;
          font-weight: bold; display: flex; align-items: center; justify-content: center;
          margin-right: 10px; flex: none; }
.who { font-weight: 900; } .app { background: #e8e8e8; font-size: 10px; padding: 1px 4px;
       border-radius: 2px; color: #616061; margin-left: 4px; } .time { color: #616061;
       font-size: 12px; margin-left: 6px; }
h1 { font-size: 18px; margin: 6px 0 4px; font-weight: 900; }
.section { margin: 6px 0; } .fields { display: grid; grid-template-columns: 1fr 1fr;
           gap: 8px 18px; margin: 8px 0; }
blockquote { border-left: 4px solid #ddd; margin: 6px 0; padding: 0 10px; }
code { background: #f6f6f6; border: 1px solid #e0e0e0; border-radius: 3px; padding: 0 3px;
       color: #e01e5a; font-size: 12px; }
a { color: #1264a3; text-decoration: none; }
.context { color: #616061; font-size: 12px; margin-top: 8px; }
.actions { display: flex; gap: 8px; margin: 10px 0 4px; flex-wrap: wrap; }
.button { border: 1px solid #c4c4c4; border-radius: 4px; padding: 3px 12px; font-size: 13px;
          font-weight: bold; background: #fff; }
.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
.select::after { content: " ▾"; color: #616061; }
"""


#: the emoji codes the desk's status line uses, as Slack shows them
EMOJI = {":white_check_mark:": "\u2705", ":no_bell:": "\U0001f515", ":pencil2:": "\u270f\ufe0f"}


def mrkdwn_to_html(text: str) -> str:
    """Enough of Slack's mrkdwn for our messages (entities are already HTML-safe)."""
    lines = []
    for line in text.split("\n"):
        quoted = line.startswith(">")
        line = line[1:] if quoted else line
        line = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r'<a href="\1">\2</a>', line)
        line = re.sub(r"<@([UW][A-Z0-9]+)>", r'<span class="mention">@\1</span>', line)
        for code, emoji in EMOJI.items():
            line = line.replace(code, emoji)
        line = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", line)
        line = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", line)
        lines.append(
            f'<blockquote dir="auto">{line}</blockquote>'
            if quoted
            else f'<div dir="auto">{line}</div>'
        )
    return "".join(lines)


def page(payload: dict[str, Any]) -> str:
    parts = []
    for block in payload["blocks"]:
        kind = block["type"]
        if kind == "header":
            parts.append(f"<h1>{html.escape(block['text']['text'])}</h1>")
        elif kind == "section" and "fields" in block:
            cells = "".join(f"<div>{mrkdwn_to_html(f['text'])}</div>" for f in block["fields"])
            parts.append(f'<div class="fields">{cells}</div>')
        elif kind == "section":
            parts.append(f'<div class="section">{mrkdwn_to_html(block["text"]["text"])}</div>')
        elif kind == "context":
            text = " ".join(e["text"] for e in block["elements"])
            parts.append(f'<div class="context">{mrkdwn_to_html(text)}</div>')
        elif kind == "actions":
            buttons = []
            for element in block["elements"]:
                label = element.get("text") or element.get("placeholder") or {}
                style = "primary" if element.get("style") == "primary" else ""
                if element["type"] == "static_select":
                    style = "select"
                text = html.escape(label.get("text", ""))
                buttons.append(f'<span class="button {style}">{text}</span>')
            parts.append(f'<div class="actions">{"".join(buttons)}</div>')
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style></head><body>"
        f"<div class='msg'><div class='avatar'>م</div><div><span class='who'>Marsad</span>"
        f"<span class='app'>APP</span><span class='time'>06:12</span>{''.join(parts)}"
        f"<div class='context'>channel {html.escape(payload['channel'])}</div></div></div>"
        "</body></html>"
    )


def main() -> None:
    alert = Alert.from_json(example_alert())
    name = "example-alert"
    desk = None
    if "--actions" in sys.argv:
        name = "example-alert-actions"
        desk = Desk(
            lines=(":white_check_mark: Acknowledged by <@U0DESK1> at 2024-03-15 06:20 UTC",)
        )
    payload = {"channel": "#marsad-critical", **render(alert, desk).as_payload()}
    out = ROOT / "docs" / f"{name}.json"
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if "--png" not in sys.argv:
        return
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "alert.html"
        src.write_text(page(payload), encoding="utf-8")
        png = ROOT / "docs" / f"{name}.png"
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=780,600" if desk else "--window-size=780,530",
                f"--screenshot={png}",
                src.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
