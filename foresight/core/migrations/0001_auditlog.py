# The audit log, moved here from Delphi (delphi.0004_move_auditlog_to_core). The model takes over the
# existing table delphi_auditlog with its rows: no table is created and no row is copied. Its content
# type is renamed so the permissions granted on it (view_auditlog...) follow it.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_to_core(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label='core', model='auditlog').exists():
        ContentType.objects.filter(app_label='delphi', model='auditlog').update(app_label='core')


def content_type_to_delphi(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label='delphi', model='auditlog').exists():
        ContentType.objects.filter(app_label='core', model='auditlog').update(app_label='delphi')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('delphi', '0004_move_auditlog_to_core'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True)),
                        ('action', models.CharField(max_length=60)),
                        ('details', models.JSONField(blank=True, default=dict)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('round', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit', to='delphi.round')),
                        ('study', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit', to='delphi.study')),
                    ],
                    options={
                        'db_table': 'delphi_auditlog',
                        'ordering': ['-at'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_core, content_type_to_delphi),
    ]
