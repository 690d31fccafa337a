"""Proposals made before the charter had versions are bound to version 1 (decision 0090).

They were all made under the one charter there was, which federation migration 0003
made version 1. None had a group's own rules: groups had none.
"""

from django.db import migrations


def bind_to_version_1(apps, schema_editor):
    Proposal = apps.get_model("proposals", "Proposal")
    CharterVersion = apps.get_model("federation", "CharterVersion")
    first = CharterVersion.objects.filter(number=1).first()
    if first is not None:
        Proposal.objects.filter(charter_version__isnull=True).update(charter_version=first)


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0004_founding_charter_is_version_1"),
        ("proposals", "0006_proposals_bound_to_charter_versions"),
    ]
    operations = [migrations.RunPython(bind_to_version_1, migrations.RunPython.noop)]
