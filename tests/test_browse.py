"""irarchive list and show: filters, dates, formats, fields, messages and exit codes."""

from __future__ import annotations

import json

import pytest

from irarchive.model import FIELDS

IDS = {
    "cica": "141e649dec283798",
    "samarkand": "a510295c9c3d6635",
    "turkiye": "32df31479cf58241",
    "china_india": None,
    "sco_history": "7c24afc7070dfa8e",
    "india_dialogue": "d16cca66f1440967",
    "turkmenistan": "138ba6c2277b77e8",
    "iran": "6b77fb39ae23803c",
}
ALL_DATES = [
    "2022-11-01",
    "2022-09-30",
    "2022-05-03",
    "2022-03-14",
    "2022-02-07",
    "2022-02-02",
    "2022-02-01",
    "2022-01-28",
    "2022-01-24",
    "2021-12-27",
]


def dates(cli, *args):
    r = cli("list", "--json", *args)
    assert r.code == 0, r
    return [a["date"] for a in json.loads(r.out)]


def test_newest_first_by_default(cli, seeded):
    assert dates(cli) == ALL_DATES


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--since", "2022"), ALL_DATES[:9]),
        (("--until", "2021"), ALL_DATES[9:]),
        (("--until", "2022"), ALL_DATES),
        (("--since", "2022-02", "--until", "2022-02"), ALL_DATES[4:7]),
        (("--on", "2022-02"), ALL_DATES[4:7]),
        (("--on", "February 2022"), ALL_DATES[4:7]),
        (("--on", "Feb 2022"), ALL_DATES[4:7]),
        (("--on", "2022-02-07"), ["2022-02-07"]),
        (("--on", "7 February 2022"), ["2022-02-07"]),
        (("--on", "February 7, 2022"), ["2022-02-07"]),
        (("--since", "2022-02-02", "--until", "2022-02-07"), ["2022-02-07", "2022-02-02"]),
        (("--since", "2022-11-01"), ["2022-11-01"]),
        (("--until", "2021-12-27"), ["2021-12-27"]),
        (("--until", "2021-12-26"), []),
        (("--since", "2022-11-02"), []),
        (("--since", "1y"), []),
        (("--since", "today"), []),
        (("--on", "2024-02-29"), []),
    ],
)
def test_date_filters_are_inclusive_periods(cli, seeded, args, expected):
    assert dates(cli, *args) == expected


def test_relative_dates_use_today(cli, seeded, monkeypatch):
    monkeypatch.setenv("IRARCHIVE_TODAY", "2022-11-08")
    assert dates(cli, "--since", "7d") == ["2022-11-01"]
    assert dates(cli, "--since", "1w") == ["2022-11-01"]
    assert dates(cli, "--since", "6d") == []
    assert dates(cli, "--since", "2m") == ["2022-11-01", "2022-09-30"]
    assert dates(cli, "--since", "1y") == ALL_DATES
    assert dates(cli, "--since", "10m") == ALL_DATES[:9]
    monkeypatch.setenv("IRARCHIVE_TODAY", "2022-11-02")
    assert dates(cli, "--on", "yesterday") == ["2022-11-01"]
    monkeypatch.setenv("IRARCHIVE_TODAY", "2022-11-01")
    assert dates(cli, "--on", "today") == ["2022-11-01"]


@pytest.fixture
def partial(cli, db_path, tmp_path):
    """An archive with day, month, year precision and undated articles."""
    recs = [
        {"title": "Day", "date": "2022-02-15"},
        {"title": "Month", "date": "2022-02"},
        {"title": "Year", "date": "2022"},
        {"title": "Leap", "date": "2024-02-29"},
        {"title": "Old", "date": "2019-12-31"},
        {"title": "Nodate"},
    ]
    f = tmp_path / "p.json"
    f.write_text(json.dumps(recs))
    assert cli("--no-seed", "import", str(f)).code == 0
    return db_path


def titles(cli, *args):
    r = cli("list", "--json", *args)
    assert r.code == 0, r
    return [a["title"] for a in json.loads(r.out)]


