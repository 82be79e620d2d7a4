"""Hostile and odd documents: each is refused or trimmed with a reason, never a crash."""

import time

import pytest

from ingest.errors import FeedParseError
from ingest.parse import MAX_TEXT_CHARS, MAX_TITLE_CHARS, defuse, html_to_text, parse_feed
from tests.support.feed_server import (
    BILLION_LAUGHS,
    HTML_PAGE,
    XXE,
    Item,
    make_item,
    render_atom,
    render_rss,
)

BASE = "http://127.0.0.1:1"


def test_rss_items_parsed_with_full_content() -> None:
    items = [make_item(i) for i in range(1, 4)]
    feed = parse_feed(render_rss("t", BASE, items))
    assert [i.title for i in feed.items] == [i.title for i in items]
    first = feed.items[0]
    assert first.has_content and first.text == items[0].text
    assert first.link == f"{BASE}/articles/{items[0].slug}"
    assert first.published_at is not None and first.published_at.year == 2026
    assert feed.warnings == []


def test_atom_summary_only_items() -> None:
    items = [make_item(7, full=False)]
    feed = parse_feed(render_atom("t", BASE, items))
    assert not feed.items[0].has_content
    assert feed.items[0].text == items[0].text.split("،")[0]


def test_billion_laughs_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1


def test_external_entity_refused_and_file_never_read() -> None:
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(XXE)


def test_external_entity_hidden_in_utf16_refused() -> None:
    body = XXE.decode().replace("utf-8", "utf-16").encode("utf-16")
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(body)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_external_entity_in_wide_encoding_without_bom_refused(codec: str) -> None:
    body = XXE.decode().encode(codec)  # no BOM: only the NUL-stripped scan sees it
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(body)


def test_ebcdic_read_and_its_entities_refused() -> None:
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(XXE.decode().encode("cp037"))
    good = render_rss("t", BASE, [make_item(1)]).decode()
    good = good.replace('encoding="utf-8"', 'encoding="cp037"').replace("ـ", "")
    ebcdic = good.encode("cp037", errors="replace")
    assert len(parse_feed(ebcdic).items) == 1


def test_ebcdic_named_only_by_the_http_charset_is_read_before_the_checks() -> None:
    body = XXE.decode().replace('<?xml version="1.0" encoding="utf-8"?>\n', "")
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(body.encode("cp500"), content_type="text/xml; charset=cp500")


def test_utf7_refused() -> None:
    hidden = XXE.replace(b'encoding="utf-8"', b'encoding="utf-7"').replace(b"<!", b"<+ACE-")
    with pytest.raises(FeedParseError, match="UTF-7"):
        parse_feed(hidden)
    with pytest.raises(FeedParseError, match="UTF-7"):
        parse_feed(XXE, content_type="text/xml; charset=UTF-7")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_entities_in_wide_encoding_after_leading_whitespace_refused(codec: str) -> None:
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(("\n  " + XXE.decode()).encode(codec))


def test_utf16_feed_read_whatever_the_http_charset() -> None:
    body = render_rss("t", BASE, [make_item(1), make_item(2)]).decode()
    wide = body.replace("utf-8", "utf-16").encode("utf-16")
    assert len(parse_feed(wide).items) == 2
    assert len(parse_feed(wide, content_type="application/rss+xml; charset=utf-16").items) == 2


def _rss(item_xml: str, prolog: str = '<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    return (
        f'{prolog}<rss version="2.0"><channel><title>t</title>'
        f"<item><title>خبر</title><link>{BASE}/a</link>{item_xml}</item>"
        f"<item><title>خبر آخر</title><link>{BASE}/b</link></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("item_xml", "kept"),
    [
        ("<description><![CDATA[مثال <!DOCTYPE html> في النص]]></description>", "في النص"),
        ("<description><![CDATA[a <!DOCTYPE without end]]></description>", "<!DOCTYPE without"),
        ("<description>&amp;lt;!DOCTYPE rss&amp;gt; text</description>", "<!DOCTYPE rss> text"),
        ("<description><![CDATA[<!ENTITY x SYSTEM 'file:///etc/passwd'>]]></description>",
         "<!ENTITY x SYSTEM"),
        ("<description>before<!-- <!DOCTYPE x> <!ENTITY y 'z'> -->after</description>",
         "beforeafter"),
    ],
)  # fmt: skip
def test_doctype_or_entity_in_content_is_content(item_xml: str, kept: str) -> None:
    body = _rss(item_xml)
    assert defuse(body) == body  # nothing before the root element to cut
    feed = parse_feed(body)
    assert len(feed.items) == 2 and kept in feed.items[0].text, feed.items[0].text
    assert not feed.warnings


def test_prolog_comments_and_pis_are_skipped_whole() -> None:
    prolog = (
        '<?xml version="1.0"?>\n<!-- a comment saying <rss> and <!ENTITY x "y"> -->\n'
        '<?xml-stylesheet href="s.xsl"?>\n<!DOCTYPE rss SYSTEM "http://x.example/rss-0.91.dtd">\n'
    )
    body = _rss("", prolog)
    cleaned = defuse(body)
    assert b"DOCTYPE" not in cleaned and b"<!-- a comment" in cleaned
    assert len(parse_feed(body).items) == 2


