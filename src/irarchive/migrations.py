"""Append-only schema migrations. Never edit one that has shipped; add the next.

Each migration runs inside its own transaction together with the bump of
``PRAGMA user_version``, so an archive is always at exactly one version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

#: "IRAR": marks an SQLite file as an irarchive archive.
APPLICATION_ID = 0x49524152

Migration = Callable[[sqlite3.Connection], None]

# The FTS table indexes *folded* text (see text.index_text) but declares the
# articles table as its content, so Datasette detects it and offers a search box;
# only the index is stored, never a second copy of the text. Title weight 10 vs
# excerpt 1 is stored as the table's default rank, so "ORDER BY rank" (about twice
# as fast as ORDER BY bm25(...)) already prefers title hits. m001 made it
# detail=column (no word positions); m005 rebuilt it with positions, because
# every tool that quotes what people type asks the index for phrases.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
#: Since m005: word positions kept (phrases), see ``m005_index_positions``.
FTS_OPTIONS = "detail=full"


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Execute statements one by one (executescript would COMMIT the open transaction).

    A statement ends at a line ending in ``;`` that completes it, so a trigger's
    ``BEGIN ... END`` body, whose lines also end in ``;``, stays whole.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement.strip().removesuffix(";"))
            statement = ""
    if statement.strip():
        conn.execute(statement)


def m001_create_articles(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        f"""
        CREATE TABLE articles (
            id TEXT NOT NULL,
            slug TEXT,
            title TEXT NOT NULL,
            date TEXT,
            date_start TEXT,
            date_end TEXT,
            excerpt TEXT,
            truncated INTEGER NOT NULL DEFAULT 0,
            category TEXT,
            url TEXT,
            source TEXT,
            added_at TEXT NOT NULL,
            extra TEXT
        );
        CREATE UNIQUE INDEX articles_id ON articles(id);
        CREATE UNIQUE INDEX articles_slug ON articles(slug);
        CREATE INDEX articles_date ON articles(date_start, date_end);
        CREATE INDEX articles_category ON articles(category COLLATE NOCASE, date_start);
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, excerpt, content="articles", content_rowid='rowid', detail=column,
            tokenize='{FTS_TOKENIZE}'
        );
        INSERT INTO articles_fts(articles_fts, rank) VALUES('rank', 'bm25(10.0, 1.0)');
        CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, 'row');
        CREATE TABLE vocab (
            term TEXT PRIMARY KEY,
            df INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX vocab_k2 ON vocab(substr(term, 2, 2));
        CREATE TABLE acronyms (
            acronym TEXT NOT NULL,
            expansion TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (acronym, expansion)
        ) WITHOUT ROWID;
        """,
    )


def m002_add_authors_doi(conn: sqlite3.Connection) -> None:
    """Add ``authors`` (a JSON array of CSL name objects) and ``doi`` (a bare DOI).

    Articles imported before this version kept their author and DOI fields in
    ``extra``; they move into the new columns, mapped as an import now maps them,
    so re-importing the same file afterwards finds every article unchanged. (It uses
    the import's own mapping, not a frozen copy: its result is defined as what importing
    those records gives.)
    """
    import json

    from irarchive.sources.authors import AUTHOR_KEYS, DOI_KEYS, move_from_extra

    conn.execute("ALTER TABLE articles ADD COLUMN authors TEXT")
    conn.execute("ALTER TABLE articles ADD COLUMN doi TEXT")
    # LIKE is case-insensitive for ASCII: a cheap pre-filter before parsing JSON.
    likes = " OR ".join("extra LIKE ?" for _ in (*AUTHOR_KEYS, *DOI_KEYS))
    rows = conn.execute(
        f"SELECT rowid, extra FROM articles WHERE extra IS NOT NULL AND ({likes})",
        [f'%"{key}"%' for key in (*AUTHOR_KEYS, *DOI_KEYS)],
    ).fetchall()
    for rowid, text in rows:
        try:
            extra = json.loads(text)
        except ValueError:
            continue
        if not isinstance(extra, dict):
            continue
        rest = dict(extra)
        authors, doi = move_from_extra(rest, [], None)
        if rest == extra:
            continue
        conn.execute(
            "UPDATE articles SET authors = ?, doi = ?, extra = ? WHERE rowid = ?",
            (
                json.dumps(authors, ensure_ascii=False, sort_keys=True) if authors else None,
                doi,
                json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None,
                rowid,
            ),
        )


def m003_create_sources(conn: sqlite3.Connection) -> None:
    """Followed feeds and sites (``irarchive sources``), and which articles each delivered.

    ``sources`` keeps what polite fetching needs (ETag, Last-Modified) and what
    ``sources list`` shows. ``source_items`` remembers, per feed URL, the articles
    its items became and their links, so an item is matched by its link on the next
    update even when its title was edited (no index on ``articles.url`` is needed:
    it would make every archive about 12% larger for the sake of feeds alone).
    """
    _run(
        conn,
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            feed_url TEXT,
            feed_type TEXT,
            title TEXT,
            category TEXT,
            etag TEXT,
            last_modified TEXT,
            added_at TEXT NOT NULL,
            checked_at TEXT,
            new_item_at TEXT,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE source_items (
            feed_url TEXT NOT NULL,
            article_id TEXT NOT NULL,
            url TEXT,
            PRIMARY KEY (feed_url, article_id)
        ) WITHOUT ROWID;
        CREATE INDEX source_items_url ON source_items(url);
        CREATE INDEX source_items_article ON source_items(article_id)
        """,
    )


