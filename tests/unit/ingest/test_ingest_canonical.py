from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.canonical import (
    article_id,
    canonical_url,
    derived_id,
    guid_id,
    normalize_text,
    stable_id,
    text_fingerprint,
)


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.news.example/ar/2026/01/story-1?utm_source=tw&utm_medium=social",
        "http://NEWS.example:80/ar/2026/01/story-1/",
        "https://news.example./ar/2026/01/story-1#comments",
        "https://news.example:443/ar//2026/01/story-1?fbclid=abc",
        "https://news.example/ar/2026/01/%73tory-1",
    ],
)
def test_variants_of_one_url_share_an_id(variant: str) -> None:
    base = "https://news.example/ar/2026/01/story-1"
    assert canonical_url(variant) == base
    assert article_id(variant) == article_id(base)


def test_meaningful_query_kept_and_sorted() -> None:
    assert canonical_url("https://a.example/x?p=2&id=9&utm_campaign=z") == (
        "https://a.example/x?id=9&p=2"
    )
    assert article_id("https://a.example/x?p=1") != article_id("https://a.example/x?p=2")


def test_non_default_port_and_arabic_path_kept() -> None:
    url = canonical_url("http://127.0.0.1:8081/articles/خبر-عاجل")
    assert url.startswith("https://127.0.0.1:8081/articles/%D8%AE")


def test_stable_id_shape() -> None:
    ident = stable_id("x")
    assert len(ident) == 24 and int(ident, 16) >= 0
    assert stable_id("x") == ident != stable_id("y")


def test_normalize_text_ignores_diacritics_and_letter_forms() -> None:
    assert normalize_text("قُتِلَ أحمدُ في المدينةِ!") == normalize_text("قتل احمد في المدينه")
    assert normalize_text("اشتبــاكات  عنيفة") == "اشتباكات عنيفه"


def test_fingerprint_same_story_reformatted() -> None:
    text = (
        "دارت اشتباكات بين مجموعتين مسلحتين في ريف المدينة الشرقي"
        " وأسفرت عن سقوط قتلى وجرحى بين الطرفين."
    )
    assert text_fingerprint("t", text) == text_fingerprint("other title", f"  {text}\n")
    assert text_fingerprint("t", "قصير") is None


def test_derived_id_stable_across_cosmetic_changes_and_distinct_otherwise() -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    feed = "https://news.example/rss"
    base = derived_id(feed, "قُتِلَ ثلاثة", when, "نص الخبر الكامل.")
    same = derived_id(
        "http://www.news.example/rss?utm_source=x",  # the same feed
        "قتل ثلاثة",  # without diacritics
        when.astimezone(timezone(timedelta(hours=3))),  # the same instant
        "  نص   الخبر الكامل ",  # spacing and punctuation
    )
    assert base == same and len(base) == 24
    assert derived_id(feed, "قتل ثلاثة", when + timedelta(minutes=1), "نص الخبر الكامل") != base
    assert derived_id(feed, "قتل أربعة", when, "نص الخبر الكامل") != base
    assert derived_id(feed, "قتل ثلاثة", when, "نص آخر") != base
    assert derived_id("https://other.example/rss", "قتل ثلاثة", when, "نص الخبر الكامل") != base
    assert derived_id(feed, None, None, "نص") == derived_id(feed, "", None, "نص")


def test_guid_id_is_per_feed() -> None:
    assert guid_id("https://a.example/rss", "g1") == guid_id("http://www.a.example/rss", "g1")
    assert guid_id("https://a.example/rss", "g1") != guid_id("https://b.example/rss", "g1")
