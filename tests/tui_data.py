"""A small archive for the browser tests: categories, urls, one without, hostile titles."""

from __future__ import annotations

import json
from pathlib import Path

HOSTILE_TITLE = "[bold]x[/] \x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link\u202eevil"
ARTICLES = [
    {
        "title": "2022 SCO Summit in Samarkand: Key Takeaways",
        "date": "2022-09-30",
        "category": "Politics",
        "url": "https://example.org/sco-samarkand",
        "excerpt": "Leaders met in Samarkand for the Shanghai Cooperation Organization summit.",
    },
    {
        "title": "Shanghai Cooperation Organization: History and Role in Regional Security",
        "date": "2022-02-07",
        "category": "Politics",
        "url": "https://example.org/sco-history",
        "excerpt": "The Shanghai Cooperation Organization was founded in 2001.",
    },
    {
        "title": "Turkmenistan-Russia Energy Cooperation in the Context of Natural Gas Trading",
        "date": "2022-02-01",
        "category": "Energy",
        "url": "https://example.org/turkmen-gas",
        "excerpt": "Natural gas trade between Turkmenistan and Russia, and pipelines to China.",
    },
    {
        "title": "Iranian Nuclear Deal Crisis",
        "date": "2022-01-28",
        "category": "Security",
        "excerpt": "Talks in Vienna on the nuclear deal stalled again.",
    },
    {
        "title": "Caspian Gas Pipelines and the Energy Security of Europe",
        "date": "2021-06-15",
        "category": "Energy",
        "url": "https://example.org/caspian-gas",
        "excerpt": "Gas pipelines across the Caspian Sea could supply Europe.",
    },
    {
        "title": HOSTILE_TITLE,
        "date": "2020-03-01",
        "category": "[italic]cat[/]",
        "url": "https://example.org/hostile",
        "excerpt": "[link=http://evil.example]click[/link] \x1b[2J cleared?",
    },
]
for i in range(40):  # enough rows to page and scroll
    ARTICLES.append(
        {
            "title": f"Regional Trade Bulletin number {i + 1}",
            "date": f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "category": "Economy",
            "url": f"https://example.org/bulletin/{i + 1}",
            "excerpt": "Trade figures for the region.",
        }
    )


def write_jsonl(path: Path) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    return path
