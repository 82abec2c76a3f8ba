"""Real processes: start-up imports, pipes, terminals (pty), colour, and the built wheel."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import IRARCHIVE, ROOT, run_proc

PROBE = """
import sys, runpy
sys.argv = ["irarchive", *{args!r}]
try:
    runpy.run_module("irarchive", run_name="__main__")
except SystemExit:
    pass
heavy = sorted(m for m in ("rich", "rapidfuzz", "sqlite_utils", "pydantic", "platformdirs")
               if m in sys.modules)
sys.stderr.write("MODULES=" + ",".join(heavy) + "\\n")
"""


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    full_env = dict(os.environ, **(env or {}))
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )
    line = [x for x in r.stderr.splitlines() if x.startswith("MODULES=")][-1]
    return {m for m in line[len("MODULES=") :].split(",") if m}


@pytest.fixture
def seeded_env(seeded):
    return {"IRARCHIVE_DB": str(seeded)}


def test_version_and_help_stay_light(seeded_env):
    assert loaded_modules("--version", env=seeded_env) == set()
    # --help is rendered by typer, which may use rich, but never loads the search stack.
    assert not loaded_modules("--help", env=seeded_env) & {"rapidfuzz", "sqlite_utils"}


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--json"),
        ("list", "--since", "2022", "--json"),
        ("list", "--format", "tsv"),
        ("list", "--format", "jsonl"),
        ("list", "--format", "csv"),
        ("show", "iranian-nuclear-deal-crisis", "--json"),
        ("show", "6b77fb39ae23803c", "--json"),
        ("db", "path"),
    ],
)
def test_machine_output_paths_do_not_import_rich_rapidfuzz_or_sqlite_utils(seeded_env, args):
    assert loaded_modules(*args, env=seeded_env) == set()


def test_search_loads_rapidfuzz_but_not_rich_for_json(seeded_env):
    assert loaded_modules("search", "sco", "--json", env=seeded_env) == {"rapidfuzz"}


def test_pipe_to_head_is_quiet(seeded):
    cmd = f"set -o pipefail; {sys.executable} -m irarchive --db {seeded} list -n 0 | head -1"
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("141e649dec283798\t2022-11-01\t")


def test_large_output_into_closed_pipe_is_quiet(tmp_path, cli):
    recs = [{"title": f"Article number {i}", "date": "2020-01-01"} for i in range(3000)]
    f = tmp_path / "many.json"
    f.write_text(json.dumps(recs))
    db = tmp_path / "a.db"
    assert cli("--db", str(db), "--no-seed", "import", str(f)).code == 0  # set-up: in-process
    for fmt in ("json", "tsv", "jsonl", "csv", "markdown"):
        cmd = (
            f"set -o pipefail; {sys.executable} -m irarchive --db {db} list --format {fmt} "
            "| head -c 100 >/dev/null"
        )
        r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stderr) == (0, ""), fmt  # the reader leaving is not an error


def run_in_pty(
    args: list[str], env: dict[str, str], *, stream: str = "stdout", timeout: float = 30
) -> tuple[int, str]:
    """Run irarchive with ``stream`` (stdout or stderr) on a pseudo-terminal.

    Returns the exit code and what was written to the terminal; the other stream is piped.
    """
    leader, follower = pty.openpty()
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
    proc = subprocess.Popen([*IRARCHIVE, *args], env=env, **streams)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=timeout)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_terminal_gets_a_table_and_colour_unless_no_color(seeded):
    env = dict(os.environ, IRARCHIVE_DB=str(seeded), COLUMNS="100", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    _, coloured = run_in_pty(["list", "--since", "2022-09"], env)
    assert "┏" in coloured and "2022 SCO Summit" in coloured
    assert "\x1b[" in coloured
    _, plain = run_in_pty(["list", "--since", "2022-09"], dict(env, NO_COLOR="1"))
    assert "┏" in plain and "2022 SCO Summit" in plain
    assert colour_codes(coloured)
    assert not colour_codes(plain)  # bold may stay: NO_COLOR is about colour


def colour_codes(text: str) -> list[str]:
    """SGR parameters that set a foreground or background colour."""
    import re

    found = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        for p in params.split(";"):
            if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                found.append(p)
    return found


def test_force_color_colours_a_piped_table(seeded):
    env = {"IRARCHIVE_DB": str(seeded), "FORCE_COLOR": "1", "COLUMNS": "100"}
    r = run_proc("list", "--format", "table", "--since", "2022-09", env=env)
    assert r.code == 0 and colour_codes(r.out)
    assert "2022 SCO Summit" in r.out
    r = run_proc("list", "--since", "2022-09", env=env)
    assert r.code == 0 and r.out.startswith("141e649dec283798\t2022-11-01\t")
    assert "\x1b" not in r.out  # machine output never carries colour


def test_python_dash_m_and_console_script_agree(seeded):
    from irarchive import __version__

    r = run_proc("--version")
    assert (r.code, r.out, r.err) == (0, f"irarchive {__version__}\n", "")


def test_keyboard_interrupt_exits_130(seeded, monkeypatch, cli):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("irarchive.store.Archive.list_articles", boom)
    r = cli("list", "--json")
    assert r.code == 130
    assert r.err.endswith("Interrupted\n")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("IRARCHIVE_SKIP_WHEEL") == "1", reason="wheel check disabled")
def test_built_wheel_carries_the_seed_and_runs_outside_the_repo(tmp_path):
    """Build the wheel, install it alone into a folder, run it from elsewhere."""
    wheels = tmp_path / "wheels"
    r = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("--no-index", "-w", str(wheels), str(ROOT)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.glob("irarchive-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "irarchive/data/seed.json" in names
    target = tmp_path / "site"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), HOME=str(elsewhere))
    env.pop("IRARCHIVE_DB", None)
    env["XDG_DATA_HOME"] = str(elsewhere / "data")
    r = subprocess.run(
        [sys.executable, "-c", "import irarchive, sys; print(irarchive.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        timeout=60,
    )
    assert r.stdout.startswith(str(target)), r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "irarchive", "db", "info", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["articles"] == 10
    assert Path(json.loads(r.stdout)["path"]) == elsewhere / "data" / "irarchive" / "archive.db"


@pytest.mark.slow
def test_big_import_shows_progress_on_a_terminal_only(tmp_path):
    """A progress display on stderr when it is a terminal and the file is big (>= 5 MB)."""
    recs = (
        # Few long records: the size is what matters, and each record costs time.
        json.dumps({"title": f"Progress article {i}", "date": "2020-01-01", "excerpt": "x" * 960})
        for i in range(5_500)
    )
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(recs) + "\n", "utf-8")
    assert big.stat().st_size >= 5_000_000
    db = tmp_path / "p.db"
    env = dict(os.environ, COLUMNS="100", TERM="xterm")
    args = ["--db", str(db), "--no-seed", "import", str(big)]
    code, shown = run_in_pty(args, env, stream="stderr", timeout=60)
    assert code == 0
    assert "importing big.jsonl" in shown and "records" in shown
    assert f"{big}: 5,500 added, 0 updated, 0 unchanged, 0 rejected" in shown
    # Piped stderr: the summary only.
    q = tmp_path / "q.db"
    r = run_proc("--db", str(q), "--no-seed", "import", str(big))
    assert r.code == 0
    assert r.err.splitlines() == [  # the summary only
        f"Created an empty archive at {q}",
        f"{big}: 5,500 added, 0 updated, 0 unchanged, 0 rejected",
    ]


# ---- building only the command that runs ------------------------------------------------------


def _names(app) -> set[str]:
    import typer.main

    return set(typer.main.get_command(app).commands)


def test_a_run_builds_only_the_subcommand_it_names(monkeypatch):
    """typer builds every command's options before parsing (~8 ms for all of them); a
    run that names a subcommand builds the root and that subcommand alone."""
    from irarchive.cli import app, app_for

    monkeypatch.delenv("_IRARCHIVE_COMPLETE", raising=False)
    everything = _names(app)
    assert {"list", "search", "db", "lists", "sources", "tag"} <= everything
    assert _names(app_for(["list", "--json"])) == {"list"}
    assert _names(app_for(["--db", "x.db", "--no-seed", "db", "info"])) == {"db"}
    assert _names(app_for(["--db=x.db", "--no-pager", "tag", "--", "-x"])) == {"tag"}
    # The root's help, a misspelt name (click suggests near ones), an option in front
    # that is not global, and shell completion see every command.
    for args in ([], ["--help"], ["-h", "list"], ["lsit"], ["--version", "list"]):
        assert _names(app_for(args)) == everything, args
    monkeypatch.setenv("_IRARCHIVE_COMPLETE", "complete_bash")
    assert _names(app_for(["list"])) == everything


def test_a_subcommand_built_alone_behaves_as_in_the_whole_app(cli, monkeypatch, seeded):
    """Its help, its usage errors and its output are the same either way."""
    import irarchive.cli
    from irarchive.cli import app

    names = sorted(_names(app))
    runs = [[name, "--help"] for name in names]
    runs += [[name, "--no-such-option"] for name in names]
    runs += [["list", "-n", "2", "--json"], ["db", "info", "--json"], ["search", "SCO"]]
    alone = [cli(*args) for args in runs]
    monkeypatch.setattr(irarchive.cli, "app_for", lambda args: app)
    whole = [cli(*args) for args in runs]
    for args, a, w in zip(runs, alone, whole, strict=True):
        assert (a.code, a.out, a.err) == (w.code, w.out, w.err), args
    assert all(r.code == 0 for r in alone[: len(names)])
    assert all(
        r.code == 2 and r.err.startswith("Error: ") and r.err.count("\n") == 1
        for r in alone[len(names) : 2 * len(names)]
    )
