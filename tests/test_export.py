"""irarchive export: citation formats checked by real parsers, data formats, atomic files."""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import bibtexparser
import pytest

from irarchive import analysis
from irarchive.errors import IrarchiveError
from tests.conftest import run

pytestmark = pytest.mark.usefixtures("archive_path")


def test_bibtex_parses_with_bibtexparser(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "export", "--format", "bibtex", "--publisher", "ERI & Co.")
    assert (code, err) == (0, "")
    lib = bibtexparser.parse_string(out)
    assert lib.failed_blocks == []
    assert len(lib.entries) == 10
    assert {e.entry_type for e in lib.entries} == {"online"}
    keys = [e.key for e in lib.entries]
    assert len(set(keys)) == 10
    sco = next(e for e in lib.entries if e.key == "sco2022-a510295c9c3d6635")
    assert sco["title"] == "2022 {SCO Summit} in {Samarkand}: Key {Takeaways}"
    assert sco["date"] == "2022-09-30"
    assert sco["organization"] == r"ERI \& Co."


def test_csl_json_is_read_by_citeproc(capsys: pytest.CaptureFixture[str]) -> None:
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    code, out, _ = run(capsys, "export", "-f", "csl-json", "--since", "2022-09")
    items = json.loads(out)
    assert [i["id"] for i in items] == ["sixth2022-141e649dec283798", "sco2022-a510295c9c3d6635"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unsupported CSL variable would warn
        style = CitationStylesStyle(_bundled_style(), validate=False)
        bib = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
        for item in items:
            bib.register(Citation([CitationItem(item["id"])]))
        rendered = [str(entry) for entry in bib.bibliography()]
    assert len(rendered) == 2
    assert any("2022 SCO Summit in Samarkand: Key Takeaways" in r for r in rendered)


def _bundled_style() -> str:
    import citeproc

    styles = Path(citeproc.__file__).parent / "data" / "styles"
    for name in ("harvard1", "harvard-cite-them-right"):
        if (styles / f"{name}.csl").exists():
            return name
    return sorted(p.stem for p in styles.glob("*.csl"))[0]


def test_ris_exact(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "-f", "ris", "-q", "samarkand")
    assert code == 0
    assert out == (
        "TY  - ELEC\n"
        "TI  - 2022 SCO Summit in Samarkand: Key Takeaways\n"
        "PY  - 2022\n"
        "DA  - 2022/09/30/\n"
        "AB  - On September 15–16, 2022, the attention of politicians and the media was "
        "riveted at the annual summit of the Shanghai Cooperation Organization (SCO) in "
        "Samarkand. During the times when serious political and economic transformations are "
        "happening across the Eurasian continent, the first in-person gathering of the heads "
        "of states after…\n"
        "KW  - International Relations\n"
        "ID  - sco2022-a510295c9c3d6635\n"
        "ER  - \n\n"
    )


def test_markdown_reading_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "-f", "markdown", "-q", "india central asia")
    lines = out.splitlines()
    assert lines[:2] == ["# Reading list", ""]
    assert [line.split(" (")[0] for line in lines[2:]] == [
        "- **China’s and India’a Summits with Central Asia: Latest Developments**",
        "- **Post-Pandemic India-Central Asia Dialogue**",
    ]
    assert lines[3].startswith("- **Post-Pandemic India-Central Asia Dialogue** (2 February 2022).")


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_data_formats_carry_the_filters(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, _ = run(
        capsys, "export", "-f", fmt, "--until", "2022-01", "--sort", "title", "--fields", "id,date"
    )
    assert code == 0
    expected = [
        {"id": "6e62dd74be740d30", "date": "2021-12-27"},
        {"id": "b45d0497dac015c8", "date": "2022-01-24"},
        {"id": "6b77fb39ae23803c", "date": "2022-01-28"},
    ]
    if fmt == "json":
        got: Any = json.loads(out)
    elif fmt == "jsonl":
        got = [json.loads(line) for line in out.splitlines()]
    else:
        got = list(csv.DictReader(io.StringIO(out)))
    assert got == expected


def test_output_file_from_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "work").mkdir()
    target = tmp_path / "work" / "refs.bib"
    code, out, err = run(capsys, "export", "-o", str(target), "-n", "3")
    assert (code, out) == (0, "")
    assert err == f"exported 3 articles as bibtex to {target}\n"
    assert len(bibtexparser.parse_string(target.read_text("utf-8")).entries) == 3
    assert os.listdir(tmp_path / "work") == ["refs.bib"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-o", "refs.txt"], 2, "Error: choose an export format with --format (bibtex, ris, "),
        (["-f", "ris", "--fields", "id"], 2, "Error: Invalid value: --fields applies to json,"),
        (["-f", "json", "--fields", "nope"], 2, "Error: unknown field 'nope'; choose from: id,"),
        (["-f", "bibtex", "-o", "."], 1, "Error: . is a folder; give a file name to write to"),
        (["-f", "ris", "-o", "no/such/dir/x.ris"], 1, "Error: cannot write no/such/dir/x.ris: "),
    ],
)
def test_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    got, out, err = run(capsys, "export", *args)
    assert (got, out) == (code, "")
    assert err.startswith(message)
    assert os.listdir(tmp_path / "work") == []


def test_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    target = tmp_path / "work" / "out.ris"
    target.write_text("previous\n")

    def broken() -> Any:
        yield {"id": "a510295c9c3d6635", "title": "One"}
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError), analysis.atomic_output(str(target)) as f:
        analysis.export(broken(), "ris", f)
    assert target.read_text() == "previous\n"
    assert os.listdir(tmp_path / "work") == ["out.ris"]


def test_format_for() -> None:
    assert analysis.format_for("x.RIS", None) == "ris"
    assert analysis.format_for("x.bib", "csv") == "csv"
    with pytest.raises(IrarchiveError):
        analysis.format_for(None, None)