def m004_create_curation(conn: sqlite3.Connection) -> None:
    """The researcher's own work (tags, notes, reading lists, edits, aliases), an undo log,
    and triggers that keep the full-text index right when other tools change articles.

    Annotations refer to an article by its ``id`` (not its rowid), so they outlive the
    row: a re-import, a merge (old ids become ``aliases``) or a delete followed by
    ``undo`` finds them again. Nothing here is derived; all of it is kept by
    ``db check --repair``.

    The index holds text folded in Python (``store.writer.fts_title``), which another
    tool cannot compute. So a change made by another tool (``sqlite3``, ``sqlite-utils``)
    is only *queued* by the triggers, with the old title and excerpt it replaced;
    irarchive replays the queue (``store.indexing.sync``) the next time it opens the
    archive for writing. The index is never told anything false, so it is never
    corrupted, only briefly stale. irarchive's own bulk writes put a row in
    ``irarchive_writing`` for the length of their transaction (never committed), which
    the triggers see and skip: the writer keeps the index itself.
    """
    _run(
        conn,
        """
        CREATE TABLE tags (
            article_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (article_id, tag)
        ) WITHOUT ROWID;
        CREATE INDEX tags_tag ON tags(tag, article_id);
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            article_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX notes_article ON notes(article_id, created_at);
        CREATE VIRTUAL TABLE notes_fts USING fts5(
            text, content="notes", content_rowid='id', tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN
            INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN
            INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER notes_au AFTER UPDATE ON notes BEGIN
            INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TABLE lists (
            name TEXT NOT NULL PRIMARY KEY,
            created_at TEXT NOT NULL,
            description TEXT
        );
        CREATE TABLE list_items (
            list TEXT NOT NULL,
            position INTEGER NOT NULL,
            article_id TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (list, article_id)
        ) WITHOUT ROWID;
        CREATE INDEX list_items_order ON list_items(list, position);
        CREATE INDEX list_items_article ON list_items(article_id);
        CREATE TABLE aliases (
            alias TEXT NOT NULL PRIMARY KEY,
            article_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX aliases_article ON aliases(article_id);
        CREATE TABLE edits (
            article_id TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT,
            source_value TEXT,
            edited_at TEXT NOT NULL,
            PRIMARY KEY (article_id, field)
        ) WITHOUT ROWID;
        CREATE TABLE undo_log (
            id INTEGER PRIMARY KEY,
            action TEXT NOT NULL,
            at TEXT NOT NULL,
            summary TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        CREATE TABLE index_queue (
            seq INTEGER PRIMARY KEY,
            row INTEGER NOT NULL,
            old_title TEXT,
            old_excerpt TEXT,
            was_indexed INTEGER NOT NULL
        );
        CREATE TABLE irarchive_writing (
            one INTEGER PRIMARY KEY CHECK (one = 1)
        );
        CREATE TRIGGER articles_queue_insert AFTER INSERT ON articles
        WHEN NOT EXISTS (SELECT 1 FROM irarchive_writing) BEGIN
            INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed)
            VALUES (new.rowid, NULL, NULL, 0);
        END;
        CREATE TRIGGER articles_queue_delete AFTER DELETE ON articles
        WHEN NOT EXISTS (SELECT 1 FROM irarchive_writing) BEGIN
            INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed)
            VALUES (old.rowid, old.title, old.excerpt, 1);
        END;
        CREATE TRIGGER articles_queue_update AFTER UPDATE ON articles
        WHEN NOT EXISTS (SELECT 1 FROM irarchive_writing)
            AND (old.rowid IS NOT new.rowid OR old.title IS NOT new.title
                 OR old.excerpt IS NOT new.excerpt OR old.slug IS NOT new.slug) BEGIN
            INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed)
            VALUES (old.rowid, old.title, old.excerpt, 1);
            INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed)
            SELECT new.rowid, NULL, NULL, 0 WHERE new.rowid IS NOT old.rowid;
        END
        """,
    )