def test_doctype_with_a_quoted_bracket_or_gt_is_read_to_its_real_end() -> None:
    prolog = '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//x>[y//EN" "http://x.example/a>b">'
    body = _rss("", prolog)
    assert b"DOCTYPE" not in defuse(body) and b"a>b" not in defuse(body)
    assert len(parse_feed(body).items) == 2


def test_entity_declared_anywhere_in_the_prolog_refused() -> None:
    stray = '<?xml version="1.0"?>\n<!ENTITY x SYSTEM "file:///etc/passwd">\n'
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(_rss("", stray))
    after_comment = '<?xml version="1.0"?><!-- x --><!DOCTYPE rss [<!ENTITY a "b">]>'
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(_rss("", after_comment))
    quoted = "<!DOCTYPE rss SYSTEM \"a>b\" [<!ENTITY a 'x]>y'>]>"
    with pytest.raises(FeedParseError, match="entities"):
        parse_feed(_rss("", quoted))


def test_doctype_with_internal_subset_refused() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE rss [<!ELEMENT rss ANY>]><rss version="2.0"/>'
    with pytest.raises(FeedParseError, match="internal subset"):
        parse_feed(body)


def test_plain_doctype_stripped() -> None:
    body = render_rss("t", BASE, [make_item(1)]).replace(
        b"<rss ", b'<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "x.dtd">\n<rss ', 1
    )
    assert b"DOCTYPE" not in defuse(body)
    assert len(parse_feed(body).items) == 1


def test_html_instead_of_xml() -> None:
    with pytest.raises(FeedParseError, match="HTML page instead"):
        parse_feed(HTML_PAGE, content_type="text/xml")


def test_garbage_and_empty() -> None:
    with pytest.raises(FeedParseError, match="not an RSS/Atom feed"):
        parse_feed(b"\x00\x01 this is not xml at all {}")
    with pytest.raises(FeedParseError, match="empty"):
        parse_feed(b"  \n")


def test_truncated_document_keeps_complete_items() -> None:
    items = [make_item(i) for i in range(1, 11)]
    body = render_rss("t", BASE, items)
    feed = parse_feed(body[: len(body) // 2])
    assert 1 <= len(feed.items) < 10
    assert feed.items[0].title == items[0].title
    assert any("malformed" in w for w in feed.warnings)


def test_bad_encoding_does_not_crash() -> None:
    text = render_rss("t", BASE, [make_item(1), make_item(2)]).decode()
    body = text.encode("cp1256", errors="replace") + b"\xff\xfe\xc3("
    feed = parse_feed(body)
    assert feed.warnings  # the reason is reported
    assert all(isinstance(i.title, str) for i in feed.items)


def test_huge_title_capped() -> None:
    huge = Item("ع" * 2_000_000, "نص " * 60_000, "huge", make_item(1).published)
    feed = parse_feed(render_rss("t", BASE, [huge]))
    assert feed.items[0].title is not None
    assert len(feed.items[0].title) <= MAX_TITLE_CHARS + 1
    assert len(feed.items[0].text) <= MAX_TEXT_CHARS + 1


def test_ten_thousand_items_capped_with_reason() -> None:
    many = [
        Item(f"خبر {i}", "نص قصير", f"s{i}", make_item(1).published, False) for i in range(10_000)
    ]
    feed = parse_feed(render_rss("t", BASE, many), max_items=300)
    assert len(feed.items) == 300
    assert feed.items[0].title == "خبر 0"
    assert "10000 items; kept the first 300" in feed.warnings


def test_items_without_link_or_guid_kept_and_empty_ones_counted() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>only title, no link or guid</title></item>"
        "<item><description>only text</description></item>"
        "<item><guid>g-2</guid></item>"
        "<item><title>خبر</title><guid>g-1</guid></item></channel></rss>"
    ).encode()
    feed = parse_feed(body)
    assert [(i.title, i.link, i.guid) for i in feed.items] == [
        ("only title, no link or guid", None, None),
        (None, None, None),
        ("خبر", "g-1", "g-1"),  # an RSS guid is a permalink unless it says otherwise
    ]
    assert feed.items[1].text == "only text"
    assert feed.skipped == {"no_text": 1}
    assert "1 items without title or text skipped" in feed.warnings


def test_item_cap_and_trimmings_counted() -> None:
    long_link = f"{BASE}/" + "x" * 5000
    items = [Item(f"خبر {i}", "نص", f"s{i}", make_item(1).published, False) for i in range(12)]
    items[0] = Item("ع" * 2000, "نص " * 40_000, "huge", make_item(1).published, link=long_link)
    body = render_rss("t", BASE, items).replace(
        b"<pubDate>", b"<pubDate>not a date</pubDate><x>", 1
    )
    feed = parse_feed(body, max_items=10)
    assert feed.skipped == {"over_item_cap": 2}
    assert set(feed.items[0].trimmed) == {
        "title_truncated", "text_truncated", "link_too_long", "bad_date"
    }  # fmt: skip
    assert feed.items[0].link is None and feed.items[1].trimmed == ()


def test_a_path_like_body_is_never_opened() -> None:
    with pytest.raises(FeedParseError):
        parse_feed(b"/etc/passwd")


def test_html_to_text_keeps_paragraphs() -> None:
    assert html_to_text("<p>أولاً &amp; ثانياً</p><p>ثالثاً<br>رابعاً</p>") == (
        "أولاً & ثانياً\nثالثاً\nرابعاً"
    )
