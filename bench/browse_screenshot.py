"""Make the README's screenshot of ``irarchive browse`` from the real app (an SVG).

Runs the browser on a fresh archive with the bundled seed, types a query with a
typo, and saves what is on screen with Textual's ``save_screenshot``.
Usage: python bench/browse_screenshot.py [-o docs/browse.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path


async def shoot(db: Path, out: Path, query: str, size: tuple[int, int]) -> None:
    from irarchive.tui.app import BrowseApp

    app = BrowseApp(str(db))
    async with app.run_test(size=size) as pilot:
        for key in query:
            await pilot.press("space" if key == " " else key)
        while app._typed:
            await asyncio.sleep(0.01)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/browse.svg"))
    parser.add_argument("--query", default="cooperaton asia")
    args = parser.parse_args()
    from irarchive.seed import load_seed
    from irarchive.store import open_archive

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "archive.db"
        open_archive(str(db), seed=load_seed).close()
        asyncio.run(shoot(db, args.output.resolve(), args.query, (110, 26)))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