def m005_index_positions(conn: sqlite3.Connection) -> None:
    """Rebuild the full-text index with word positions, over the words as written.

    m001's index (``detail=column``) could not answer a phrase, and every tool that
    quotes what people type sends one: Datasette's search box turns ``China’s``,
    ``U.S.`` and ``indo-pacific`` into the phrases ``china s``, ``u s`` and ``indo
    pacific``, and ``sqlite-utils search --quote`` does the same. ``detail=full``
    answers them, and irarchive's own ``"quoted phrases"`` and stop-word queries
    (``of the``) are answered by the index instead of being checked afterwards.
    The title is indexed as ``store.writer.fts_title`` gives it now (the words as
    written in order, then joined forms and initials), the excerpt as written.

    ``titles_fts`` indexes the same title text again, alone: its posting lists are
    a fifth as long as the main index's (titles are short), so the title passes
    every search begins with, and stop-word phrases, read a fifth as much. It is
    contentless (no text stored, and no tool mistakes it for the articles' index).
    """
    from irarchive.store.writer import fts_excerpt, fts_title

    conn.execute("DROP TABLE IF EXISTS articles_fts_vocab")
    conn.execute("DROP TABLE IF EXISTS articles_fts")
    _run(
        conn,
        f"""
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, excerpt, content="articles", content_rowid='rowid', {FTS_OPTIONS},
            tokenize='{FTS_TOKENIZE}'
        );
        INSERT INTO articles_fts(articles_fts, rank) VALUES('rank', 'bm25(10.0, 1.0)');
        CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, 'row');
        CREATE VIRTUAL TABLE titles_fts USING fts5(
            title, content='', {FTS_OPTIONS}, tokenize='{FTS_TOKENIZE}'
        )
        """,
    )
    conn.create_function("irarchive_fts_title", 1, fts_title, deterministic=True)
    conn.create_function("irarchive_fts_excerpt", 1, fts_excerpt, deterministic=True)
    # Each title folded once, for both indexes.
    conn.execute(
        "CREATE TEMP TABLE m005_titles AS "
        "SELECT rowid AS id, irarchive_fts_title(title) AS title FROM articles"
    )
    conn.execute(
        "INSERT INTO articles_fts(rowid, title, excerpt) "
        "SELECT t.id, t.title, irarchive_fts_excerpt(a.excerpt) "
        "FROM m005_titles t JOIN articles a ON a.rowid = t.id"
    )
    conn.execute("INSERT INTO titles_fts(rowid, title) SELECT id, title FROM m005_titles")
    conn.execute("DROP TABLE temp.m005_titles")
    # Changes other tools made may be queued for the old index (m004's index_queue,
    # where present); the new indexes hold every article as it is now, and replaying
    # the queue would tell them to forget text they never held.
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'index_queue'").fetchone():
        conn.execute("DELETE FROM index_queue")
    if conn.execute("SELECT EXISTS (SELECT 1 FROM articles)").fetchone()[0]:
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES('optimize')")
        conn.execute("INSERT INTO titles_fts(titles_fts) VALUES('optimize')")
        # The typo-correction word list is read from the index: refresh it.
        conn.execute("DELETE FROM vocab")
        conn.execute(
            "INSERT INTO vocab(term, df) SELECT term, doc FROM articles_fts_vocab "
            "WHERE length(term) BETWEEN 2 AND 40"
        )


#: The coarse url key ``articles_url`` indexes: the url lower-cased (ASCII), cut at
#: its fragment and query, trailing slashes dropped. Built-in functions only, so other
#: tools (sqlite3, Datasette) can still write the table and the index follows by itself.
#: Coarser than ``store.duplicates.normal_url``: urls that normalise alike share it,
#: and the import compares the normalised urls of the few rows it finds.
_CUT = "substr(url, 1, instr(url || '#', '#') - 1)"
URL_KEY_SQL = f"rtrim(lower(substr({_CUT}, 1, instr({_CUT} || '?', '?') - 1)), '/')"
URL_INDEX_SQL = f"CREATE INDEX articles_url ON articles({URL_KEY_SQL}) WHERE url IS NOT NULL"


