"""The charter stored on the federation becomes version 1, in force since the founding.

Its digest is the SHA-256 of the stored JSON in canonical form (sorted keys, no spaces,
UTF-8), as ``veche.domain.charter.digest`` computes it for later versions. The domain is
not imported: a migration must run the same however the domain changes later.
"""

import hashlib
import json

from django.db import migrations


def forwards(apps, schema_editor):
    Federation = apps.get_model("federation", "Federation")
    CharterVersion = apps.get_model("federation", "CharterVersion")
    federation = Federation.objects.order_by("pk").first()
    if federation is None or not federation.charter or CharterVersion.objects.exists():
        return
    text = json.dumps(federation.charter, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    CharterVersion.objects.create(
        number=1,
        charter=federation.charter,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        in_force_from=federation.created_at,
    )


def backwards(apps, schema_editor):
    Federation = apps.get_model("federation", "Federation")
    CharterVersion = apps.get_model("federation", "CharterVersion")
    latest = CharterVersion.objects.order_by("-number").first()
    if latest is not None:
        Federation.objects.update(charter=latest.charter)


class Migration(migrations.Migration):
    dependencies = [("federation", "0003_charter_versions")]
    operations = [migrations.RunPython(forwards, backwards)]
