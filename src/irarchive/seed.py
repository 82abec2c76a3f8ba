"""The bundled seed: the "International Relations" listing as ``data/seed.json``.

``data/seed.json`` is generated from ``data/listings/international-relations-listing.txt``
by ``python -m irarchive.seed`` (or ``irarchive db seed-json``), and a test checks the
committed file equals a fresh generation. Wheels carry it as ``irarchive/data/seed.json``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from importlib import resources
from typing import Any

from irarchive.errors import ArchiveError
from irarchive.model import Article, base_slug

SEED_SOURCE = "international-relations-listing.txt"


def seed_records(listing_path: str) -> list[dict[str, Any]]:
    """Parse the listing into the records written to seed.json."""
    from irarchive import formats
    from irarchive.sources import Rejected, read

    records = []
    for item in read(listing_path, fmt=formats.LISTING_TEXT.name):
        if isinstance(item, Rejected):
            raise ArchiveError(f"the seed listing has a bad record: {item}")
        records.append(
            {
                "id": item.article_id(),
                "slug": base_slug(item.title),
                "title": item.title,
                "date": item.date,
                "excerpt": item.excerpt,
                "truncated": item.truncated,
                "category": item.category,
                "url": item.url,
                "source": SEED_SOURCE,
            }
        )
    return records


def render_seed(listing_path: str) -> str:
    return json.dumps(seed_records(listing_path), ensure_ascii=False, indent=2) + "\n"


def seed_text() -> str:
    """The bundled seed.json: from the installed package, else from the source tree."""
    try:
        return resources.files("irarchive").joinpath("data/seed.json").read_text("utf-8")
    except (FileNotFoundError, OSError):
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    tree = os.path.join(here, os.pardir, os.pardir, "data", "seed.json")
    try:
        with open(tree, encoding="utf-8") as f:
            return f.read()
    except OSError:
        raise ArchiveError("the bundled seed.json is missing; reinstall irarchive") from None


def seed_articles() -> Iterator[Article]:
    from irarchive.sources import Rejected, record_to_article

    for n, rec in enumerate(json.loads(seed_text()), start=1):
        item = record_to_article(rec, name="seed.json", line=n, source=SEED_SOURCE, date_order=None)
        if isinstance(item, Rejected):
            raise ArchiveError(f"the bundled seed is broken: {item}")
        yield item


def load_seed(archive: Any) -> None:
    """Import the bundled seed into a (new) archive."""
    archive.import_items(seed_articles(), now="2022-11-01T00:00:00Z")


def main(argv: list[str] | None = None) -> int:
    """Regenerate data/seed.json: python -m irarchive.seed [LISTING] [OUT]."""
    args = sys.argv[1:] if argv is None else argv
    listing = args[0] if args else os.path.join("data", "listings", SEED_SOURCE)
    out = args[1] if len(args) > 1 else os.path.join("data", "seed.json")
    text = render_seed(listing)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
