"""The governorate outlines the merge step and the desk share: inside is 0 km, outside is
the distance to the line, an unknown code has no answer."""

from __future__ import annotations

import pytest

from marsad.geography import boundaries, km_between, km_outside


def test_a_point_inside_its_governorate_is_zero_km_outside_it() -> None:
    assert km_outside(35.13, 36.75, "SY-HM") == 0.0  # Hama city
    assert km_outside(34.84, 36.73, "SY-HI") == 0.0  # Talbiseh, Homs


def test_distance_to_a_neighbouring_governorate_is_to_its_line() -> None:
    assert km_outside(34.84, 36.73, "SY-HM") == pytest.approx(10, abs=5)  # Talbiseh
    assert km_outside(34.65, 38.50, "SY-HM") == pytest.approx(53, abs=8)  # T3 station, Homs
    assert (km_outside(34.65, 38.50, "SY-DY") or 0) > 30


def test_a_code_the_outlines_lack_has_no_distance() -> None:
    assert km_outside(34.0, 38.0, "XX-YY") is None
    assert len(boundaries()["features"]) == 32


def test_the_distance_between_two_points_is_along_the_sphere() -> None:
    assert km_between(33.51, 36.29, 33.51, 36.29) == 0.0
    assert km_between(33.51, 36.29, 32.71, 36.57) == pytest.approx(93, abs=3)  # Damascus–Suwayda
