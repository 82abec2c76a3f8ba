"""Golden tests: the exports as real reference managers and styles render them.

pandoc ``--citeproc`` (3.9, from the pinned pypandoc-binary test dependency) renders the
BibTeX/biblatex, CSL-JSON and RIS exports with the APA and Chicago author-date styles
(committed copies, tests/fixtures/csl); biber with LaTeX's biblatex renders the BibTeX
export with biblatex's standard ``authoryear`` style and with biblatex-apa. Each test is
skipped only when its tool is not installed (``.ci/run`` installs TeX, biber, pdftotext).
What is checked is what a reader of the bibliography sees: authors in order with
organisations whole, "n.d." for undated articles (never the year they were archived),
proper nouns kept capitalised by sentence-casing styles, literal braces kept, DOIs, and
no internal id anywhere.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from irarchive import citations
from tests.conftest import FIXTURES

ARTICLES: list[dict[str, Any]] = [
    {
        "id": "a510295c9c3d6635",
        "title": "2022 SCO Summit in Samarkand: Key Takeaways",
        "authors": [
            {"family": "Aliyeva", "given": "Leyla"},
            {"literal": "Eurasian Research Institute"},
        ],
        "date": "2022-09-30",
        "url": "https://example.org/sco-summit",
        "doi": "10.5555/sco.2022",
        "added_at": "2022-11-01T00:00:00Z",
        "category": "International Relations",
    },
    {
        "id": "32df31479cf58241",
        "title": "30th Year of Diplomatic Relations between Türkiye and Turkic Republics",
        "authors": [{"family": "van Dijk", "given": "Jan", "suffix": "Jr."}],
        "date": "2022-05",
        "added_at": "2022-11-01T00:00:00Z",
    },
    {
        "id": "65541e609222b495",
        "title": "China’s and India’s Summits with Central Asia: Latest Developments",
        "authors": [{"family": "Smith", "given": "John"}],
        "url": "https://example.org/summits",
        "added_at": "2026-11-27T00:00:00Z",
    },
    {
        "id": "6b77fb39ae23803c",
        "title": "Notes on {Braced} Terms & 50% Shares",
        "added_at": "2026-11-27T00:00:00Z",
    },
]
IDS = [a["id"] for a in ARTICLES]
CSL = FIXTURES / "csl"


def needs(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (.ci/run installs it)")


def export(fmt: str) -> str:
    writer = {"bib": citations.bibtex, "json": citations.csl_json, "ris": citations.ris}[fmt]
    return "".join(writer(ARTICLES, publisher="Eurasian Research Institute"))


def pandoc_binary() -> str:
    """The pandoc of the pinned pypandoc-binary test dependency, else one on PATH."""
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        pass
    needs("pandoc")
    return "pandoc"


@functools.cache
def pandoc_version(exe: str) -> str:
    """What ``pandoc --version`` prints, asked once per run (not once per render)."""
    return subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout


def pandoc(tmp_path: Path, fmt: str, style: str) -> str:
    exe = pandoc_binary()
    version = pandoc_version(exe)
    if not version.startswith("pandoc 3.9"):
        # The goldens are pandoc's exact output; other versions wrap or punctuate
        # differently (pip install -e '.[test]' brings the pinned one).
        pytest.skip(f"golden output is for pandoc 3.9, found {version.split()[1]}")
    bib = tmp_path / f"refs.{fmt}"
    bib.write_text(export(fmt), "utf-8")
    doc = tmp_path / "doc.md"
    doc.write_text('---\nnocite: "@*"\n---\n', "utf-8")
    result = subprocess.run(
        [
            exe, str(doc), "--citeproc", f"--bibliography={bib}",
            f"--csl={CSL / (style + '.csl')}", "-t", "plain", "--wrap=none",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def no_ids(out: str) -> None:
    for archive_id in IDS:
        assert archive_id not in out


@pytest.mark.parametrize("style", ["apa", "chicago-author-date"])
@pytest.mark.parametrize("fmt", ["bib", "json", "ris"])
def test_pandoc_renders(tmp_path, fmt, style):
    out = pandoc(tmp_path, fmt, style)
    no_ids(out)
    assert out == GOLDEN[(fmt, style)]


LATEX = r"""\documentclass{article}
\usepackage[paperwidth=60cm,paperheight=40cm,margin=1cm]{geometry}
\usepackage[style=%s,backend=biber]{biblatex}
\addbibresource{refs.bib}
\begin{document}
\raggedright\hyphenpenalty=10000\exhyphenpenalty=10000
\nocite{*}
\printbibliography
\end{document}
"""


def biblatex(tmp_path: Path, style: str) -> tuple[str, str]:
    """The bibliography as text (pdftotext) and biber's warnings."""
    needs("pdflatex", "biber", "pdftotext", "kpsewhich")
    sty = "apa.bbx" if style == "apa" else "biblatex.sty"
    found = subprocess.run(["kpsewhich", sty], capture_output=True, text=True).stdout.strip()
    if not found:
        pytest.skip(f"not installed: {sty} (.ci/run installs texlive-bibtex-extra)")
    (tmp_path / "refs.bib").write_text(export("bib"), "utf-8")
    (tmp_path / "doc.tex").write_text(LATEX % style, "utf-8")

    def run(*cmd: str) -> str:
        result = subprocess.run(
            cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr
        return result.stdout

    latex = ("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc")
    run(*latex)
    biber = run("biber", "doc")
    run(*latex)
    text = run("pdftotext", "doc.pdf", "-")
    warnings = [line for line in biber.splitlines() if "WARN" in line]
    return " ".join(text.split()), "\n".join(warnings)


@pytest.mark.parametrize("style", ["authoryear", "apa"])
def test_biblatex_renders(tmp_path, style):
    out, warnings = biblatex(tmp_path, style)
    assert warnings == ""  # the id field outside the data model is dropped silently
    no_ids(out)
    assert out == BIBLATEX[style]


GOLDEN: dict[tuple[str, str], str] = {
    ("bib", "apa"): (
        "Aliyeva, L., & Eurasian Research Institute. (2022, September 30). 2022 SCO "
        "Summit in Samarkand: Key Takeaways. Eurasian Research Institute. "
        "https://doi.org/10.5555/sco.2022\n"
        "\n"
        "Dijk, J. van, Jr. (2022, May). 30th Year of Diplomatic Relations between "
        "Türkiye and Turkic Republics. Eurasian Research Institute.\n"
        "\n"
        "Notes on {Braced} Terms & 50% Shares. (n.d.). Eurasian Research Institute.\n"
        "\n"
        "Smith, J. (n.d.). China’s and India’s Summits with Central Asia: Latest "
        "Developments. Eurasian Research Institute. https://example.org/summits\n"
    ),
    ("bib", "chicago-author-date"): (
        "Aliyeva, Leyla, and Eurasian Research Institute. 2022. “2022 SCO Summit in "
        "Samarkand: Key Takeaways.” Eurasian Research Institute. September 30, 2022. "
        "https://doi.org/10.5555/sco.2022.\n"
        "\n"
        "Dijk, Jan van, Jr. 2022. “30th Year of Diplomatic Relations Between Türkiye "
        "and Turkic Republics.” Eurasian Research Institute. May 2022.\n"
        "\n"
        "“Notes on {Braced} Terms & 50% Shares.” n.d. Eurasian Research Institute.\n"
        "\n"
        "Smith, John. n.d. “China’s and India’s Summits with Central Asia: Latest "
        "Developments.” Eurasian Research Institute. https://example.org/summits.\n"
    ),
    ("json", "apa"): (
        "Aliyeva, L., & Eurasian Research Institute. (2022, September 30). 2022 SCO "
        "Summit in Samarkand: Key Takeaways. Eurasian Research Institute. "
        "https://doi.org/10.5555/sco.2022\n"
        "\n"
        "Notes on {Braced} Terms & 50% Shares. (n.d.). Eurasian Research Institute.\n"
        "\n"
        "Smith, J. (n.d.). China’s and India’s Summits with Central Asia: Latest "
        "Developments. Eurasian Research Institute. Retrieved November 27, 2026, from"
        " https://example.org/summits\n"
        "\n"
        "van Dijk, J., Jr. (2022, May). 30th Year of Diplomatic Relations between "
        "Türkiye and Turkic Republics. Eurasian Research Institute.\n"
    ),
    ("json", "chicago-author-date"): (
        "Aliyeva, Leyla, and Eurasian Research Institute. 2022. “2022 SCO Summit in "
        "Samarkand: Key Takeaways.” Eurasian Research Institute. September 30, 2022. "
        "https://doi.org/10.5555/sco.2022.\n"
        "\n"
        "Dijk, Jan van, Jr. 2022. “30th Year of Diplomatic Relations Between Türkiye "
        "and Turkic Republics.” Eurasian Research Institute. May 2022.\n"
        "\n"
        "“Notes on {Braced} Terms & 50% Shares.” n.d. Eurasian Research Institute.\n"
        "\n"
        "Smith, John. n.d. “China’s and India’s Summits with Central Asia: Latest "
        "Developments.” Eurasian Research Institute. Accessed November 27, 2026. "
        "https://example.org/summits.\n"
    ),
    # pandoc reads only PY (the year) and reads AU names by BibTeX's rules (Last, Jr,
    # First), against the RIS spec's Last, First, Suffix: hence "Dijk, Jr. van, Jan".
    ("ris", "apa"): (
        "Aliyeva, L., & Eurasian Research Institute. (2022). 2022 SCO Summit in "
        "Samarkand: Key Takeaways. Eurasian Research Institute. "
        "https://doi.org/10.5555/sco.2022\n"
        "\n"
        "Dijk, Jr. van, Jan. (2022). 30th Year of Diplomatic Relations between "
        "Türkiye and Turkic Republics. Eurasian Research Institute.\n"
        "\n"
        "Notes on {Braced} Terms & 50% Shares. (n.d.). Eurasian Research Institute.\n"
        "\n"
        "Smith, J. (n.d.). China’s and India’s Summits with Central Asia: Latest "
        "Developments. Eurasian Research Institute. https://example.org/summits\n"
    ),
    ("ris", "chicago-author-date"): (
        "Aliyeva, Leyla, and Eurasian Research Institute. 2022. “2022 SCO Summit in "
        "Samarkand: Key Takeaways.” Eurasian Research Institute. "
        "https://doi.org/10.5555/sco.2022.\n"
        "\n"
        "Dijk, Jr. van, Jan. 2022. “30th Year of Diplomatic Relations Between Türkiye"
        " and Turkic Republics.” Eurasian Research Institute.\n"
        "\n"
        "“Notes on {Braced} Terms & 50% Shares.” n.d. Eurasian Research Institute.\n"
        "\n"
        "Smith, John. n.d. “China’s and India’s Summits with Central Asia: Latest "
        "Developments.” Eurasian Research Institute. https://example.org/summits.\n"
    ),
}
BIBLATEX: dict[str, str] = {
    "authoryear": (
        "References Aliyeva, Leyla and Eurasian Research Institute (Sept. 30, 2022). "
        "2022 SCO Summit in Samarkand: Key Takeaways. Eurasian Research Institute. "
        "doi: 10.5555/sco.2022. url: https://example.org/sco-summit (visited on "
        "11/01/2022). Dijk Jr., Jan van (May 2022). 30th Year of Diplomatic Relations"
        " between Türkiye and Turkic Republics. Eurasian Research Institute. Notes "
        "on {Braced} Terms & 50% Shares (n.d.). Eurasian Research Institute. Smith, "
        "John (n.d.). China’s and India’s Summits with Central Asia: Latest "
        "Developments. Eurasian Research Institute. url: https://example.org/summits."
    ),
    "apa": (
        "References Aliyeva, L., & Eurasian Research Institute. (2022, September 30)."
        " 2022 SCO Summit in Samarkand: Key Takeaways. Eurasian Research Institute. "
        "https://doi.org/10.5555/sco.2022 Notes on {Braced} Terms & 50% Shares. "
        "(n.d.). Eurasian Research Institute. Smith, J. (n.d.). China’s and India’s "
        "Summits with Central Asia: Latest Developments. Eurasian Research Institute."
        " https://example.org/summits van Dijk, J., Jr. (2022, May). 30th Year of "
        "Diplomatic Relations between Türkiye and Turkic Republics. Eurasian "
        "Research Institute."
    ),
}
