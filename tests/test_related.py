"""irarchive related: "more like this" by distinctive shared words, on the bundled seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irarchive.analysis import related, term_counts
from irarchive.store import open_archive
from tests.conftest import run

SCO_SUMMIT = "a510295c9c3d6635"  # 2022 SCO Summit in Samarkand: Key Takeaways
SCO_HISTORY = "7c24afc7070dfa8e"  # Shanghai Cooperation Organization: History and Role ...
CHINA_INDIA = "65541e609222b495"  # China’s and India’a Summits with Central Asia: ...
INDIA_CA = "d16cca66f1440967"  # Post-Pandemic India-Central Asia Dialogue


pytestmark = pytest.mark.usefixtures("archive_path")


@pytest.mark.parametrize(
    ("ref", "top"),
    [
        (SCO_SUMMIT, SCO_HISTORY),
        (SCO_HISTORY, SCO_SUMMIT),
        (CHINA_INDIA, INDIA_CA),
        (INDIA_CA, CHINA_INDIA),
    ],
)
def test_pairs_are_each_others_top_match(
    capsys: pytest.CaptureFixture[str], ref: str, top: str
) -> None:
    code, out, _ = run(capsys, "related", ref, "--json")
    found = json.loads(out)
    assert code == 0
    assert found[0]["id"] == top
    assert ref not in [r["id"] for r in found]


def test_exact_tsv_by_slug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "related", "2022-sco-summit-samarkand-key", "-n", "4")
    assert (code, err) == (0, "")
    assert out == (
        "1\t24.5\t2022-02-07\tShanghai Cooperation Organization: History and Role in Regional "
        "Security\tInternational Relations\n"
        "2\t8.5\t2022-11-01\tThe Sixth CICA Summit: Asian Vision of the Global Development\t"
        "International Relations\n"
        "3\t3.8\t2022-02-01\tTurkmenistan-Russia Energy Cooperation in the Context of Natural "
        "Gas Trading\tInternational Relations\n"
        "4\t3.2\t2022-03-14\tChina’s and India’a Summits with Central Asia: Latest "
        "Developments\tInternational Relations\n"
    )


def test_json_fields_and_shared_words(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "related", "Post-Pandemic India-Central Asia Dialogue", "-n", "1", "--json",
        "--fields", "rank,score,shared,slug",
    )  # fmt: skip
    assert json.loads(out) == [
        {
            "rank": 1,
            "score": 23.2,
            "shared": ["central", "asia", "india", "asian", "states"],
            "slug": "chinas-indiaa-summits-central-asia",
        }
    ]


def test_table_names_the_article_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "related", SCO_HISTORY, "-f", "table", "-n", "1")
    assert code == 0
    assert err == (
        "like: Shanghai Cooperation Organization: History and Role in Regional Security "
        "(7c24afc7070dfa8e)\n"
    )
    assert "2022 SCO Summit in Samarkand" in out


def test_unknown_ref_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "related", "no-such-article-anywhere")
    assert (code, out) == (1, "")
    assert err.startswith("Error: no article 'no-such-article-anywhere'")


def test_nothing_shared_gives_empty_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "odd.jsonl"
    src.write_text('{"title": "Zyxwv Qqqpl", "date": "2020", "excerpt": "Vbnmq."}\n')
    assert run(capsys, "import", str(src))[0] == 0
    code, out, err = run(capsys, "related", "Zyxwv Qqqpl", "-f", "table")
    assert (code, out) == (0, "")
    assert err.endswith("no related articles: it shares no distinctive words with any other\n")
    assert run(capsys, "related", "Zyxwv Qqqpl", "--json")[1] == "[]\n"


def test_scores_are_bounded_and_sorted(archive_path: Path) -> None:
    archive = open_archive(str(archive_path))
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
