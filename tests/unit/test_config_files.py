"""The kernel's config-file reader: YAML in, a model out, or a ConfigError at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from marsad.config_files import ConfigFile, line_of
from marsad.errors import ConfigError


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int = Field(ge=1)


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = ""
    items: list[Item] = Field(default_factory=list)


class DocError(ConfigError):
    pass


DOC = ConfigFile(Doc, what="doc file", shape="a mapping with 'items'", error=DocError)

TEXT = """title: t
items:
  - name: a
    size: 1
  - name: b
    size: 0
    colour: red
"""


def test_a_good_file_is_its_model(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(TEXT.replace("size: 0", "size: 2").replace("    colour: red\n", ""), "utf-8")
    assert [i.size for i in DOC.load(path).items] == [1, 2]


def test_each_problem_names_file_line_and_key() -> None:
    with pytest.raises(DocError) as err:
        DOC.parse(TEXT, "doc.yaml")
    assert (err.value.path, err.value.line) == (Path("doc.yaml"), 6)
    first, second = str(err.value).splitlines()
    assert first == "doc.yaml:6: items.1.size: Input should be greater than or equal to 1 (got 0)"
    assert second == "  doc.yaml:7: items.1.colour: Extra inputs are not permitted (got 'red')"


def test_a_missing_key_is_reported_where_it_belongs() -> None:
    with pytest.raises(DocError, match=r"^doc.yaml:5: items.1.name: Field required"):
        DOC.parse("items:\n  - name: a\n    size: 1\n  -\n    size: 2\n", "doc.yaml")


def test_not_yaml_not_a_mapping_empty_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DocError, match=r"^doc.yaml:2: not valid YAML: "):
        DOC.parse("items: [\n", "doc.yaml")
    with pytest.raises(DocError, match=r"^doc.yaml:1: expected a mapping with 'items'"):
        DOC.parse("- 1\n", "doc.yaml")
    with pytest.raises(DocError, match=r"^doc.yaml: the file is empty"):
        DOC.parse("", "doc.yaml")
    with pytest.raises(DocError, match=r"nope.yaml: cannot read doc file: "):
        DOC.load(tmp_path / "nope.yaml")


def test_a_document_built_in_code_has_no_line() -> None:
    with pytest.raises(DocError) as err:
        DOC.validate({"items": [{"name": "a", "size": 0}]}, "doc.yaml")
    assert err.value.line is None
    assert str(err.value).startswith("doc.yaml: items.0.size: ")


def test_an_empty_file_can_stand_for_a_default() -> None:
    assert ConfigFile(Doc, what="doc", shape="a mapping", empty={}).parse("", "d").items == []


def test_line_of_follows_the_location_as_far_as_it_goes() -> None:
    import yaml

    root = yaml.compose(TEXT, Loader=yaml.SafeLoader)
    assert line_of(root, ("items", 1, "size")) == 6
    assert line_of(root, ("items", 5)) == 3  # the list, which starts below its key
    assert line_of(root, ("title",)) == 1
    assert line_of(root, ()) is None
    assert line_of(None, ("title",)) is None
