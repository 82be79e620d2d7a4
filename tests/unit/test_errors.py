"""The one error family: every room's deliberate errors are MarsadErrors, config errors say
``file:line`` and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.delivery import DeliveryError, PermanentDeliveryError
from alerts.routing import RoutingError
from ingest import errors as ingest_errors
from marsad.errors import ConfigError, MarsadError
from marsad.kafka.errors import NoBrokerError
from stream.extract.schema import LexiconError
from stream.rules import RulesError


@pytest.mark.parametrize("cls", [RulesError, RoutingError, LexiconError, ingest_errors.ConfigError])
def test_config_file_errors_are_config_errors(cls: type[ConfigError]) -> None:
    err = cls("bad key", Path("config/x.yaml"), 7)
    assert isinstance(err, ConfigError) and isinstance(err, ValueError)
    assert str(err) == "config/x.yaml:7: bad key"
    assert err.exit_code == 2


def test_ingest_config_error_is_also_an_ingest_error() -> None:
    assert issubclass(ingest_errors.ConfigError, ingest_errors.IngestError)


@pytest.mark.parametrize(
    "cls",
    [
        ingest_errors.IngestError,
        ingest_errors.FetchError,
        ingest_errors.BlockedURL,
        DeliveryError,
        PermanentDeliveryError,
        NoBrokerError,
    ],
)
def test_every_room_error_is_a_marsad_error(cls: type[Exception]) -> None:
    assert issubclass(cls, MarsadError)


def test_config_error_without_a_line_or_a_file() -> None:
    assert str(ConfigError("bad", "feeds.yaml")) == "feeds.yaml: bad"
    assert str(ConfigError("MARSAD_PARTITIONS must be positive")) == (
        "MARSAD_PARTITIONS must be positive"
    )
