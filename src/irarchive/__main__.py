"""Entry point of ``irarchive`` and ``python -m irarchive``.

``--version`` is answered here, before the command line (and typer, ~30 ms of
imports) is loaded: scripts call it to check the install, so it should be instant.
Everything else goes to ``irarchive.cli.main``.
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args in (["--version"], ["-V"]):
        from irarchive import __version__

        sys.stdout.write(f"irarchive {__version__}\n")
        raise SystemExit(0)
    from irarchive.cli import main as cli_main

    cli_main(args)


if __name__ == "__main__":
    main()
