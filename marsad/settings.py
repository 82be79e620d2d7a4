"""Runtime settings from the environment (pydantic-settings validates them at start-up).

Why pydantic-settings: one typed place for every knob, with clear errors naming the bad
variable, instead of ``os.environ.get`` scattered through the rooms.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from marsad.topics import Topics

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every variable is ``MARSAD_<NAME>`` except the Slack ones, named as Slack names them."""

    model_config = SettingsConfigDict(env_prefix="MARSAD_", extra="ignore")

    #: Kafka bootstrap servers. Empty: use (and start if needed) the embedded local broker.
    kafka_bootstrap: str = ""
    #: Where local state lives: broker data, poller state, alert ledger, alert JSONL.
    home: Path = PROJECT_ROOT / ".marsad"
    #: Cache for downloaded Kafka jars (outside git, shared between clones).
    cache_dir: Path = Path.home() / ".cache" / "marsad"
    config_dir: Path = PROJECT_ROOT / "config"
    #: Port of the embedded local broker.
    local_kafka_port: int = 9092
    local_kafka_controller_port: int = 9093
    #: Namespace for every topic and consumer group (empty: the contract's names).
    topic_prefix: str = ""
    #: Partitions for the contract topics (and Faust's internal topics).
    partitions: int = 4
    #: Copies of Faust's own topics (changelogs, repartitions): 3 on a three-broker cluster.
    #: Marsad's topics get min(3, brokers) copies whatever this says.
    replication_factor: int = Field(default=1, ge=1, le=3)
    log_level: str = "INFO"
    log_json: bool = False
    metrics_port: int = 0
    #: WebSub push delivery (``ingest.websub``): ``host:port`` the callback server binds, e.g.
    #: ``0.0.0.0:8081`` in a container. Empty (the default): push is off, feeds are polled.
    websub_listen: str = ""
    #: Base URL the hubs reach that listener at (the reverse proxy's public address, e.g.
    #: ``https://marsad.example.org/websub``); each subscription's callback is a random path
    #: below it. Empty: ``http://<websub_listen>`` (only useful for hubs on the same network).
    websub_public_url: str = ""
    #: Lease asked of the hub (the hub decides; leases are renewed before they end).
    websub_lease_seconds: int = Field(default=86400 * 7, ge=60)
    #: Poll interval of a feed while its push subscription is live (a safety net).
    websub_poll_interval: float = Field(default=900.0, ge=1.0)
    #: Port of a stream worker's /metrics and /healthz (0 = off). One worker per port: give
    #: each worker on a host its own.
    stream_metrics_port: int = 0
    #: Port of the notifier's /metrics and /healthz (0 = off).
    alerts_metrics_port: int = 0
    #: Port of the store's (``marsad store``) /metrics and /healthz (0 = off).
    store_metrics_port: int = 0

    #: The desk's database (SQLAlchemy URL), e.g. ``postgresql+psycopg://marsad@db/marsad``.
    #: Empty: SQLite at ``$MARSAD_HOME/marsad.db``.
    database_url: str = ""
    #: ``host:port`` the desk's web pages are served on.
    web_listen: str = "127.0.0.1:8080"
    #: A map tile URL template (``https://tile.example.org/{z}/{x}/{y}.png``) for servers with
    #: internet. Empty: the map draws the shipped governorate boundaries only.
    web_tile_url: str = ""
    #: A shared token the desk's pages ask for (``Authorization: Bearer …``, or once in the
    #: login form, then a cookie). Empty: no login (bind 127.0.0.1 or use a proxy).
    web_token: str = ""
    #: A header a trusted reverse proxy sets on every request it authenticated (e.g.
    #: ``X-Forwarded-User``): requests without it are refused. Empty: not checked.
    web_user_header: str = ""
    #: The desk's external base URL (``https://desk.example.org``): Slack alerts then link to
    #: ``<public_url>/incidents/<id>``. Empty: alerts carry no link to the desk.
    public_url: str = ""

    slack_bot_token: str = Field(default="", validation_alias="SLACK_BOT_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_webhook_url: str = Field(default="", validation_alias="SLACK_WEBHOOK_URL")
    #: App-level token (xapp-…) for Socket Mode: the alerts' buttons, modals and slash command.
    slack_app_token: str = Field(default="", validation_alias="SLACK_APP_TOKEN")

    @property
    def topics(self) -> Topics:
        """The topic and group names of this namespace (see :class:`marsad.topics.Topics`)."""
        return Topics(self.topic_prefix)

    @property
    def alerts_jsonl(self) -> Path:
        return self.home / "alerts.jsonl"

    @property
    def database(self) -> str:
        """The SQLAlchemy URL the desk uses (``database_url``, else SQLite in ``home``)."""
        return self.database_url or f"sqlite:///{self.home / 'marsad.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
