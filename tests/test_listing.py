"""The listing text parser: the bundled seed, format variations, and properties."""

from __future__ import annotations

import io
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from irarchive.model import Article
from irarchive.sources import Rejected, listing, to_articles
from tests.conftest import ROOT

SEED_LISTING = ROOT / "data" / "listings" / "international-relations-listing.txt"


def parse(text: str) -> list:
    raw = listing.read(io.StringIO(text), name="t.txt")
    return list(to_articles(raw, name="t.txt", source="t.txt", date_order=None))


def test_seed_listing_parses_into_ten_articles():
    items = parse(SEED_LISTING.read_text("utf-8"))
    assert all(isinstance(i, Article) for i in items)
    assert len(items) == 10
    assert [i.date for i in items][0] == "2022-11-01"
    assert [i.date for i in items][-1] == "2021-12-27"
    assert {i.category for i in items} == {"International Relations"}
    first = items[0]
    assert first.title == "The Sixth CICA Summit: Asian Vision of the Global Development"
    assert first.truncated is True
    assert first.excerpt.endswith("disruption of supply chains,")
    assert "[…]" not in first.excerpt
    # Curly quotes are kept as they are.
    assert items[3].title == "China’s and India’a Summits with Central Asia: Latest Developments"
    assert "“Joint Comprehensive Plan of Action”" in items[7].excerpt


def test_date_line_directly_after_excerpt_starts_next_article():
    text = "Cat\n\nMay 3, 2022\n\nA\n\nText one […]\nMay 2, 2022\nB\nText two\n"
    a, b = parse(text)
    assert (a.title, a.excerpt, a.truncated) == ("A", "Text one", True)
    assert (b.title, b.excerpt, b.truncated, b.date) == ("B", "Text two", False, "2022-05-02")


def test_windows_line_endings_bom_and_extra_blank_lines():
    text = "\ufeffCat\r\n\r\n\r\nMay 3, 2022\r\n\r\n\r\nTitle\r\n\r\nExcerpt […]\r\n\r\n"
    (a,) = parse(text)
    assert (a.category, a.date, a.title, a.excerpt, a.truncated) == (
        "Cat",
        "2022-05-03",
        "Title",
        "Excerpt",
        True,
    )


def test_multi_line_excerpt_is_joined():
    (a,) = parse("C\nJune 1, 2020\nT\nline one\nline two […]\n")
    assert a.excerpt == "line one line two"


def test_listing_without_heading_has_no_category():
    (a,) = parse("June 1, 2020\nT\nE\n")
    assert a.category is None and a.title == "T"


def test_text_before_any_date_is_rejected_with_line():
    items = parse("Cat\nA stray title\nJune 1, 2020\nT\nE\n")
    assert isinstance(items[0], Rejected)
    assert str(items[0]) == (
        "t.txt:2: text with no date line before it (expected e.g. 'November 1, 2022')"
    )
    assert isinstance(items[1], Article)


def test_date_without_title_is_rejected():
    items = parse("Cat\nJune 1, 2020\n\nJune 2, 2020\nT\n")
    assert isinstance(items[0], Rejected) and items[0].line == 2
    assert items[1].title == "T"


def test_other_date_forms_in_listing():
    items = parse("C\n2020-06-01\nA\nx\n1 June 2020\nB\ny\nJun 2020\nC\nz\n")
    assert [i.date for i in items] == ["2020-06-01", "2020-06-01", "2020-06"]


line_text = (
    st.text(
        # A BOM at the start of a line is dropped on purpose (concatenated files).
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"
        ),
        min_size=1,
        max_size=40,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: s and not any(c.isdigit() for c in s))
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(1000, 1, 1)),
            line_text,
            st.lists(line_text, max_size=3),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(min_value=0, max_value=2),
)
def test_property_render_then_parse_round_trips(records, newline, blanks):
    """Any listing we write (any line endings, blank-line style) parses back exactly."""
    gap = newline * blanks
    out = ["Category", gap]
    for day, title, excerpt, truncated in records:
        out.append(f"{day:%B} {day.day}, {day.year}")
        out.append(gap)
        out.append(title)
        out.append(gap)
        body = " ".join(excerpt)
        if truncated:
            body = (body + " […]").strip()
        if body:
            out.append(body)
    text = newline.join(p for p in out if p != "") + newline
    items = parse(text)
    assert all(isinstance(i, Article) for i in items), items
    assert [(i.date, i.title) for i in items] == [(d.isoformat(), t) for d, t, _, _ in records]
    for item, (_, _, excerpt, truncated) in zip(items, records, strict=True):
        assert item.excerpt == (" ".join(excerpt) or None)
        assert item.truncated == truncated