def m006_index_url_key(conn: sqlite3.Connection) -> None:
    """Index articles by a coarse key of their url, so an import finds the article a
    record with the same (normalised) url became, and ``dedupe`` finds same-url pairs.

    Partial (rows with a url only) and keyed by an expression of built-in functions,
    so nothing else has to keep it. It costs about 11% of an archive's size when every
    article has a url (139 MB of 1.2 GB at 1.1M generated articles; see
    docs/benchmarks.md, "Import matching and duplicates"): the key is the url's text.
    """
    conn.execute(URL_INDEX_SQL)


#: The typo vocabulary's indexes since m007 (``store/indexing.refresh_vocab`` drops and
#: recreates them around a full rebuild, which is faster than keeping them row by row).
VOCAB_INDEXES = (
    # Words seen twice or more, by length then text: a correction reads the few
    # lengths it allows within the words sharing a first letter.
    "CREATE INDEX vocab_common ON vocab(length(term), term) WHERE df >= 2",
    # A typo in the first letter: the second and third letters, then the length.
    "CREATE INDEX vocab_k2 ON vocab(substr(term, 2, 2), length(term), df)",
)


def m007_index_vocab_by_length(conn: sqlite3.Connection) -> None:
    """Index the typo vocabulary by word length, so a correction reads only the words
    it could be (a few thousand at a million articles) instead of every word sharing
    its first letter (up to 58,000: about 11 ms per misspelt word)."""
    conn.execute("DROP INDEX IF EXISTS vocab_k2")
    for sql in VOCAB_INDEXES:
        conn.execute(sql)


#: The index ``m008_index_title_key`` creates (the bulk import drops and rebuilds it).
TITLE_KEY_INDEX_SQL = "CREATE INDEX articles_title_key ON articles(title_key)"


def m008_index_title_key(conn: sqlite3.Connection) -> None:
    """Store a key of each article's folded title (``store.duplicates.title_hash``), indexed,
    so an import finds the articles a record without a url may be (same folded title,
    overlapping dates) by an index seek instead of folding every title of the day.

    The key is computed in Python (titles are folded with NFKC and mark stripping), so
    irarchive keeps it: the writer on import, ``store.indexing.sync`` for rows another
    tool changed (the m004 triggers queue them). A 32-bit integer: in an archive
    imported with it, it and its index take about 1% (12 MB at a million generated
    articles); added here to an existing one, the longer rows split their pages and
    the file grows by about 7% (82 MB at a million, in 6 s CPU) until a VACUUM. A few
    different titles share a key; the import compares the folded titles of the rows
    it finds.
    """
    from irarchive.store.duplicates import title_hash

    conn.execute("ALTER TABLE articles ADD COLUMN title_key INTEGER")
    conn.create_function("irarchive_title_hash", 1, title_hash, deterministic=True)
    conn.execute("UPDATE articles SET title_key = irarchive_title_hash(title)")
    conn.execute(TITLE_KEY_INDEX_SQL)


def m009_index_date_with_id(conn: sqlite3.Connection) -> None:
    """Put the id in the date index, so the listing's whole order (date_start, date_end,
    id: newest first, ties by id) is the index's order.

    Without it SQLite sorted each run of equal dates by id in a temporary B-tree, reading
    every article before the page it was asked for (OFFSET): a page of the listing at row
    10,000 of a million took 56 ms of CPU, at row 50,000 390 ms. With it the rows before
    the page are skipped in the index alone (4 and 9 ms). Same name, so the bulk import's
    drop and rebuild and every query that named it keep working. About 3 s to build at a
    million articles; the id adds about 17 bytes an article to the index.
    """
    conn.execute("DROP INDEX IF EXISTS articles_date")
    conn.execute("CREATE INDEX articles_date ON articles(date_start, date_end, id)")


MIGRATIONS: list[Migration] = [
    m001_create_articles,
    m002_add_authors_doi,
    m003_create_sources,
    m004_create_curation,
    m005_index_positions,
    m006_index_url_key,
    m007_index_vocab_by_length,
    m008_index_title_key,
    m009_index_date_with_id,
]

LATEST = len(MIGRATIONS)
