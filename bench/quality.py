"""Search quality on real headlines: irarchive vs plain FTS5 (sqlite-utils) vs ``fzf --filter``.

Usage::

    python bench/quality.py [--data /work/shared/data/headlines.jsonl.gz] [--per-class 40]
                            [--seed 4] [--out docs/benchmarks.md] [--no-write]

Reads the real news items (keys date, title, description, source_repo, source_path;
``description`` becomes the excerpt), builds and caches in ``bench/out/``:

- an irarchive archive (``irarchive --db X --no-seed import headlines.jsonl``),
- a sqlite-utils table with an FTS5 index over title + description,
- a titles file for fzf,

then generates typed-like queries from sampled target articles, deterministically
from ``--seed``: typos (1-2 edits per word), prefixes, dropped accents and quote marks,
reordered words, acronyms (for titles holding a name the archive defines somewhere
as "Name (ACR)"), and partial titles of 2-4 distinctive words. Each engine returns
its top 20; a hit is a returned article with the target's title and date (the data
repeats titles). Reports recall@1, recall@5 and MRR per query class and overall,
and writes the table between the ``bench:quality`` markers of ``--out``.

Known defects of the data, left as they are because users meet them too: Reuters
titles are ALL CAPS, ABC abstracts have apostrophes and brackets stripped
("Chinas military"), and some titles repeat (targets are drawn from unique titles).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import random
import re
import shlex
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
DATA = Path("/work/shared/data/headlines.jsonl.gz")
START = "<!-- bench:quality:start -->"
END = "<!-- bench:quality:end -->"
TOP = 20
CLASSES = ("typo", "prefix", "accent", "reordered", "acronym", "partial")

sys.path.insert(0, str(REPO_DIR / "src"))

from irarchive.text import STOPWORDS, acronym_definitions  # noqa: E402

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_KEYS = "qwertyuiopasdfghjklzxcvbnm"
_NEIGHBOURS = {
    c: "".join(
        row[j]
        for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
        for j in range(len(row))
        if c in row and abs(row.index(c) - j) == 1
    )
    for c in _KEYS
}


@dataclass(frozen=True)
class Target:
    idx: int
    title: str
    date: str


@dataclass(frozen=True)
class Case:
    cls: str
    query: str
    target: Target


def norm_title(t: str) -> str:
    return " ".join(t.split())


def fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).casefold()


# ---- data and engines -------------------------------------------------------------------


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write_jsonl(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            rec = {"title": r["title"], "date": r["date"], "excerpt": r.get("description")}
            rec["source_path"] = r.get("source_path")
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def build(records: list[dict], data: Path) -> tuple[Path, Path, Path]:
    """Build the three indexes, cached in bench/out/."""
    OUT_DIR.mkdir(exist_ok=True)
    # Rebuilt when the data changes, and irarchive's archive when its indexing code does.
    code = hashlib.sha1()
    package = REPO_DIR / "src" / "irarchive"
    for path in sorted([*package.glob("store/*.py"), *package.glob("*.py")]):
        code.update(path.read_bytes())
    stamp = f"{data.stat().st_size}-{int(data.stat().st_mtime)}"
    jsonl = OUT_DIR / "quality-headlines.jsonl"
    db = OUT_DIR / f"quality-irarchive-{stamp}-{code.hexdigest()[:8]}.db"
    peer = OUT_DIR / f"quality-sqlite-utils-{stamp}.db"
    titles = OUT_DIR / f"quality-titles-{stamp}.txt"
    if not (db.exists() and peer.exists() and titles.exists()):
        write_jsonl(records, jsonl)
    if not db.exists():
        for old in OUT_DIR.glob("quality-irarchive-*.db*"):  # built by older code
            old.unlink()
        tmp = db.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        exe = Path(sys.executable).with_name("irarchive")
        cmd = [str(exe), "--db", str(tmp), "--no-seed", "import", str(jsonl)]
        print("+", shlex.join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        tmp.rename(db)
    if not peer.exists():
        import sqlite_utils

        tmp = peer.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        pdb = sqlite_utils.Database(tmp)
        pdb["items"].insert_all(
            (
                {"id": i, "title": r["title"], "date": r["date"], "description": r["description"]}
                for i, r in enumerate(records)
            ),
            pk="id",
            batch_size=5000,
        )
        pdb["items"].enable_fts(["title", "description"], fts_version="FTS5")
        pdb.close()
        tmp.rename(peer)
    if not titles.exists():
        with titles.open("w", encoding="utf-8") as f:
            for i, r in enumerate(records):
                f.write(f"{i}\t{norm_title(r['title'])}\n")
    return db, peer, titles


Engine = Callable[[str], list[tuple[str, str]]]


def irarchive_engine(db: Path) -> Engine:
    from irarchive.search import search
    from irarchive.store import open_archive

    archive = open_archive(str(db), create=False)

    def run(q: str) -> list[tuple[str, str]]:
        hits = search(archive, q, limit=TOP).hits
        return [(norm_title(h.article["title"]), h.article["date"] or "") for h in hits]

    return run


def fts5_engine(peer: Path) -> Engine:
    import sqlite_utils

    table = sqlite_utils.Database(peer)["items"]

    def run(q: str) -> list[tuple[str, str]]:
        # ``sqlite-utils search --quote``: the raw words, each quoted so no query is a
        # syntax error; FTS5 ANDs them and orders by bm25.
        rows = table.search(q, columns=["title", "date"], limit=TOP, quote=True)
        return [(norm_title(r["title"]), r["date"]) for r in rows]

    return run


def fzf_engine(titles: Path, records: list[dict]) -> Engine:
    data = titles.read_bytes()

    def run(q: str) -> list[tuple[str, str]]:
        proc = subprocess.run(
            ["fzf", "--filter", q, "--delimiter", "\t", "--nth", "2.."],
            input=data,
            capture_output=True,
        )
        out = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines()[:TOP]:
            r = records[int(line.split("\t", 1)[0])]
            out.append((norm_title(r["title"]), r["date"]))
        return out

    return run


# ---- queries ---------------------------------------------------------------------------


def typo(rng: random.Random, word: str) -> str:
    """One realistic edit: drop, double, swap neighbours, or hit a neighbouring key."""
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))  # people rarely get the first letter wrong
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    near = _NEIGHBOURS.get(word[i], "")
    return word[:i] + (rng.choice(near) if near else word[i]) + word[i + 1 :]


class Generator:
    def __init__(self, records: list[dict], seed: int) -> None:
        self.records = records
        self.rng = random.Random(seed)
        counts = Counter(norm_title(r["title"]).casefold() for r in records)
        self.unique = [
            i for i, r in enumerate(records) if counts[norm_title(r["title"]).casefold()] == 1
        ]
        self.df: Counter[str] = Counter()
        for r in records:
            self.df.update(set(self.words(r["title"])))
        self.used: set[int] = set()

    @staticmethod
    def words(title: str) -> list[str]:
        return [w for w in _WORD.findall(fold(title)) if w not in STOPWORDS]

    def distinctive(self, title: str, k: int, min_len: int = 4) -> list[str]:
        """The ``k`` rarest words of a title (by title frequency), in title order."""
        ws = list(dict.fromkeys(w for w in self.words(title) if len(w) >= min_len))
        rare = set(sorted(ws, key=lambda w: (self.df[w], w))[:k])
        return [w for w in ws if w in rare]

    def target(self, idx: int) -> Target:
        r = self.records[idx]
        return Target(idx, norm_title(r["title"]), r["date"])

    def pick(self, pool: list[int], need_words: int) -> int | None:
        for _ in range(200):
            idx = self.rng.choice(pool)
            if idx in self.used:
                continue
            if len(self.distinctive(self.records[idx]["title"], 9)) >= need_words:
                self.used.add(idx)
                return idx
        return None

    def simple(self, cls: str, n: int) -> list[Case]:
        cases = []
        while len(cases) < n:
            idx = self.pick(self.unique, 3)
            if idx is None:
                break
            title = self.records[idx]["title"]
            k = self.rng.randint(2, 4)
            ws = self.distinctive(title, k)
            if cls == "typo":
                ws = [self._typos(w) for w in ws]
            elif cls == "prefix":
                ws = [w[: max(3, math.ceil(len(w) * self.rng.uniform(0.5, 0.8)))] for w in ws]
            elif cls == "reordered":
                ws = self.distinctive(title, max(k, 3))
                original = list(ws)
                while ws == original:
                    self.rng.shuffle(ws)
            cases.append(Case(cls, " ".join(ws), self.target(idx)))
        return cases

    def _typos(self, w: str) -> str:
        edits = 2 if len(w) >= 8 and self.rng.random() < 0.5 else 1
        out = w
        for _ in range(edits):
            out = typo(self.rng, out)
        return out

    def accent(self, n: int) -> list[Case]:
        """Titles with accents or curly quotes, typed in plain ASCII."""
        pool = [i for i in self.unique if not self.records[i]["title"].isascii()]
        self.rng.shuffle(pool)
        cases = []
        for idx in pool:
            if len(cases) >= n:
                break
            title = self.records[idx]["title"]
            raw = [w for w in _WORD.findall(title.casefold()) if w not in STOPWORDS]
            odd = [w for w in raw if not w.isascii()]
            if not odd or len(raw) < 2:
                continue
            taken = {fold(w) for w in odd}
            others = [w for w in self.distinctive(title, 3) if w not in taken]
            chosen = (odd[:1] + others)[: self.rng.randint(2, 3)]
            plain = [fold(w).replace("’", "'").replace("‘", "'") for w in chosen]
            self.used.add(idx)
            cases.append(Case("accent", " ".join(plain), self.target(idx)))
        return cases

    def acronym(self, n: int) -> list[Case]:
        """Titles holding a name that some text defines as "Name (ACR)": ask by ACR."""
        pairs: Counter[tuple[str, str]] = Counter()
        for r in self.records:
            for text in (r["title"], r.get("description")):
                pairs.update(acronym_definitions(text))
        best: dict[str, str] = {}
        for (acro, exp), _c in pairs.most_common():
            if len(exp.split()) >= 2 and len(acro) >= 2:
                best.setdefault(exp, acro)
        found: dict[str, list[int]] = defaultdict(list)
        pattern = {exp: re.compile(r"\b" + re.escape(exp) + r"\b") for exp in best}
        for idx in self.unique:
            folded = " ".join(_WORD.findall(fold(self.records[idx]["title"])))
            for exp, pat in pattern.items():
                if exp in folded and pat.search(folded):
                    found[exp].append(idx)
        cases = []
        exps = sorted(found)
        self.rng.shuffle(exps)
        rounds = 0
        while len(cases) < n and exps and rounds < 5:
            rounds += 1
            for exp in exps:
                if len(cases) >= n:
                    break
                options = [i for i in found[exp] if i not in self.used]
                if not options:
                    continue
                idx = self.rng.choice(options)
                title = self.records[idx]["title"]
                rest = [w for w in self.distinctive(title, 4) if w not in exp.split()][:2]
                if not rest:
                    continue
                self.used.add(idx)
                words = [best[exp].upper(), *rest]
                cases.append(Case("acronym", " ".join(words), self.target(idx)))
        return cases

    def all(self, per_class: int) -> list[Case]:
        cases = self.accent(per_class) + self.acronym(per_class)
        for cls in ("typo", "prefix", "reordered", "partial"):
            cases += self.simple(cls, per_class)
        # Top up to at least 200 with more typos (the commonest real mistake).
        short = 200 - len(cases)
        if short > 0:
            cases += self.simple("typo", short)
        return cases


# ---- scoring and report --------------------------------------------------------------


def evaluate(engine: Engine, cases: list[Case]) -> tuple[list[int | None], float]:
    ranks: list[int | None] = []
    start = time.perf_counter()
    for case in cases:
        want = (case.target.title, case.target.date)
        got = engine(case.query)
        ranks.append(next((i + 1 for i, g in enumerate(got) if g == want), None))
    return ranks, (time.perf_counter() - start) / max(len(cases), 1)


def metrics(ranks: list[int | None]) -> tuple[float, float, float]:
    n = max(len(ranks), 1)
    r1 = sum(1 for r in ranks if r == 1) / n
    r5 = sum(1 for r in ranks if r and r <= 5) / n
    mrr = sum(1 / r for r in ranks if r) / n
    return r1, r5, mrr


def report(
    cases: list[Case],
    results: dict[str, tuple[list[int | None], float]],
    command: str,
    n_records: int,
) -> str:
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_class[c.cls].append(i)
    lines = [
        "## Search quality",
        "",
        f"{len(cases)} typed-like queries generated from {n_records:,} real dated news "
        "items (`headlines.jsonl.gz`), each aimed at one article; a hit is a returned "
        "article with the target's title and date. R@1 / R@5 / MRR over each engine's "
        f"top {TOP}. Engines: irarchive `search` (in-process, default settings), plain "
        "FTS5 built by sqlite-utils over title + description (`table.search(q, quote=True)`, "
        "i.e. `sqlite-utils search --quote`), and `fzf --filter` over the titles.",
        "",
        "Query classes, from a title's 2-4 rarest words (case folded, as people type): "
        "*typo* 1-2 edits per word (drop, double, swap, neighbouring key; first letter "
        "kept); *prefix* 50-80 % of each word; *accent* titles with non-ASCII letters or "
        "marks typed in ASCII (the data has few: mostly curly apostrophes, a handful of "
        "accents such as fiancée, communiqué); *reordered* 3-4 words shuffled; *acronym* "
        "a name in the title asked for by the acronym that the archive's text defines "
        'for it ("Bank for International Settlements (BIS)" -> `BIS`) plus 1-2 other '
        "words; *partial* 2-4 words as they are. Data defects kept as users meet them: "
        "Reuters titles in ALL CAPS, apostrophes stripped in ABC abstracts, repeated "
        "titles (targets are drawn from titles that occur once).",
        "",
        "| class | n | " + " | ".join(f"{e} R@1 | {e} R@5 | {e} MRR" for e in results) + " |",
        "|---|---:|" + "---:|" * (3 * len(results)),
    ]
    for cls in (*CLASSES, "all"):
        idxs = by_class[cls] if cls != "all" else list(range(len(cases)))
        if not idxs:
            continue
        cells = []
        for ranks, _ in results.values():
            r1, r5, mrr = metrics([ranks[i] for i in idxs])
            cells += [f"{r1:.2f}", f"{r5:.2f}", f"{mrr:.2f}"]
        name = f"**{cls}**" if cls == "all" else cls
        lines.append(f"| {name} | {len(idxs)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Mean time per query (in this run, one process, warm caches): "
        + ", ".join(f"{e} {t * 1000:.1f} ms" for e, (_, t) in results.items())
        + " (fzf includes starting the process and piping the titles).",
        "",
        "Examples: "
        + "; ".join(
            f"{c.cls}: `{c.query}` → {c.target.title!r}"
            for c in [next(x for x in cases if x.cls == k) for k in CLASSES if by_class[k]]
        ),
        "",
        f"Command: `{command}`",
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, body: str) -> None:
    """Replace only the text between our markers; create the file or markers if absent."""
    block = f"{START}\n{body}{END}"
    text = path.read_text("utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--out", type=Path, default=REPO_DIR / "docs" / "benchmarks.md")
    ap.add_argument("--no-write", action="store_true", help="Print the table only.")
    ap.add_argument("--show-misses", action="store_true", help="List irarchive's misses.")
    args = ap.parse_args(argv)
    command = "python bench/quality.py " + shlex.join(
        a for a in (argv if argv is not None else sys.argv[1:])
    )

    records = load(args.data)
    db, peer, titles = build(records, args.data)
    cases = Generator(records, args.seed).all(args.per_class)
    engines = {
        "irarchive": irarchive_engine(db),
        "fts5": fts5_engine(peer),
    }
    import shutil

    if shutil.which("fzf"):
        engines["fzf"] = fzf_engine(titles, records)
    else:
        print("fzf is not installed: its columns are left out", file=sys.stderr)
    results = {}
    for name, engine in engines.items():
        print(f"running {name} on {len(cases)} queries", file=sys.stderr)
        results[name] = evaluate(engine, cases)
    body = report(cases, results, command.strip(), len(records))
    print(body)
    if args.show_misses:
        ranks = results["irarchive"][0]
        for c, r in zip(cases, ranks, strict=True):
            if r != 1:
                print(f"{r}\t{c.cls}\t{c.query!r}\t{c.target.title!r}", file=sys.stderr)
    if not args.no_write:
        write_section(args.out, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
