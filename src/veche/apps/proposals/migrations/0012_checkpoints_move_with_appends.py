"""A chain's checkpoint moves with each append (decision 0137); the full check is kept apart."""

from django.db import migrations, models
from django.db.models import F


def full_checks_so_far(apps, schema_editor):  # noqa: ANN001, ARG001 - Django's signature
    # Every checkpoint until now was set by a full check (`veche verify`).
    apps.get_model("proposals", "ChainCheckpoint").objects.update(checked_seq=F("seq"))


def forget_checkpoints(apps, schema_editor):  # noqa: ANN001, ARG001
    # Going back, a checkpoint could claim a full check it never had: forget them all;
    # pages check their window until the next `veche verify`.
    apps.get_model("proposals", "ChainCheckpoint").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("proposals", "0011_old_boxes_finish_as_they_began")]

    operations = [
        migrations.AddField(
            model_name="chaincheckpoint",
            name="checked_seq",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.AlterField(
            model_name="chaincheckpoint",
            name="checked_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(full_checks_so_far, forget_checkpoints),
    ]
