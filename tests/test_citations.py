"""Tests for irarchive.citations: exact output, parser round-trips and hostile data.

Self-contained on purpose (inline articles, no archive or shared data) so the citation
exporters can be verified before the rest of the package exists.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irarchive import citations

SEED: dict[str, Any] = {
    "id": "3f9a0c1e2b4d5a6f",
    "slug": "2022-sco-summit-in-samarkand",
    "title": "2022 SCO Summit in Samarkand: Key Takeaways",
    "authors": [
        {"family": "Aliyeva", "given": "Leyla"},
        {"family": "van Dijk", "given": "Jan", "suffix": "Jr."},
        {"literal": "Eurasia Institute Staff"},
    ],
    "date": "2022-09-30",
    "doi": "10.5555/sco.2022",
    "excerpt": "On September 15–16, 2022, the attention of the world turned to Samarkand",
    "truncated": True,
    "category": "International Relations",
    "url": "https://example.org/analysis/2022-sco-summit-in-samarkand",
    "source": "listings/page-1.html",
    "added_at": "2026-11-27T18:00:00Z",
    "extra": {},
}

SECOND: dict[str, Any] = {
    "id": "0B1C2D3E4F5A6B7C",  # upper-case hex is accepted and lower-cased in the key
    "slug": "nato-and-the-south-caucasus",
    "title": "NATO & the South Caucasus: 50% “Partnership”_2.0 [draft]",
    "date": "2021-03",
    "excerpt": "Short *note* about #Baku.",
    "truncated": False,
    "category": None,
    "url": None,
    "source": None,
    "added_at": "2026-11-27T18:00:00Z",
    "extra": {"lang": "en"},
}

UNDATED: dict[str, Any] = {
    "id": "ffffffffffffffff",
    "slug": "iran-and-the-eaeu",
    "title": "Iran and the EAEU",
    "date": None,
    "excerpt": None,
    "truncated": False,
    "category": "Economy",
    "url": "javascript:alert(1)",  # not http(s): dropped everywhere
    "source": None,
    "added_at": None,
    "extra": {},
}

HOSTILE_TITLES = [
    "{unbalanced",
    "unbalanced}",
    "}}{{",
    "back\\slash \\textbf{x} \\",
    "100% & $5 #1 a_b ~ ^",
    "[bold]not bold[/bold] **x** `code` <b>html</b> &amp;",
    "\x1b[31mred\x1b[0m and \x1b]0;title\x07osc",
    "nul\x00byte",
    "bidi \u202eevil\u202c override \u2066isolate\u2069",
    "emoji 🎉🇮🇷 and ZWJ 👩‍💻",
    "line\nbreak\r\ncarriage\u2028sep\u0085nel\ttab",
    "@online{evil, title={pwned}}",
    "",
    "   ",
    "x" * 100_000,
    "C1 \x9b31m and DEL \x7f",
    "lone surrogate \ud800 here",
    "# heading\n- list\n1. ordered",
]


def text(chunks: Iterator[str]) -> str:
    """Join a streamed export."""
    return "".join(chunks)


def bib_unescape(value: str) -> str:
    """Invert citations.bibtex_escape exactly (macros, \\x escapes, protection braces)."""
    macros = {
        "textbackslash": "\\",
        "textbraceleft": "{",
        "textbraceright": "}",
        "textasciitilde": "~",
        "textasciicircum": "^",
    }

    def repl(m: re.Match[str]) -> str:
        if m[1]:
            return macros[m[1]]
        if m[2]:
            return m[2]
        return ""  # a bare brace only ever comes from case protection

    return re.sub(
        r"\\(textbackslash|textbraceleft|textbraceright|textasciitilde|textasciicircum)\{\}"
        r"|\\([&%$#_{}])|[{}]",
        repl,
        value,
    )


def parse_bib(output: str) -> bibtexparser.Library:
    lib = bibtexparser.parse_string(output)
    assert lib.failed_blocks == []
    return lib


# ------------------------------------------------------------------------ keys


def test_key_scheme() -> None:
    assert citations.citation_key(SEED) == "sco2022-3f9a0c1e2b4d5a6f"
    assert citations.citation_key(SECOND) == "nato2021-0b1c2d3e4f5a6b7c"
    assert citations.citation_key(UNDATED) == "iran-ffffffffffffffff"


def test_key_is_independent_of_export_selection() -> None:
    alone = parse_bib(text(citations.bibtex([SEED]))).entries[0].key
    together = parse_bib(text(citations.bibtex([UNDATED, SECOND, SEED]))).entries[2].key
    assert alone == together == "sco2022-3f9a0c1e2b4d5a6f"


def test_key_fallbacks() -> None:
    persian = {"id": "0123456789abcdef", "title": "ایران و آسیای مرکزی", "slug": "iran-central"}
    assert citations.citation_key(persian) == "iran-0123456789abcdef"
    nothing = {"id": "0123456789abcdef", "title": "ایران", "date": "1999"}
    assert citations.citation_key(nothing) == "article1999-0123456789abcdef"
    accents = {"id": "0123456789abcdef", "title": "The Élysée’s U.S. policy"}
    assert citations.citation_key(accents) == "elysees-0123456789abcdef"
    bad_id = {"id": "not-hex", "title": "Same"}
    key = citations.citation_key(bad_id)
    assert re.fullmatch(r"same-[0-9a-f]{16}", key)
    assert citations.citation_key(dict(bad_id)) == key  # deterministic
    assert citations.citation_key({"id": "other", "title": "Same"}) != key


def test_duplicate_keys_get_letter_suffixes() -> None:
    lib = parse_bib(text(citations.bibtex([SEED, SECOND, SEED, SEED])))
    assert [e.key for e in lib.entries] == [
        "sco2022-3f9a0c1e2b4d5a6f",
        "nato2021-0b1c2d3e4f5a6b7c",
        "sco2022-3f9a0c1e2b4d5a6fa",
        "sco2022-3f9a0c1e2b4d5a6fb",
    ]


def test_many_duplicates_stay_unique() -> None:
    keys = [e.key for e in parse_bib(text(citations.bibtex([{}] * 60))).entries]
    assert len(set(keys)) == 60
    assert keys[27].endswith("aa")  # bijective base 26 after z


# ---------------------------------------------------------------------- BibTeX

SEED_BIB = """\
@online{sco2022-3f9a0c1e2b4d5a6f,
  author = {Aliyeva, Leyla and van Dijk, Jr., Jan and {Eurasia Institute Staff}},
  title = {2022 {SCO Summit} in {Samarkand}: Key {Takeaways}},
  date = {2022-09-30},
  year = {2022},
  month = sep,
  doi = {10.5555/sco.2022},
  url = {https://example.org/analysis/2022-sco-summit-in-samarkand},
  urldate = {2026-11-27},
  abstract = {On September 15–16, 2022, the attention of the world turned to Samarkand…},
  keywords = {International Relations},
  organization = {Eurasia Institute},
  irarchive-id = {3f9a0c1e2b4d5a6f}
}

@online{nato2021-0b1c2d3e4f5a6b7c,
  title = {{NATO} \\& the {South Caucasus}: 50\\% “{Partnership}”\\_2.0 [draft]},
  date = {2021-03},
  year = {2021},
  month = mar,
  abstract = {Short *note* about \\#Baku.},
  organization = {Eurasia Institute},
  irarchive-id = {0B1C2D3E4F5A6B7C}
}
"""


def test_bibtex_exact() -> None:
    assert text(citations.bibtex([SEED, SECOND], publisher="Eurasia Institute")) == SEED_BIB


def test_bibtex_fields_parse() -> None:
    lib = parse_bib(text(citations.bibtex([SEED, SECOND, UNDATED])))
    assert [e.entry_type for e in lib.entries] == ["online"] * 3
    seed = lib.entries[0].fields_dict
    assert seed["date"].value == "2022-09-30"
    assert seed["urldate"].value == "2026-11-27"
    assert seed["irarchive-id"].value == SEED["id"] and "note" not in seed
    assert seed["keywords"].value == "International Relations"
    undated = lib.entries[2].fields_dict
    assert "date" not in undated and "year" not in undated and "url" not in undated


@pytest.mark.parametrize(
    "title",
    [
        SEED["title"],
        SECOND["title"],
        "Iran’s “Look East” policy after the JCPOA",
        "Россия и Китай в Центральной Азии",
        "U.S.–China rivalry in the Caspian: 10% of trade & $2bn",
        "Türkiye, the EU and Azerbaijan",
        "Notes on {Braced} Terms and {nested {groups}}",  # \{ \}: pylatexenc reads them
    ],
)
def test_bibtex_title_round_trips_through_latex_decoding(title: str) -> None:
    article = {**SEED, "title": title}
    lib = bibtexparser.parse_string(
        text(citations.bibtex([article])), append_middleware=[LatexDecodingMiddleware()]
    )
    assert lib.failed_blocks == []
    assert lib.entries[0].fields_dict["title"].value == title


@pytest.mark.parametrize("title", HOSTILE_TITLES, ids=range(len(HOSTILE_TITLES)))
def test_bibtex_hostile_title_parses_to_one_entry(title: str) -> None:
    out = text(citations.bibtex([{**SEED, "title": title, "excerpt": title}]))
    lib = parse_bib(out)
    assert len(lib.entries) == 1
    fields = lib.entries[0].fields_dict
    expected = citations.clean_text(title)
    if expected:
        assert bib_unescape(fields["title"].value) == expected
    else:
        assert "title" not in fields
    assert out.count("{") == out.count("}")  # every brace group balanced


def test_bibtex_escape_acronym_protection() -> None:
    assert citations.bibtex_escape("U.S. and iPhone in NATO", protect_case=True) == (
        "{U.S.} and {iPhone} in {NATO}"
    )
    assert citations.bibtex_escape("{a} ~b^", protect_case=True) == (
        r"\{a\} \textasciitilde{}b\textasciicircum{}"
    )
    assert citations.bibtex_escape("}a{", protect_case=True) == (
        r"\textbraceright{}a\textbraceleft{}"
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "30th Year of Diplomatic Relations between Türkiye and Turkic Republics",
            "30th {Year} of {Diplomatic Relations} between {Türkiye} and {Turkic Republics}",
        ),
        (
            "China’s Summits with Central Asia: Latest Developments",
            "China’s {Summits} with {Central Asia}: Latest {Developments}",
        ),
        ("The Indo-Pacific Strategy. Why Now?", "The {Indo-Pacific Strategy}. Why {Now}?"),
        ("the rise of iPhone diplomacy", "the rise of {iPhone} diplomacy"),
        ("SCO and U.S. policy", "{SCO} and {U.S.} policy"),
    ],
)
def test_bibtex_title_protects_capitalised_words(title: str, expected: str) -> None:
    assert citations.bibtex_escape(title, protect_case=True) == expected


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ([{"family": "Smith", "given": "John"}], "Smith, John"),
        ([{"family": "Van Buren"}], "{Van Buren}"),
        ([{"family": "Smith", "suffix": "Jr."}], "Smith, Jr., "),
        ([{"family": "Barnes and Noble", "given": "A"}], "{Barnes and Noble}, A"),
        ([{"literal": "Smith & Sons, Ltd."}], r"{Smith \& Sons, Ltd.}"),
        (["Eurasian Research Institute"], "{Eurasian Research Institute}"),
        (
            [{"family": "Doe", "given": "Jane"}, {"family": "Doe", "given": "Jane"}, 7, {}],
            "Doe, Jane",
        ),
    ],
)
def test_bibtex_author_field(authors: list[Any], expected: str) -> None:
    entry = parse_bib(text(citations.bibtex([{"title": "T", "authors": authors}]))).entries[0]
    assert entry.fields_dict["author"].value == expected


def test_undated_entries_have_no_urldate_but_keep_access_date_elsewhere() -> None:
    undated = {**SEED, "date": None}
    entry = parse_bib(text(citations.bibtex([undated]))).entries[0].fields_dict
    assert "urldate" not in entry and "year" not in entry and "date" not in entry
    assert "Y2  - 2026/11/27/\n" in text(citations.ris([undated]))
    item = json.loads(text(citations.csl_json([undated])))[0]
    assert item["accessed"] == {"date-parts": [[2026, 11, 27]]} and "issued" not in item
    no_url = {**SEED, "url": None}  # an access date says when a URL was read
    assert "urldate" not in text(citations.bibtex([no_url]))
    assert "Y2  -" not in text(citations.ris([no_url]))
    assert "accessed" not in json.loads(text(citations.csl_json([no_url])))[0]


def test_doi_must_be_a_doi() -> None:
    bad = {**SEED, "doi": "10.5555/x} , title = {pwned"}
    out = text(citations.bibtex([bad]))
    assert "doi =" not in out and "pwned" not in out
    assert "DO  -" not in text(citations.ris([bad]))


# ------------------------------------------------------------------------- RIS

SEED_RIS_RECORDS = [
    [
        "TY  - ELEC",
        "AU  - Aliyeva, Leyla",
        "AU  - van Dijk, Jan, Jr.",
        "AU  - Eurasia Institute Staff,",
        "TI  - 2022 SCO Summit in Samarkand: Key Takeaways",
        "PY  - 2022",
        "DA  - 2022/09/30/",
        "DO  - 10.5555/sco.2022",
        "UR  - https://example.org/analysis/2022-sco-summit-in-samarkand",
        "Y2  - 2026/11/27/",
        "AB  - On September 15–16, 2022, the attention of the world turned to Samarkand…",
        "KW  - International Relations",
        "ID  - sco2022-3f9a0c1e2b4d5a6f",
        "ER  - ",
    ],
    [
        "TY  - ELEC",
        "TI  - NATO & the South Caucasus: 50% “Partnership”_2.0 [draft]",
        "PY  - 2021",
        "DA  - 2021/03//",
        "AB  - Short *note* about #Baku.",
        "ID  - nato2021-0b1c2d3e4f5a6b7c",
        "ER  - ",
    ],
    [
        "TY  - ELEC",
        "TI  - Iran and the EAEU",
        "KW  - Economy",
        "ID  - iran-ffffffffffffffff",
        "ER  - ",
    ],
]
SEED_RIS = "".join("\n".join(record) + "\n\n" for record in SEED_RIS_RECORDS)


def test_ris_exact() -> None:
    assert text(citations.ris([SEED, SECOND, UNDATED])) == SEED_RIS


def test_ris_year_only_and_publisher() -> None:
    out = text(citations.ris([{**SEED, "date": "2022"}], publisher="Eurasia Institute"))
    assert "DA  - 2022///\n" in out
    assert "PB  - Eurasia Institute\n" in out


def assert_ris_structure(out: str, n: int) -> None:
    records = [r for r in out.split("\n\n") if r]
    assert len(records) == n
    for record in records:
        lines = record.split("\n")
        assert lines[0] == "TY  - ELEC"
        assert lines[-1] == "ER  - "
        for line in lines:
            assert re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line), line
        assert sum(line.startswith("ER  - ") for line in lines) == 1


def test_ris_hostile_values_stay_on_one_line() -> None:
    articles = [{**SEED, "title": t, "excerpt": t, "category": t} for t in HOSTILE_TITLES]
    assert_ris_structure(text(citations.ris(articles)), len(articles))


# -------------------------------------------------------------------- CSL-JSON

SEED_CSL = [
    {
        "id": "sco2022-3f9a0c1e2b4d5a6f",
        "type": "webpage",
        "author": SEED["authors"],
        "title": "2022 SCO Summit in Samarkand: Key Takeaways",
        "issued": {"date-parts": [[2022, 9, 30]]},
        "DOI": "10.5555/sco.2022",
        "URL": "https://example.org/analysis/2022-sco-summit-in-samarkand",
        "accessed": {"date-parts": [[2026, 11, 27]]},
        "abstract": "On September 15–16, 2022, the attention of the world turned to Samarkand…",
        "keyword": "International Relations",
        "container-title": "Eurasia Institute",
    },
    {
        "id": "nato2021-0b1c2d3e4f5a6b7c",
        "type": "webpage",
        "title": "NATO & the South Caucasus: 50% “Partnership”_2.0 [draft]",
        "issued": {"date-parts": [[2021, 3]]},
        "abstract": "Short *note* about #Baku.",
        "container-title": "Eurasia Institute",
    },
    {
        "id": "iran-ffffffffffffffff",
        "type": "webpage",
        "title": "Iran and the EAEU",
        "keyword": "Economy",
        "container-title": "Eurasia Institute",
    },
]

# The subset of the CSL-JSON schema (csl-data.json, CSL 1.0.2) for the fields we emit.
CSL_STRING_FIELDS = {
    "id", "type", "title", "URL", "DOI", "abstract", "keyword", "container-title"
}  # fmt: skip
CSL_DATE_FIELDS = {"issued", "accessed"}
CSL_NAME_PARTS = {"family", "given", "suffix"}
CSL_TYPES = {"webpage", "post-weblog", "article", "article-newspaper"}


def check_csl_item(item: Any) -> None:
    assert isinstance(item, dict)
    assert set(item) <= CSL_STRING_FIELDS | CSL_DATE_FIELDS | {"author"}
    assert isinstance(item["id"], str) and item["id"]
    for name in item.get("author", []):
        assert set(name) == {"literal"} or ("family" in name and set(name) <= CSL_NAME_PARTS)
        assert all(isinstance(v, str) and v for v in name.values())
    assert item["type"] in CSL_TYPES
    for name in CSL_STRING_FIELDS & set(item):
        assert isinstance(item[name], str) and item[name], name
    for name in CSL_DATE_FIELDS & set(item):
        date = item[name]
        assert set(date) == {"date-parts"}
        parts = date["date-parts"]
        assert isinstance(parts, list) and len(parts) == 1
        assert isinstance(parts[0], list) and 1 <= len(parts[0]) <= 3
        assert all(type(p) is int for p in parts[0])


def test_csl_json_exact() -> None:
    out = text(citations.csl_json([SEED, SECOND, UNDATED], publisher="Eurasia Institute"))
    assert out.startswith("[\n{") and out.endswith("}\n]\n")
    assert out.count(",\n{") == 2  # one item per line, joined by ",\n"
    items = json.loads(out)
    assert items == SEED_CSL
    for item in items:
        check_csl_item(item)


def test_csl_json_empty_is_valid() -> None:
    assert json.loads(text(citations.csl_json([]))) == []


def bundled_style() -> str:
    """citeproc-py renamed its bundled 'harvard1' to 'harvard-cite-them-right'."""
    import citeproc

    styles = Path(citeproc.__file__).parent / "data" / "styles"
    for name in ("harvard1", "harvard-cite-them-right"):
        if (styles / f"{name}.csl").exists():
            return name
    return sorted(p.stem for p in styles.glob("*.csl"))[0]


def render_with_citeproc(items: list[dict[str, Any]]) -> list[str]:
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unsupported variable would warn
        source = CiteProcJSON(items)
        style = CitationStylesStyle(bundled_style(), validate=False)
        bibliography = CitationStylesBibliography(style, source, formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        return [str(entry) for entry in bibliography.bibliography()]


def test_csl_json_renders_with_citeproc() -> None:
    items = json.loads(text(citations.csl_json([SEED, SECOND], publisher="Eurasia Institute")))
    rendered = render_with_citeproc(items)
    assert len(rendered) == 2
    seed = next(r for r in rendered if "Samarkand" in r)
    assert "2022" in seed and "Eurasia Institute" in seed
    # Authors in order, the organisation unsplit; the DOI link stands in for the URL.
    assert seed.startswith("Aliyeva, L., van Dijk, J., Jr. and Eurasia Institute Staff (2022)")
    assert "https://doi.org/10.5555/sco.2022" in seed
    nato = next(r for r in rendered if "NATO" in r)
    assert "2021" in nato and "Eurasia Institute" in nato


def test_csl_json_hostile_items_render() -> None:
    articles = [{**SEED, "title": t, "excerpt": t} for t in HOSTILE_TITLES]
    items = json.loads(text(citations.csl_json(articles)))
    assert len(items) == len(articles)
    for item in items:
        check_csl_item(item)
    assert len(render_with_citeproc(items)) == len(articles)


# -------------------------------------------------------------------- Markdown

SEED_MD = """\
# Reading list

- **2022 SCO Summit in Samarkand: Key Takeaways**, by Leyla Aliyeva, Jan van Dijk Jr. and \
Eurasia Institute Staff (30 September 2022). \
[link](https://example.org/analysis/2022-sco-summit-in-samarkand) \
— On September 15–16, 2022, the attention of the world turned to Samarkand…
- **NATO \\& the South Caucasus: 50% “Partnership”\\_2.0 \\[draft\\]** (March 2021). \
— Short \\*note\\* about #Baku.
- **Iran and the EAEU** (n.d.).
- *\\(untitled\\)* (2020).
"""

MD_INLINE_SPECIALS = set("\\`*_[]<>&~|$")


def test_markdown_exact() -> None:
    untitled = {"id": "0000000000000000", "title": "", "date": "2020"}
    assert text(citations.markdown_reading_list([SEED, SECOND, UNDATED, untitled])) == SEED_MD


def test_markdown_empty() -> None:
    assert text(citations.markdown_reading_list([])) == "# Reading list\n\n"


def md_unescape_and_check(escaped: str) -> str:
    """Assert every special is backslash-escaped; return the literal text."""
    bare = re.sub(r"\\.", "", escaped)
    assert not MD_INLINE_SPECIALS & set(bare), escaped
    return re.sub(r"\\(.)", r"\1", escaped)


@pytest.mark.parametrize("title", HOSTILE_TITLES, ids=range(len(HOSTILE_TITLES)))
def test_markdown_data_never_becomes_markup(title: str) -> None:
    escaped = citations.markdown_escape(citations.clean_text(title))
    assert md_unescape_and_check(escaped) == citations.clean_text(title)
    assert not re.match(r"[#+=-]|\d+[.)]", escaped)  # no block construct at line start
    out = text(citations.markdown_reading_list([{**SEED, "title": title, "excerpt": title}]))
    lines = out.split("\n")
    assert lines[:2] == ["# Reading list", ""] and lines[-1] == ""
    assert len(lines) == 4 and lines[2].startswith("- ")


def test_markdown_url_cannot_break_link() -> None:
    article = {**SEED, "url": 'https://example.org/a b)(c)<x>"y"[z]'}
    out = text(citations.markdown_reading_list([article]))
    assert "[link](https://example.org/a%20b%29%28c%29%3Cx%3E%22y%22[z])" in out


# -------------------------------------------------------------- all formats

EXPORTERS = [citations.bibtex, citations.ris, citations.csl_json, citations.markdown_reading_list]
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@pytest.mark.parametrize("export", EXPORTERS, ids=lambda f: f.__name__)
def test_no_control_or_bidi_characters_survive(export: Any) -> None:
    articles = [
        {key: (t if isinstance(value, str) else value) for key, value in SEED.items()}
        for t in HOSTILE_TITLES
    ]
    out = text(export(articles))
    assert not FORBIDDEN.search(out)
    out.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize("export", EXPORTERS, ids=lambda f: f.__name__)
def test_exporters_stream_lazily(export: Any) -> None:
    endless = itertools.repeat(SEED)  # would never finish if an exporter buffered
    chunks = list(itertools.islice(export(endless), 5))
    assert len(chunks) == 5


@pytest.mark.parametrize("export", EXPORTERS, ids=lambda f: f.__name__)
def test_wrong_types_and_missing_fields_do_not_raise(export: Any) -> None:
    weird: list[Any] = [
        {},
        None,
        "not a dict",
        {"title": 1984, "date": 2022, "id": 7, "url": ["x"], "truncated": "yes"},
        {"title": None, "excerpt": None, "category": None, "added_at": "garbage"},
        {"date": "2022-02-30", "added_at": "2026-13-01T00:00:00Z"},  # invalid dates
        {"date": "0000", "url": "ftp://example.org/x"},
    ]
    assert text(export(weird))


def test_invalid_dates_are_treated_as_undated() -> None:
    assert citations.parse_date("2022-02-30") is None
    assert citations.parse_date("2022-13") is None
    assert citations.parse_date("22-01-01") is None
    assert citations.parse_date("2024-02-29") == (2024, 2, 29)
    assert citations.parse_date(" 2022-09 ") == (2022, 9)


# ------------------------------------------------------------------ property

NASTY = st.sampled_from(
    list("{}\\%&$#_~^[]*`<>@,=\"'()")
    + ["\x00", "\x1b[31m", "\u202e", "\u2028", "\x85", "\ud800", "@online{x,", "ER  - "]
)
NASTY_TEXT = st.lists(st.one_of(st.text(max_size=4), NASTY), max_size=8).map("".join)
VALUES = st.one_of(
    st.none(),
    st.text(),
    NASTY_TEXT,
    NASTY_TEXT.map("https://example.org/".__add__),
    st.sampled_from(["2022", "2022-09", "2022-09-30", "2022-02-30", "2026-11-27T18:00:00Z"]),
    st.integers(),
    st.booleans(),
)
FIELDS = ("id", "slug", "title", "date", "excerpt", "truncated", "category", "url", "added_at")
NAME = st.one_of(
    st.fixed_dictionaries({"family": VALUES}, optional={"given": VALUES, "suffix": VALUES}),
    st.fixed_dictionaries({"literal": VALUES}),
    VALUES,
)
ARTICLE = st.fixed_dictionaries(
    dict.fromkeys(FIELDS, VALUES)
    | {
        "source": VALUES,
        "extra": st.just({}),
        "authors": st.one_of(VALUES, st.lists(NAME, max_size=3)),
        "doi": st.one_of(VALUES, NASTY_TEXT.map("10.5555/".__add__)),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ARTICLE, max_size=6))
def test_property_every_format_survives_random_data(articles: list[dict[str, Any]]) -> None:
    n = len(articles)
    lib = parse_bib(text(citations.bibtex(articles)))
    assert len(lib.entries) == n
    assert len({e.key for e in lib.entries}) == n
    for entry, article in zip(lib.entries, articles, strict=True):
        expected = citations.clean_text(article["title"])
        if expected:
            assert bib_unescape(entry.fields_dict["title"].value) == expected

    assert_ris_structure(text(citations.ris(articles)), n)

    items = json.loads(text(citations.csl_json(articles)))
    assert len(items) == n and len({i["id"] for i in items}) == n
    for item in items:
        check_csl_item(item)

    md = text(citations.markdown_reading_list(articles))
    assert md.count("\n- ") == n
    for article in articles:
        cleaned = citations.clean_text(article["title"])
        assert md_unescape_and_check(citations.markdown_escape(cleaned)) == cleaned

    for export in EXPORTERS:
        out = text(export(articles))
        assert not FORBIDDEN.search(out)
        out.encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(st.lists(ARTICLE, min_size=1, max_size=4), st.data())
def test_property_keys_do_not_depend_on_selection(
    articles: list[dict[str, Any]], data: st.DataObject
) -> None:
    """The same article gets the same key whatever else is exported (absent duplicates)."""
    if len({citations.citation_key(a) for a in articles}) != len(articles):
        return  # duplicate keys are legitimately suffixed by position
    full = [item["id"] for item in json.loads(text(citations.csl_json(articles)))]
    indices = data.draw(
        st.lists(st.integers(0, len(articles) - 1), unique=True, min_size=1), label="subset"
    )
    part = json.loads(text(citations.csl_json([articles[i] for i in indices])))
    assert [item["id"] for item in part] == [full[i] for i in indices]
