"""The incident store: every revision of every incident and alert, and the articles behind
them, in a SQL database (SQLite embedded, PostgreSQL in compose).

``schema`` (tables) · ``engine`` (opening the database) · ``migrate`` (Alembic, shipped in
``migrations/``) · ``writer`` (idempotent inserts) · ``queries`` + ``records`` (the read API) ·
``service`` + ``cli`` (the ``marsad store`` Kafka consumer).
"""