def test_partial_dates_match_overlapping_periods(cli, partial):
    assert titles(cli) == ["Leap", "Day", "Month", "Year", "Old", "Nodate"]
    assert titles(cli, "--on", "2022-02") == ["Day", "Month", "Year"]
    assert titles(cli, "--since", "2022") == ["Leap", "Day", "Month", "Year"]
    assert titles(cli, "--on", "2022-02-01") == ["Month", "Year"]
    assert titles(cli, "--on", "2022-03") == ["Year"]
    assert titles(cli, "--on", "2024-02-29") == ["Leap"]
    assert titles(cli, "--until", "2019") == ["Old"]
    assert titles(cli, "--since", "2020-01-01", "--until", "2021-12-31") == []


def test_undated_only_without_date_filters_and_sorted_last(cli, partial):
    assert titles(cli, "--undated") == ["Nodate"]
    assert titles(cli, "--reverse") == ["Old", "Year", "Month", "Day", "Leap", "Nodate"]
    assert titles(cli, "--limit", "5") == ["Leap", "Day", "Month", "Year", "Old"]
    assert titles(cli, "--limit", "6") == ["Leap", "Day", "Month", "Year", "Old", "Nodate"]
    r = cli("list", "--undated", "--since", "2020")
    assert r.code == 2
    assert "--undated cannot be combined with date filters" in r.err


def test_since_after_until_is_a_usage_error(cli, seeded):
    r = cli("list", "--since", "2023", "--until", "2022")
    assert r.code == 2
    assert r.err == (
        "Error: --since 2023 (2023-01-01) is after --until 2022 (2022-12-31); swap them\n"
    )


def test_on_with_since_is_a_usage_error(cli, seeded):
    r = cli("list", "--on", "2022", "--since", "2022")
    assert (r.code, r.err) == (
        2,
        "Error: --on cannot be combined with --since or --until; use one or the other\n",
    )


def test_verbose_explains_dates(cli, seeded):
    r = cli("list", "--since", "2022", "--until", "2022", "-v", "--json")
    assert r.err == "dates: 2022-01-01 .. 2022-12-31, inclusive\n"


def test_category_is_repeatable_and_case_insensitive(cli, db_path, tmp_path):
    recs = [
        {"title": "A", "category": "Economy"},
        {"title": "B", "category": "Security"},
        {"title": "C", "category": "Culture"},
    ]
    f = tmp_path / "c.json"
    f.write_text(json.dumps(recs))
    cli("import", str(f))
    assert titles(cli, "--category", "economy", "--sort", "title") == ["A"]
    assert titles(cli, "-c", "ECONOMY", "-c", "security", "--sort", "title") == ["A", "B"]
    assert len(titles(cli, "-c", "international relations")) == 10
    assert titles(cli, "--category", "x' OR 1=1 --") == []


def test_sort_by_title_and_reverse(cli, seeded):
    got = titles(cli, "--sort", "title", "--limit", "3")
    assert got == [
        "2022 SCO Summit in Samarkand: Key Takeaways",
        "30th Year of Diplomatic Relations between Türkiye and Turkic Republics",
        "China’s and India’a Summits with Central Asia: Latest Developments",
    ]
    assert titles(cli, "--sort", "title", "--reverse", "--limit", "1") == [
        "Turkmenistan-Russia Energy Cooperation in the Context of Natural Gas Trading"
    ]
    assert dates(cli, "--reverse", "--limit", "2") == ["2021-12-27", "2022-01-24"]
    r = cli("list", "--sort", "title; DROP TABLE articles")
    assert r.code == 2 and "Error: Invalid value for '--sort'" in r.err


def test_limit_zero_means_all_and_negative_is_rejected(cli, seeded):
    assert len(dates(cli, "--limit", "0")) == 10
    assert len(dates(cli, "--limit", "3")) == 3
    r = cli("list", "--limit", "-1")
    assert r.code == 2 and r.err.startswith("Error: Invalid value for '--limit' / '-n'")


