"""The store's first schema: incident and alert revisions, the current-incident pointer,
targets, articles and the links between them.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_incident",
        sa.Column("alert_id", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "incident_id", name=op.f("pk_alert_incident")),
    )
    op.create_index(
        "ix_alert_incident_incident_id", "alert_incident", ["incident_id"], unique=False
    )

    op.create_table(
        "alert_revision",
        sa.Column("alert_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("severity", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("incident_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into", sa.String(length=200), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "revision", name=op.f("pk_alert_revision")),
    )
    op.create_table(
        "article",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
    )
    op.create_table(
        "incident_article",
        sa.Column("incident_id", sa.String(length=200), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("first_revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "article_id", name=op.f("pk_incident_article")),
    )
    op.create_index(
        "ix_incident_article_article_id", "incident_article", ["article_id"], unique=False
    )

    op.create_table(
        "incident_revision",
        sa.Column("incident_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("sub_event_type", sa.String(length=64), nullable=False),
        sa.Column("perpetrator", sa.String(length=64), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=8), nullable=True),
        sa.Column("admin1", sa.String(length=16), nullable=True),
        sa.Column("place_ar", sa.String(length=300), nullable=True),
        sa.Column("place_en", sa.String(length=300), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("killed", sa.Integer(), nullable=True),
        sa.Column("injured", sa.Integer(), nullable=True),
        sa.Column("killed_by_actor", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into", sa.String(length=200), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "revision", name=op.f("pk_incident_revision")),
    )
    op.create_table(
        "incident_current",
        sa.Column("incident_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("merged_into", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id", "revision"],
            ["incident_revision.incident_id", "incident_revision.revision"],
            name=op.f("fk_incident_current_incident_id_incident_revision"),
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_current")),
    )
    op.create_index("ix_incident_current_day", "incident_current", ["day"], unique=False)

    op.create_table(
        "incident_target",
        sa.Column("incident_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id", "revision"],
            ["incident_revision.incident_id", "incident_revision.revision"],
            name=op.f("fk_incident_target_incident_id_incident_revision"),
        ),
        sa.PrimaryKeyConstraint(
            "incident_id", "revision", "actor", name=op.f("pk_incident_target")
        ),
    )
    op.create_index("ix_incident_target_actor", "incident_target", ["actor"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incident_target_actor", table_name="incident_target")

    op.drop_table("incident_target")
    op.drop_index("ix_incident_current_day", table_name="incident_current")

    op.drop_table("incident_current")
    op.drop_table("incident_revision")
    op.drop_index("ix_incident_article_article_id", table_name="incident_article")

    op.drop_table("incident_article")
    op.drop_table("article")
    op.drop_table("alert_revision")
    op.drop_index("ix_alert_incident_incident_id", table_name="alert_incident")

    op.drop_table("alert_incident")
