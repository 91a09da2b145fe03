"""The "insufficient evidence" tier (12 characters, so the column widens).

SQLite alters a column by rebuilding the table, which drops the table's triggers: the entry triggers
of 0002 are dropped first and created again afterwards, so a published edition stays immutable.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db import migrations, models

_immutable = importlib.import_module("foresight.priorities.migrations.0002_edition_immutable")


def _sqlite(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("priorities", "0002_edition_immutable")]

    operations = [
        migrations.RunPython(_sqlite(_immutable.SQLITE_DROP), _sqlite(_immutable.SQLITE)),
        migrations.AlterField(
            model_name="editionentry",
            name="tier",
            field=models.CharField(
                choices=[
                    ("priority", "Priority"),
                    ("key", "Key"),
                    ("watch", "Watch"),
                    ("insufficient", "Insufficient evidence"),
                ],
                max_length=12,
            ),
        ),
        migrations.RunPython(_sqlite(_immutable.SQLITE), _sqlite(_immutable.SQLITE_DROP)),
    ]