def test_default_limit_on_terminal_tables_says_so(cli, db_path, tmp_path, monkeypatch):
    recs = [{"title": f"Article {i}", "date": f"2020-01-{i + 1:02d}"} for i in range(25)]
    f = tmp_path / "many.json"
    f.write_text(json.dumps(recs))
    cli("--no-seed", "import", str(f))
    monkeypatch.setattr("irarchive.cli.stdout_is_terminal", lambda: True)
    r = cli("list")
    assert r.code == 0
    assert r.err == "showing 20 of 25 (use --limit 0 for all)\n"
    assert r.out.count("Article ") == 20
    r = cli("list", "--limit", "0")
    assert r.err == "" and r.out.count("Article ") == 25
    # Machine output is never cut by a default limit.
    monkeypatch.setattr("irarchive.cli.stdout_is_terminal", lambda: False)
    assert len(cli("list").out.splitlines()) == 25


def test_empty_result_message_only_on_terminal(cli, seeded, monkeypatch):
    r = cli("list", "--json", "--since", "2030")
    assert (r.code, r.out, r.err) == (0, "[]\n", "")
    r = cli("list", "--since", "2030")
    assert (r.code, r.out, r.err) == (0, "", "")
    monkeypatch.setattr("irarchive.cli.stdout_is_terminal", lambda: True)
    r = cli("list", "--since", "2030")
    assert (r.code, r.out) == (0, "")  # no empty table; stderr says why (test_terminal.py)
    assert r.err.startswith("no articles match: the newest article is dated 2022-11-01")


# ---- formats ---------------------------------------------------------------------------

SEPT = ("--since", "2022-09")


def test_default_pipe_output_is_tsv_without_header(cli, seeded):
    assert cli("list", *SEPT).out == (
        "141e649dec283798\t2022-11-01\tThe Sixth CICA Summit: Asian Vision of the Global "
        "Development\tInternational Relations\n"
        "a510295c9c3d6635\t2022-09-30\t2022 SCO Summit in Samarkand: Key Takeaways\t"
        "International Relations\n"
    )


def test_json_is_one_documented_schema(cli, seeded):
    data = json.loads(cli("list", "--json", "--on", "2022-09-30").out)
    assert data == [
        {
            "id": "a510295c9c3d6635",
            "slug": "2022-sco-summit-samarkand-key",
            "title": "2022 SCO Summit in Samarkand: Key Takeaways",
            "authors": [],
            "date": "2022-09-30",
            "excerpt": (
                "On September 15–16, 2022, the attention of politicians and the media was "
                "riveted at the annual summit of the Shanghai Cooperation Organization (SCO) in "
                "Samarkand. During the times when serious political and economic transformations "
                "are happening across the Eurasian continent, the first in-person gathering of "
                "the heads of states after"
            ),
            "truncated": True,
            "category": "International Relations",
            "url": None,
            "doi": None,
            "tags": [],
            "source": "international-relations-listing.txt",
            "added_at": "2022-11-01T00:00:00Z",
            "extra": {},
        }
    ]
    assert list(data[0]) == list(FIELDS)


def test_json_output_is_utf8_not_escaped(cli, seeded):
    out = cli("list", "--json", "--on", "2022-05-03", "--fields", "title").out
    assert out == (
        '[\n{"title": "30th Year of Diplomatic Relations between Türkiye and Turkic '
        'Republics"}\n]\n'
    )


