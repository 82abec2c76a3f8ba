"""irarchive related: "more like this" by distinctive shared words, on the bundled seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irarchive.analysis import related, term_counts
from irarchive.store import open_archive

SCO_SUMMIT = "a510295c9c3d6635"  # 2022 SCO Summit in Samarkand: Key Takeaways
SCO_HISTORY = "7c24afc7070dfa8e"  # Shanghai Cooperation Organization: History and Role ...
CHINA_INDIA = "65541e609222b495"  # China’s and India’a Summits with Central Asia: ...
INDIA_CA = "d16cca66f1440967"  # Post-Pandemic India-Central Asia Dialogue


pytestmark = pytest.mark.usefixtures("seeded")


@pytest.mark.parametrize(
    ("ref", "top"),
    [
        (SCO_SUMMIT, SCO_HISTORY),
        (SCO_HISTORY, SCO_SUMMIT),
        (CHINA_INDIA, INDIA_CA),
        (INDIA_CA, CHINA_INDIA),
    ],
)
def test_pairs_are_each_others_top_match(cli, ref: str, top: str) -> None:
    r = cli("related", ref, "--json")
    found = json.loads(r.out)
    assert r.code == 0
    assert found[0]["id"] == top
    assert ref not in [r["id"] for r in found]


def test_exact_tsv_by_slug(cli) -> None:
    r = cli("related", "2022-sco-summit-samarkand-key", "-n", "4")
    assert (r.code, r.err) == (0, "")
    assert r.out == (
        "7c24afc7070dfa8e\t1\t24.5\t2022-02-07\tShanghai Cooperation Organization: History "
        "and Role in Regional Security\tInternational Relations\n"
        "141e649dec283798\t2\t8.5\t2022-11-01\tThe Sixth CICA Summit: Asian Vision of the "
        "Global Development\tInternational Relations\n"
        "138ba6c2277b77e8\t3\t3.8\t2022-02-01\tTurkmenistan-Russia Energy Cooperation in the "
        "Context of Natural Gas Trading\tInternational Relations\n"
        "65541e609222b495\t4\t3.2\t2022-03-14\tChina’s and India’a Summits with Central "
        "Asia: Latest Developments\tInternational Relations\n"
    )


def test_json_fields_and_shared_words(cli) -> None:
    r = cli(
        "related", "Post-Pandemic India-Central Asia Dialogue", "-n", "1", "--json",
        "--fields", "rank,score,shared,slug",
    )  # fmt: skip
    assert json.loads(r.out) == [
        {
            "rank": 1,
            "score": 23.2,
            "shared": ["central", "asia", "india", "asian", "states"],
            "slug": "chinas-indiaa-summits-central-asia",
        }
    ]


def test_table_names_the_article_on_stderr(cli) -> None:
    r = cli("related", SCO_HISTORY, "-f", "table", "-n", "1")
    assert r.code == 0
    assert r.err == (
        "like: Shanghai Cooperation Organization: History and Role in Regional Security "
        "(7c24afc7070dfa8e)\n"
    )
    assert "a510295c9c3d6635" in r.out  # the id of "2022 SCO Summit in Samarkand"


def test_unknown_ref_exits_1(cli) -> None:
    r = cli("related", "no-such-article-anywhere")
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("Error: no article 'no-such-article-anywhere'")


def test_nothing_shared_gives_empty_result(tmp_path: Path, cli) -> None:
    src = tmp_path / "odd.jsonl"
    src.write_text('{"title": "Zyxwv Qqqpl", "date": "2020", "excerpt": "Vbnmq."}\n')
    assert cli("import", str(src)).code == 0
    r = cli("related", "Zyxwv Qqqpl", "-f", "table")
    assert (r.code, r.out) == (0, "")
    assert r.err.endswith("no related articles: it shares no distinctive words with any other\n")
    assert cli("related", "Zyxwv Qqqpl", "--json").out == "[]\n"


def test_scores_are_bounded_and_sorted(seeded: Path) -> None:
    archive = open_archive(str(seeded))
    try:
        article = archive.get(SCO_SUMMIT)
        found = related(archive, article, limit=0)
    finally:
        archive.close()
    scores = [r.score for r in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 100 for s in scores)


def test_title_words_outweigh_excerpt_words() -> None:
    counts = term_counts({"title": "Caspian Summit", "excerpt": "caspian ports and the summit"})
    assert counts["caspian"] == counts["summit"] == 3 * (1 + __import__("math").log(2))
    assert counts["ports"] == 1.0
    assert "and" not in counts and "the" not in counts
