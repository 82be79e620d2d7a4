"""What the web desk reads, as one small interface: the store's queries, behind a Protocol.

Why a Protocol: the pages need a few questions answered (which incidents, how many, their
markers, one incident's whole story, counts per day), and a test could answer them from memory
while the real answers come from the store's read API
(:class:`desk.web.store_source.StoreSource`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from desk.store.records import (
    CountBy,
    DailyCount,
    IncidentDetail,
    IncidentFilter,
    IncidentRow,
)
from desk.web.queries import MapPoint


class DeskSource(Protocol):
    def incidents(self, flt: IncidentFilter) -> Sequence[IncidentRow]:
        """Current incidents matching ``flt``, newest first."""
        ...

    def count(self, flt: IncidentFilter) -> int:
        """How many current incidents match ``flt`` (its ``limit`` ignored)."""
        ...

    def map_points(self, flt: IncidentFilter) -> Sequence[MapPoint]:
        """The markers of the incidents ``incidents`` would list (only their columns)."""
        ...

    def incident(self, incident_id: str) -> IncidentDetail | None:
        """Everything about one incident, or ``None`` when the store has no such id."""
        ...

    def daily_counts(self, flt: IncidentFilter, by: CountBy) -> Sequence[DailyCount]:
        """Incidents and deaths per day and governorate or perpetrator."""
        ...

    def close(self) -> None:
        """Let go of the database (the command's end)."""
        ...
