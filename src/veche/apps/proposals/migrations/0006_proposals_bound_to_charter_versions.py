"""Proposals name the charter version they are judged under (decision 0090)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0003_charter_versions"),
        ("proposals", "0005_wait_carry"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="charter_version",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="federation.charterversion",
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="group_rules_version",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="federation.grouprulesversion",
            ),
        ),
    ]
