"""A conversation's unguessable code for its URL: added empty, filled row by row, then made unique."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import scenarios.models


def fill_codes(apps: Any, schema_editor: Any) -> None:
    Conversation = apps.get_model("scenarios", "Conversation")
    for conversation in Conversation.objects.filter(code__isnull=True).only("pk"):
        conversation.code = scenarios.models.new_conversation_code()
        conversation.save(update_fields=["code"])


class Migration(migrations.Migration):
    dependencies = [("scenarios", "0006_exchange_matching_pilots")]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="code",
            # Without an index at first (a slug field has one): the unique field below makes its own.
            field=models.CharField(max_length=30, null=True, editable=False),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="conversation",
            name="code",
            field=models.SlugField(
                default=scenarios.models.new_conversation_code, editable=False, max_length=30, unique=True
            ),
        ),
    ]
