"""Every entry now has its running total: require it, and make the fund append-only again.

A migration of its own: PostgreSQL refuses to alter a table in the transaction that
updated its rows (0003's backfill).
"""

import importlib

from django.db import migrations, models

_triggers = importlib.import_module("veche.apps.fund.migrations.0002_append_only_triggers")


class Migration(migrations.Migration):
    dependencies = [("fund", "0003_running_totals")]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="balance_after",
            field=models.BigIntegerField(),
        ),
        migrations.RunPython(_triggers.create, _triggers.drop),
    ]
