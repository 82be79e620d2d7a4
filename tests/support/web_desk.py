"""A small store for the web desk's tests, filled through the store's own writer, and the desk
served by a real uvicorn on 127.0.0.1 in a thread.

The incidents are our own sentences in the reports' style: five current incidents over three
days in four governorates and every event type but one, one incident revised twice (its toll
rose, a source was added, the merge step gave reasons), one merged into another (so it is not
listed), and one article that tries to be markup (``<script>``, a ``javascript:`` link).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine

from desk.store.engine import open_engine
from desk.store.migrate import upgrade
from desk.store.writer import store_alert, store_article, store_incident
from marsad.records import Alert, Article, StoredIncident

#: the desk's "today" in these tests: the default view (last 7 days) holds every sample
TODAY = date(2026, 3, 16)
RULES = Path(__file__).resolve().parents[2] / "config" / "rules.yaml"

EVIDENCE_DY = "قتل 14 عنصراً من قوات النظام بهجوم لخلايا تنظيم الدولة في بادية الميادين"
TEXT_DY = (
    "أفاد المرصد بأن اشتباكات عنيفة دارت ليلة أمس في ريف دير الزور الشرقي. "
    + EVIDENCE_DY
    + "، فيما أصيب ثلاثة آخرون.\n\nوتشهد المنطقة هجمات متكررة منذ أشهر."
)
EVIDENCE_HL = "قتل 3 مدنيين بقصف مدفعي على بلدة دارة عزة"
EVIDENCE_BG = "انفجار سيارة مفخخة في سوق ببغداد أودى بحياة 22 شخصاً"
XSS_TITLE = "<script>window.__xss = 1</script>عنوان"
XSS_TEXT = 'خبر <img src=x onerror="window.__xss=2"> عن <script>window.__xss=3</script> قصف'


def _incident(incident_id: str, revision: int = 1, **fields: Any) -> StoredIncident:
    data: dict[str, Any] = {
        "id": incident_id,
        "revision": revision,
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "perpetrator": "ISIS",
        "targets": ["SYRIAN_GOV"],
        "confidence": 0.9,
        "sources": ["SOHR"],
        "first_seen_at": "2026-03-14T09:00:00+03:00",
        "updated_at": "2026-03-14T09:00:00+03:00",
    }
    data.update(fields)
    return StoredIncident.model_validate(data)


def _where(name_ar: str, name_en: str, admin1: str, lat: float | None, lon: float | None) -> Any:
    return {"name_ar": name_ar, "name_en": name_en, "admin1": admin1, "lat": lat, "lon": lon}


DY = _where("الميادين", "Al-Mayadin", "SY-DY", 35.02, 40.45)
HL = _where("دارة عزة", "Darat Izza", "SY-HL", 36.28, 36.85)
BG = _where("بغداد", "Baghdad", "IQ-BG", 33.31, 44.36)
ID = _where("محافظة إدلب", "Idlib Governorate", "SY-ID", None, None)
NI = _where("الموصل", "Mosul", "IQ-NI", 36.34, 43.13)


def incidents() -> list[StoredIncident]:
    """Every revision the store receives, in the order the topic delivers them."""
    return [
        _incident(
            "inc-dy",
            1,
            location=DY,
            occurred_on="2026-03-14",
            killed=12,
            injured=3,
            killed_by_actor={"SYRIAN_GOV": 12},
            evidence=EVIDENCE_DY,
            article_ids=["art-dy-1"],
            evidence_span=[
                TEXT_DY.index(EVIDENCE_DY),
                TEXT_DY.index(EVIDENCE_DY) + len(EVIDENCE_DY),
            ],
        ),
        _incident(
            "inc-dy",
            2,
            location=DY,
            occurred_on="2026-03-14",
            killed=14,
            injured=3,
            killed_by_actor={"SYRIAN_GOV": 12, "ISIS": 2},
            evidence=EVIDENCE_DY,
            article_ids=["art-dy-1", "art-dy-2"],
            sources=["SOHR", "Enab Baladi"],
            updated_at="2026-03-14T13:00:00+03:00",
            merge_reasons=["same place (Al-Mayadin)", "same day", "same perpetrator"],
            evidence_span=[
                TEXT_DY.index(EVIDENCE_DY),
                TEXT_DY.index(EVIDENCE_DY) + len(EVIDENCE_DY),
            ],
        ),
        _incident(
            "inc-hl",
            1,
            location=HL,
            occurred_on="2026-03-15",
            killed=3,
            event_type="Explosions/Remote violence",
            sub_event_type="Shelling/artillery/missile attack",
            perpetrator="SYRIAN_GOV",
            targets=["CIVILIANS"],
            killed_by_actor={"CIVILIANS": 3},
            evidence=EVIDENCE_HL,
            article_ids=["art-hl"],
        ),
        _incident(
            "inc-bg",
            1,
            location=BG,
            occurred_on="2026-03-15",
            killed=22,
            injured=40,
            event_type="Explosions/Remote violence",
            sub_event_type="Suicide bomb",
            targets=["CIVILIANS"],
            evidence=EVIDENCE_BG,
            article_ids=["art-bg"],
        ),
        _incident(
            "inc-id",
            1,
            location=ID,
            occurred_on="2026-03-16",
            killed=None,
            event_type="Violence against civilians",
            sub_event_type="Abduction/forced disappearance",
            perpetrator="HTS",
            targets=["CIVILIANS"],
            evidence="اختطاف ناشط",
            article_ids=["art-xss"],
        ),
        _incident(
            "inc-ni",
            1,
            location=NI,
            occurred_on="2026-03-16",
            killed=2,
            perpetrator="IRAQ_GOV",
            targets=["ISIS"],
            evidence="مقتل عنصرين",
            article_ids=[],
        ),
        # a twin of inc-hl, closed: never listed, but its page says where it went
        _incident(
            "inc-twin",
            1,
            location=HL,
            occurred_on="2026-03-15",
            killed=3,
            event_type="Explosions/Remote violence",
            sub_event_type="Shelling/artillery/missile attack",
            perpetrator="SYRIAN_GOV",
            targets=["CIVILIANS"],
        ),
        _incident(
            "inc-twin",
            2,
            location=HL,
            occurred_on="2026-03-15",
            killed=3,
            event_type="Explosions/Remote violence",
            sub_event_type="Shelling/artillery/missile attack",
            perpetrator="SYRIAN_GOV",
            targets=["CIVILIANS"],
            merged_into="inc-hl",
        ),
    ]


def articles() -> list[Article]:
    def art(aid: str, title: str, text: str, url: str, source: str, at: str) -> Article:
        return Article(
            id=aid,
            title=title,
            text=text,
            url=url,
            source=source,
            published_at=datetime.fromisoformat(at),
        )

    return [
        art(
            "art-dy-1",
            "هجوم في بادية الميادين",
            TEXT_DY,
            "https://example.org/dy-1",
            "SOHR",
            "2026-03-14T08:30:00+03:00",
        ),
        art(
            "art-dy-2",
            "Attack near Al-Mayadin",
            "ارتفاع الحصيلة إلى 14. " + EVIDENCE_DY,
            "https://example.org/dy-2",
            "Enab Baladi",
            "2026-03-14T12:30:00+03:00",
        ),
        art(
            "art-hl",
            "قصف على دارة عزة",
            EVIDENCE_HL + ".",
            "https://example.org/hl",
            "SOHR",
            "2026-03-15T10:00:00+03:00",
        ),
        art(
            "art-bg",
            "تفجير في بغداد",
            EVIDENCE_BG + ".",
            "https://example.org/bg",
            "Shafaq",
            "2026-03-15T11:00:00+03:00",
        ),
        art(
            "art-xss",
            XSS_TITLE,
            XSS_TEXT + " اختطاف ناشط",
            "javascript:window.__xss=4",
            "Unknown",
            "2026-03-16T08:00:00+03:00",
        ),
    ]


def alerts() -> list[Alert]:
    return [
        Alert(
            id="alert-bg",
            rule="suicide-bombing",
            severity="critical",
            incident_ids=["inc-bg"],
            summary_en="Suicide bombing in Baghdad: 22 killed",
            summary_ar="تفجير انتحاري في بغداد",
            created_at=datetime(2026, 3, 15, 8, tzinfo=UTC),
        ),
        Alert(
            id="alert-dy",
            rule="deadly-incident",
            severity="warning",
            incident_ids=["inc-dy"],
            summary_en="14 killed near Al-Mayadin",
            created_at=datetime(2026, 3, 14, 7, tzinfo=UTC),
        ),
    ]


def fill(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        for a in articles():
            store_article(conn, a)
        for i in incidents():
            store_incident(conn, i)
        for al in alerts():
            store_alert(conn, al)


def sample_store(directory: Path) -> Engine:
    """A SQLite store in ``directory`` holding the samples."""
    engine = open_engine(f"sqlite:///{directory / 'desk.db'}")
    fill(engine)
    return engine


#: the current incidents of the samples, by id (what the default view lists)
CURRENT = {"inc-dy", "inc-hl", "inc-bg", "inc-id", "inc-ni"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    server: uvicorn.Server


@contextmanager
def serve(app: Any) -> Iterator[Served]:
    """``app`` on a free 127.0.0.1 port by uvicorn in a thread; stopped (gracefully) at exit."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
