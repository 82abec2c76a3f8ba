"""The committed query set for ``bench/latency.py``: classes of queries people type.

Each base query runs plain and with each filter of ``FILTERS``, so the set holds
``len(QUERIES) * len(FILTERS)`` queries. Words are chosen to be common in both the
generated archive (``gen.py``) and the real headlines, so the set stresses long
posting lists rather than lucky rare words.
"""

from __future__ import annotations

QUERIES: tuple[tuple[str, str], ...] = (
    ("common word", "war"),
    ("common word", "energy"),
    ("common word", "china"),
    ("common word", "security"),
    ("prefix", "w"),
    ("prefix", "wa"),
    ("prefix", "kaz"),
    ("prefix", "sec"),
    ("typos", "ukraine war grain"),
    ("typos", "shangai cooperaton"),
    ("typos", "kazakstan protets january"),
    ("typos", "enrgy secrity polcy"),
    ("acronym", "SCO"),
    ("acronym", "EU"),
    ("acronym", "US election"),
    ("stop-words", "the belt and road"),
    ("stop-words", "of the"),
    ("stop-words", "a new era for the world"),
    ("no match", "xyzzy qwerty"),
    ("no match", "zzqv plorf"),
)

#: Extra command-line arguments of each variant (the in-process run maps them to Filters).
FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ()),
    ("--since", ("--since", "2020")),
    ("--on", ("--on", "2015-03")),
    ("--category", ("--category", "Security")),
)
