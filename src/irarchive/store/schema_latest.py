"""The schema the migrations make, kept so that opening an archive need not build it.

Made by ``python tests/fixtures/make_schema_latest.py``; do not edit. A test compares
it with the migrations run on an in-memory database (tests/test_reliability_schema.py).
"""

VERSION = 9

SCHEMA: dict[str, tuple[str, str, str]] = {
    "acronyms": (
        "table",
        "acronyms",
        "CREATE TABLE acronyms ( acronym TEXT NOT NULL, expansion TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (acronym, expansion) ) WITHOUT ROWID",  # noqa: E501
    ),
    "aliases": (
        "table",
        "aliases",
        "CREATE TABLE aliases ( alias TEXT NOT NULL PRIMARY KEY, article_id TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL ) WITHOUT ROWID",  # noqa: E501
    ),
    "aliases_article": (
        "index",
        "aliases",
        "CREATE INDEX aliases_article ON aliases(article_id)",  # noqa: E501
    ),
    "articles": (
        "table",
        "articles",
        "CREATE TABLE articles ( id TEXT NOT NULL, slug TEXT, title TEXT NOT NULL, date TEXT, date_start TEXT, date_end TEXT, excerpt TEXT, truncated INTEGER NOT NULL DEFAULT 0, category TEXT, url TEXT, source TEXT, added_at TEXT NOT NULL, extra TEXT , authors TEXT, doi TEXT, title_key INTEGER)",  # noqa: E501
    ),
    "articles_category": (
        "index",
        "articles",
        "CREATE INDEX articles_category ON articles(category COLLATE NOCASE, date_start)",  # noqa: E501
    ),
    "articles_date": (
        "index",
        "articles",
        "CREATE INDEX articles_date ON articles(date_start, date_end, id)",  # noqa: E501
    ),
    "articles_fts": (
        "table",
        "articles_fts",
        "CREATE VIRTUAL TABLE articles_fts USING fts5( title, excerpt, content=\"articles\", content_rowid='rowid', detail=full, tokenize='unicode61 remove_diacritics 2' )",  # noqa: E501
    ),
    "articles_fts_config": (
        "table",
        "articles_fts_config",
        "CREATE TABLE 'articles_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID",  # noqa: E501
    ),
    "articles_fts_data": (
        "table",
        "articles_fts_data",
        "CREATE TABLE 'articles_fts_data'(id INTEGER PRIMARY KEY, block BLOB)",  # noqa: E501
    ),
    "articles_fts_docsize": (
        "table",
        "articles_fts_docsize",
        "CREATE TABLE 'articles_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB)",  # noqa: E501
    ),
    "articles_fts_idx": (
        "table",
        "articles_fts_idx",
        "CREATE TABLE 'articles_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID",  # noqa: E501
    ),
    "articles_fts_vocab": (
        "table",
        "articles_fts_vocab",
        "CREATE VIRTUAL TABLE articles_fts_vocab USING fts5vocab(articles_fts, 'row')",  # noqa: E501
    ),
    "articles_id": (
        "index",
        "articles",
        "CREATE UNIQUE INDEX articles_id ON articles(id)",  # noqa: E501
    ),
    "articles_queue_delete": (
        "trigger",
        "articles",
        "CREATE TRIGGER articles_queue_delete AFTER DELETE ON articles WHEN NOT EXISTS (SELECT 1 FROM irarchive_writing) BEGIN INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed) VALUES (old.rowid, old.title, old.excerpt, 1); END",  # noqa: E501
    ),
    "articles_queue_insert": (
        "trigger",
        "articles",
        "CREATE TRIGGER articles_queue_insert AFTER INSERT ON articles WHEN NOT EXISTS (SELECT 1 FROM irarchive_writing) BEGIN INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed) VALUES (new.rowid, NULL, NULL, 0); END",  # noqa: E501
    ),
    "articles_queue_update": (
        "trigger",
        "articles",
        "CREATE TRIGGER articles_queue_update AFTER UPDATE ON articles WHEN NOT EXISTS (SELECT 1 FROM irarchive_writing) AND (old.rowid IS NOT new.rowid OR old.title IS NOT new.title OR old.excerpt IS NOT new.excerpt OR old.slug IS NOT new.slug) BEGIN INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed) VALUES (old.rowid, old.title, old.excerpt, 1); INSERT INTO index_queue(row, old_title, old_excerpt, was_indexed) SELECT new.rowid, NULL, NULL, 0 WHERE new.rowid IS NOT old.rowid; END",  # noqa: E501
    ),
    "articles_slug": (
        "index",
        "articles",
        "CREATE UNIQUE INDEX articles_slug ON articles(slug)",  # noqa: E501
    ),
    "articles_title_key": (
        "index",
        "articles",
        "CREATE INDEX articles_title_key ON articles(title_key)",  # noqa: E501
    ),
    "articles_url": (
        "index",
        "articles",
        "CREATE INDEX articles_url ON articles(rtrim(lower(substr(substr(url, 1, instr(url || '#', '#') - 1), 1, instr(substr(url, 1, instr(url || '#', '#') - 1) || '?', '?') - 1)), '/')) WHERE url IS NOT NULL",  # noqa: E501
    ),
    "edits": (
        "table",
        "edits",
        "CREATE TABLE edits ( article_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT, source_value TEXT, edited_at TEXT NOT NULL, PRIMARY KEY (article_id, field) ) WITHOUT ROWID",  # noqa: E501
    ),
    "index_queue": (
        "table",
        "index_queue",
        "CREATE TABLE index_queue ( seq INTEGER PRIMARY KEY, row INTEGER NOT NULL, old_title TEXT, old_excerpt TEXT, was_indexed INTEGER NOT NULL )",  # noqa: E501
    ),
    "irarchive_writing": (
        "table",
        "irarchive_writing",
        "CREATE TABLE irarchive_writing ( one INTEGER PRIMARY KEY CHECK (one = 1) )",  # noqa: E501
    ),
    "list_items": (
        "table",
        "list_items",
        "CREATE TABLE list_items ( list TEXT NOT NULL, position INTEGER NOT NULL, article_id TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (list, article_id) ) WITHOUT ROWID",  # noqa: E501
    ),
    "list_items_article": (
        "index",
        "list_items",
        "CREATE INDEX list_items_article ON list_items(article_id)",  # noqa: E501
    ),
    "list_items_order": (
        "index",
        "list_items",
        "CREATE INDEX list_items_order ON list_items(list, position)",  # noqa: E501
    ),
    "lists": (
        "table",
        "lists",
        "CREATE TABLE lists ( name TEXT NOT NULL PRIMARY KEY, created_at TEXT NOT NULL, description TEXT )",  # noqa: E501
    ),
    "notes": (
        "table",
        "notes",
        "CREATE TABLE notes ( id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, created_at TEXT NOT NULL, text TEXT NOT NULL )",  # noqa: E501
    ),
    "notes_ad": (
        "trigger",
        "notes",
        "CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text); END",  # noqa: E501
    ),
    "notes_ai": (
        "trigger",
        "notes",
        "CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text); END",  # noqa: E501
    ),
    "notes_article": (
        "index",
        "notes",
        "CREATE INDEX notes_article ON notes(article_id, created_at)",  # noqa: E501
    ),
    "notes_au": (
        "trigger",
        "notes",
        "CREATE TRIGGER notes_au AFTER UPDATE ON notes BEGIN INSERT INTO notes_fts(notes_fts, rowid, text) VALUES ('delete', old.id, old.text); INSERT INTO notes_fts(rowid, text) VALUES (new.id, new.text); END",  # noqa: E501
    ),
    "notes_fts": (
        "table",
        "notes_fts",
        "CREATE VIRTUAL TABLE notes_fts USING fts5( text, content=\"notes\", content_rowid='id', tokenize='unicode61 remove_diacritics 2' )",  # noqa: E501
    ),
    "notes_fts_config": (
        "table",
        "notes_fts_config",
        "CREATE TABLE 'notes_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID",  # noqa: E501
    ),
    "notes_fts_data": (
        "table",
        "notes_fts_data",
        "CREATE TABLE 'notes_fts_data'(id INTEGER PRIMARY KEY, block BLOB)",  # noqa: E501
    ),
    "notes_fts_docsize": (
        "table",
        "notes_fts_docsize",
        "CREATE TABLE 'notes_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB)",  # noqa: E501
    ),
    "notes_fts_idx": (
        "table",
        "notes_fts_idx",
        "CREATE TABLE 'notes_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID",  # noqa: E501
    ),
    "source_items": (
        "table",
        "source_items",
        "CREATE TABLE source_items ( feed_url TEXT NOT NULL, article_id TEXT NOT NULL, url TEXT, PRIMARY KEY (feed_url, article_id) ) WITHOUT ROWID",  # noqa: E501
    ),
    "source_items_article": (
        "index",
        "source_items",
        "CREATE INDEX source_items_article ON source_items(article_id)",  # noqa: E501
    ),
    "source_items_url": (
        "index",
        "source_items",
        "CREATE INDEX source_items_url ON source_items(url)",  # noqa: E501
    ),
    "sources": (
        "table",
        "sources",
        "CREATE TABLE sources ( name TEXT PRIMARY KEY, url TEXT NOT NULL UNIQUE, feed_url TEXT, feed_type TEXT, title TEXT, category TEXT, etag TEXT, last_modified TEXT, added_at TEXT NOT NULL, checked_at TEXT, new_item_at TEXT, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0 )",  # noqa: E501
    ),
    "sqlite_autoindex_lists_1": (
        "index",
        "lists",
        "",  # noqa: E501
    ),
    "sqlite_autoindex_sources_1": (
        "index",
        "sources",
        "",  # noqa: E501
    ),
    "sqlite_autoindex_sources_2": (
        "index",
        "sources",
        "",  # noqa: E501
    ),
    "tags": (
        "table",
        "tags",
        "CREATE TABLE tags ( article_id TEXT NOT NULL, tag TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (article_id, tag) ) WITHOUT ROWID",  # noqa: E501
    ),
    "tags_tag": (
        "index",
        "tags",
        "CREATE INDEX tags_tag ON tags(tag, article_id)",  # noqa: E501
    ),
    "titles_fts": (
        "table",
        "titles_fts",
        "CREATE VIRTUAL TABLE titles_fts USING fts5( title, content='', detail=full, tokenize='unicode61 remove_diacritics 2' )",  # noqa: E501
    ),
    "titles_fts_config": (
        "table",
        "titles_fts_config",
        "CREATE TABLE 'titles_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID",  # noqa: E501
    ),
    "titles_fts_data": (
        "table",
        "titles_fts_data",
        "CREATE TABLE 'titles_fts_data'(id INTEGER PRIMARY KEY, block BLOB)",  # noqa: E501
    ),
    "titles_fts_docsize": (
        "table",
        "titles_fts_docsize",
        "CREATE TABLE 'titles_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB)",  # noqa: E501
    ),
    "titles_fts_idx": (
        "table",
        "titles_fts_idx",
        "CREATE TABLE 'titles_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID",  # noqa: E501
    ),
    "undo_log": (
        "table",
        "undo_log",
        "CREATE TABLE undo_log ( id INTEGER PRIMARY KEY, action TEXT NOT NULL, at TEXT NOT NULL, summary TEXT NOT NULL, payload TEXT NOT NULL )",  # noqa: E501
    ),
    "vocab": (
        "table",
        "vocab",
        "CREATE TABLE vocab ( term TEXT PRIMARY KEY, df INTEGER NOT NULL ) WITHOUT ROWID",  # noqa: E501
    ),
    "vocab_common": (
        "index",
        "vocab",
        "CREATE INDEX vocab_common ON vocab(length(term), term) WHERE df >= 2",  # noqa: E501
    ),
    "vocab_k2": (
        "index",
        "vocab",
        "CREATE INDEX vocab_k2 ON vocab(substr(term, 2, 2), length(term), df)",  # noqa: E501
    ),
}
