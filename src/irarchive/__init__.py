"""irarchive: browse an archive of dated articles from the terminal."""

__version__ = "0.1.0"