def test_jsonl_csv_markdown_exact(cli, seeded):
    assert cli("list", "--format", "jsonl", *SEPT, "--fields", "id,date").out == (
        '{"id": "141e649dec283798", "date": "2022-11-01"}\n'
        '{"id": "a510295c9c3d6635", "date": "2022-09-30"}\n'
    )
    assert cli("list", "--format", "csv", *SEPT, "--fields", "date,title").out == (
        "date,title\n"
        "2022-11-01,The Sixth CICA Summit: Asian Vision of the Global Development\n"
        "2022-09-30,2022 SCO Summit in Samarkand: Key Takeaways\n"
    )
    assert cli("list", "--format", "markdown", *SEPT, "--fields", "date,title").out == (
        "| date | title |\n|---|---|\n"
        "| 2022-11-01 | The Sixth CICA Summit: Asian Vision of the Global Development |\n"
        "| 2022-09-30 | 2022 SCO Summit in Samarkand: Key Takeaways |\n"
    )
    assert cli("list", "--format", "tsv", *SEPT, "--fields", "slug,truncated,extra").out == (
        "sixth-cica-summit-asian-vision\ttrue\t\n2022-sco-summit-samarkand-key\ttrue\t\n"
    )


def test_table_format(cli, seeded):
    out = cli("list", "--format", "table", *SEPT).out
    lines = out.splitlines()
    # Both share one category: hidden so the title fits on one line (tests/test_terminal.py).
    assert [cell.strip() for cell in lines[1].split("┃")[1:-1]] == ["id", "date", "title"]
    assert "a510295c9c3d6635" in out and "2022 SCO Summit in Samarkand" in out
    assert "\x1b" not in out  # not a terminal: no colour codes
    assert max(len(line) for line in lines) <= 100


def test_fields_choose_and_order_and_reject_unknown(cli, seeded):
    out = cli("list", "--json", "--fields", "title,id", "--limit", "1").out
    assert list(json.loads(out)[0]) == ["title", "id"]
    r = cli("list", "--fields", "id,nope,title;drop")
    assert r.code == 2
    assert r.err == (
        "Error: unknown fields 'nope', 'title;drop'; choose from: id, slug, title, authors, "
        "date, excerpt, truncated, category, url, doi, tags, source, added_at, extra\n"
    )


def test_json_and_format_disagree(cli, seeded):
    r = cli("list", "--json", "--format", "csv")
    assert r.code == 2 and "--json and --format disagree" in r.err


# ---- show --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "6b77fb39ae23803c",
        "6B77FB39AE23803C",
        "6b77fb",
        "iranian-nuclear-deal-crisis",
        "Iranian Nuclear Deal Crisis",
        "iranian nuclear deal crisis",
        "iranian nuclear deal crisi",
        "Iranian Nuclear Crisis",
    ],
)
def test_show_resolves_id_prefix_slug_title_and_fuzzy(cli, seeded, ref):
    r = cli("show", ref, "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["id"] == IDS["iran"]


def test_show_several_refs_gives_an_array(cli, seeded):
    r = cli("show", "iranian-nuclear-deal-crisis", "a510295c9c3d6635", "--json")
    assert [a["id"] for a in json.loads(r.out)] == [IDS["iran"], IDS["samarkand"]]


def test_show_not_found_and_ambiguous(cli, seeded):
    r = cli("show", "zzzz nothing like it")
    assert r.code == 1
    assert r.err == (
        "Error: no article 'zzzz nothing like it' (try: irarchive search 'zzzz nothing like it')\n"
    )
    r = cli("show", "Central Asia")
    assert r.code == 1
    assert r.err.startswith("Error: 'Central Asia' matches several titles; use an id or slug\n")
    assert r.err.splitlines()[1:] == [  # the candidates, one per line
        "  d16cca66f1440967  2022-02-02  Post-Pandemic India-Central Asia Dialogue",
        "  6e62dd74be740d30  2021-12-27  Economic Cooperation between Central Asia and the "
        "European Union",
        "  65541e609222b495  2022-03-14  China’s and India’a Summits with Central Asia: Latest "
        "Developments",
    ]


def test_show_plain_text_on_pipe_and_panel_in_table_format(cli, seeded):
    out = cli("show", "iranian-nuclear-deal-crisis").out
    assert out.startswith(
        "Iranian Nuclear Deal Crisis\ndate: 2022-01-28\ncategory: International Relations\n"
    )
    assert "truncated: true\n\nThe “Joint Comprehensive Plan of Action” (JCPOA)" in out
    panel = cli("show", "iranian-nuclear-deal-crisis", "--format", "table").out
    assert panel.splitlines()[1].startswith("│ Iranian Nuclear Deal Crisis ")  # inside, whole
    assert "(excerpt truncated: the source shows only the beginning)" in panel


def test_help_lists_exit_codes_and_every_option_has_help(cli):
    r = cli("--help")
    assert r.code == 0
    assert "Exit codes: 0 success" in " ".join(r.out.split())
    import typer

    from irarchive.cli import app

    checked: list[str] = []

    def walk(cmd, path):
        # Every parameter (options and arguments) of typer's own (vendored) click.
        for param in cmd.params:
            if param.name != "help":
                assert (param.help or "").strip(), f"{path} {param.name} has no help"
                checked.append(f"{path} {param.name}")
        for name, sub in getattr(cmd, "commands", {}).items():
            assert (sub.help or "").strip(), f"{path} {name} has no help"
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "irarchive")
    # All 71 parameters of today's commands are reached, not zero of them.
    assert len(checked) >= 71, checked
    assert {"irarchive list since", "irarchive db info json_", "irarchive export fmt"} <= set(
        checked
    )


