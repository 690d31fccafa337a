"""A text's HTML is rendered when it is written and stored encrypted beside it (decision
0139). Texts written before have none: they are rendered from their source when shown, as
before (the server holds no key to render them now)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("proposals", "0012_checkpoints_move_with_appends")]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="html_ct",
            field=models.BinaryField(null=True),
        ),
        migrations.AddField(
            model_name="comment",
            name="html_of",
            field=models.CharField(default="", editable=False, max_length=80),
        ),
        migrations.AddField(
            model_name="proposalversion",
            name="body_html_ct",
            field=models.BinaryField(null=True),
        ),
        migrations.AddField(
            model_name="proposalversion",
            name="html_of",
            field=models.CharField(default="", editable=False, max_length=80),
        ),
    ]
