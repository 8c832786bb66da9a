"""The database's own full-text index on memory content.

SQLite: an FTS5 table kept in step by triggers; its `owner` column holds the
owner's id as a token, so a search matches one user's notes inside the index.
PostgreSQL: a GIN index on the English tsvector that memory.search queries.
"""
from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE memory_entry_fts USING fts5(content, owner, tokenize='porter unicode61')",
    """CREATE TRIGGER memory_entry_fts_insert AFTER INSERT ON memory_memoryentry BEGIN
         INSERT INTO memory_entry_fts(rowid, content, owner) VALUES (new.id, new.content, new.owner_id);
       END""",
    """CREATE TRIGGER memory_entry_fts_update AFTER UPDATE OF content, owner_id ON memory_memoryentry BEGIN
         UPDATE memory_entry_fts SET content = new.content, owner = new.owner_id WHERE rowid = new.id;
       END""",
    """CREATE TRIGGER memory_entry_fts_delete AFTER DELETE ON memory_memoryentry BEGIN
         DELETE FROM memory_entry_fts WHERE rowid = old.id;
       END""",
    "INSERT INTO memory_entry_fts(rowid, content, owner) SELECT id, content, owner_id FROM memory_memoryentry",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS memory_entry_fts_insert",
    "DROP TRIGGER IF EXISTS memory_entry_fts_update",
    "DROP TRIGGER IF EXISTS memory_entry_fts_delete",
    "DROP TABLE IF EXISTS memory_entry_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX memory_entry_content_tsv ON memory_memoryentry USING GIN (to_tsvector('english', content))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS memory_entry_content_tsv"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("memory", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
