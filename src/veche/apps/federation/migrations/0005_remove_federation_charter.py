"""The charter lives in its versions only: the federation's own copy goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("federation", "0004_founding_charter_is_version_1")]
    operations = [migrations.RemoveField(model_name="federation", name="charter")]
