# The audit log moved to foresight.core (core.0001_auditlog). Only Django's idea of where the model
# lives changes: the table delphi_auditlog and its rows stay as they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('delphi', '0003_feedback_snapshot'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AuditLog')],
            database_operations=[],
        ),
    ]
