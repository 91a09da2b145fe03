"""Database triggers: a published edition and its entries cannot be updated or deleted, and no entry
can be added to one — whatever the path (ORM, admin, raw SQL). The draft → published step itself is
allowed because the trigger looks at the row's old status."""

from __future__ import annotations

from typing import Any

from django.db import migrations

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION priorities_edition_immutable() RETURNS trigger AS $$
    BEGIN
        IF OLD.status = 'published' THEN
            RAISE EXCEPTION 'edition % is published and cannot be changed', OLD.code USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER priorities_edition_immutable BEFORE UPDATE OR DELETE ON priorities_edition
    FOR EACH ROW EXECUTE FUNCTION priorities_edition_immutable();
    """,
    """
    CREATE OR REPLACE FUNCTION priorities_entry_immutable() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND EXISTS (
            SELECT 1 FROM priorities_edition WHERE id = OLD.edition_id AND status = 'published'
        ) THEN
            RAISE EXCEPTION 'entries of a published edition cannot be changed' USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP <> 'DELETE' AND EXISTS (
            SELECT 1 FROM priorities_edition WHERE id = NEW.edition_id AND status = 'published'
        ) THEN
            RAISE EXCEPTION 'entries of a published edition cannot be changed' USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER priorities_entry_immutable BEFORE INSERT OR UPDATE OR DELETE ON priorities_editionentry
    FOR EACH ROW EXECUTE FUNCTION priorities_entry_immutable();
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS priorities_entry_immutable ON priorities_editionentry;",
    "DROP FUNCTION IF EXISTS priorities_entry_immutable();",
    "DROP TRIGGER IF EXISTS priorities_edition_immutable ON priorities_edition;",
    "DROP FUNCTION IF EXISTS priorities_edition_immutable();",
]
PUBLISHED = "(SELECT status FROM priorities_edition WHERE id = {row}.edition_id) = 'published'"
SQLITE = [
    "CREATE TRIGGER priorities_edition_no_update BEFORE UPDATE ON priorities_edition WHEN OLD.status = 'published' "
    "BEGIN SELECT RAISE(ABORT, 'a published edition cannot be changed'); END;",
    "CREATE TRIGGER priorities_edition_no_delete BEFORE DELETE ON priorities_edition WHEN OLD.status = 'published' "
    "BEGIN SELECT RAISE(ABORT, 'a published edition cannot be changed'); END;",
    f"CREATE TRIGGER priorities_entry_no_insert BEFORE INSERT ON priorities_editionentry WHEN {PUBLISHED.format(row='NEW')} "
    "BEGIN SELECT RAISE(ABORT, 'entries of a published edition cannot be changed'); END;",
    f"CREATE TRIGGER priorities_entry_no_update BEFORE UPDATE ON priorities_editionentry "
    f"WHEN {PUBLISHED.format(row='OLD')} OR {PUBLISHED.format(row='NEW')} "
    "BEGIN SELECT RAISE(ABORT, 'entries of a published edition cannot be changed'); END;",
    f"CREATE TRIGGER priorities_entry_no_delete BEFORE DELETE ON priorities_editionentry WHEN {PUBLISHED.format(row='OLD')} "
    "BEGIN SELECT RAISE(ABORT, 'entries of a published edition cannot be changed'); END;",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "priorities_edition_no_update",
        "priorities_edition_no_delete",
        "priorities_entry_no_insert",
        "priorities_entry_no_update",
        "priorities_entry_no_delete",
    )
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("priorities", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}),
        )
    ]