def test_short_help_alias_and_version(cli):
    assert cli("-h").out == cli("--help").out
    r = cli("--version")
    assert (r.code, r.out) == (0, f"irarchive {__import__('irarchive').__version__}\n")


def test_unknown_option_is_one_line_usage_error(cli, seeded):
    r = cli("list", "--bogus")
    assert r.code == 2
    assert r.err == (
        "Error: No such option: --bogus (Possible options: --verbose) "
        "(see 'irarchive list --help')\n"
    )


def test_main_without_args_shows_help(cli):
    r = cli()
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith("Usage: irarchive [OPTIONS] COMMAND [ARGS]...")
    assert "Commands" in r.err and "search" in r.err


def test_show_fields_give_columns_on_pipe(cli, seeded):
    r = cli("show", "iranian-nuclear-deal-crisis", "--fields", "id,title")
    assert r.out == "6b77fb39ae23803c\tIranian Nuclear Deal Crisis\n"
    r = cli("show", "iranian-nuclear-deal-crisis", "--json", "--format", "tsv")
    assert r.code == 2 and "--json and --format disagree" in r.err


def test_huge_limit_means_all(cli, seeded):
    assert len(dates(cli, "--limit", "99999999999999999999")) == 10


def test_csv_export_of_hostile_text_reimports_unchanged(cli, db_path, tmp_path):
    """CSV shows control characters visibly; re-importing it must not overwrite the
    exact stored text with that rendering."""
    recs = [
        {
            "title": "bidi \u202eevil\u202c and \x1b[31mred\x1b[0m",
            "date": "2022-05-05",
            "excerpt": "tab\there\r\nnext line \x9b and NUL-free",
            "url": "https://e.org/x",
        }
    ]
    src = tmp_path / "h.json"
    src.write_text(json.dumps(recs), "utf-8")
    assert cli("--no-seed", "import", str(src)).code == 0
    before = cli("list", "--json").out
    out = tmp_path / "rt.csv"
    assert cli("export", "-f", "csv", "-o", str(out)).code == 0
    r = cli("import", str(out))
    assert r.err == f"{out}: 0 added, 0 updated, 1 unchanged, 0 rejected\n"
    assert cli("list", "--json").out == before
    text = out.read_text("utf-8")
    assert "\x1b" not in text and "\u202e" not in text and "^[" in text


def test_dry_run_says_would_update(cli, db_path, tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps([{"title": "T", "date": "2020", "summary": "one"}]))
    cli("--no-seed", "import", str(f))
    f.write_text(json.dumps([{"title": "T", "date": "2020", "summary": "two"}]))
    r = cli("import", str(f), "--dry-run")
    assert r.err == f"{f}: 0 would add, 1 would update, 0 unchanged, 0 rejected\n"
