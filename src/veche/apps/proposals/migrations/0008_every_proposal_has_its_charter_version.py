"""A proposal without its charter version cannot exist (decision 0090)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("proposals", "0007_existing_proposals_under_version_1")]
    operations = [
        migrations.AlterField(
            model_name="proposal",
            name="charter_version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="federation.charterversion",
            ),
        ),
    ]
