"""Removing a member becomes a decision of the group: the stored charter gets the kind.

The default charter now has a decision kind with the power ``remove_member`` (a group
decision with an urgent fallback to a vote), and ``coordinator_may_remove`` (false
unless the charter says so) decides whether a coordinator may still remove a member
alone. A stored charter without such a kind gets the default one, as plain data (the
migration does not read today's code, which may change); one that already has a kind
with that power, or whose key is taken, is left as it is. See docs/decisions/0096.
"""

from django.db import migrations

REMOVE_MEMBER_KIND = {
    "key": "remove-member",
    "name": "Removing a member from the group",
    "scope": "group",
    "mode": None,
    "consensus": {
        "quorum": "1/2",
        "blocks_to_stop": 1,
        "period_seconds": 7 * 24 * 3600,
        "min_period_seconds": 3600,
    },
    "urgent_allowed": True,
    "fallback": {
        "type": "vote",
        "method": "supermajority",
        "threshold": "2/3",
        "quorum": "1/2",
        "period_seconds": 24 * 3600,
        "secret": True,
        "max_score": 5,
        "spokes_weight": "one_per_group",
    },
    "meeting_confirmations": 2,
    "power": "remove_member",
}


def add_kind(apps, schema_editor):
    Federation = apps.get_model("federation", "Federation")
    for federation in Federation.objects.all():
        charter = dict(federation.charter or {})
        kinds = list(charter.get("kinds") or [])
        if not kinds:
            continue
        if any(k.get("power") == "remove_member" for k in kinds):
            continue
        if any(k.get("key") == REMOVE_MEMBER_KIND["key"] for k in kinds):
            continue
        # After the group's own kinds, before the federation's, as in the default charter.
        at = next(
            (i for i, k in enumerate(kinds) if k.get("scope") == "federation"), len(kinds)
        )
        kinds.insert(at, dict(REMOVE_MEMBER_KIND))
        charter["kinds"] = kinds
        charter.setdefault("coordinator_may_remove", False)
        Federation.objects.filter(pk=federation.pk).update(charter=charter)


def remove_kind(apps, schema_editor):
    Federation = apps.get_model("federation", "Federation")
    for federation in Federation.objects.all():
        charter = dict(federation.charter or {})
        kinds = [k for k in charter.get("kinds") or [] if k != REMOVE_MEMBER_KIND]
        charter["kinds"] = kinds
        charter.pop("coordinator_may_remove", None)
        Federation.objects.filter(pk=federation.pk).update(charter=charter)


class Migration(migrations.Migration):
    dependencies = [("federation", "0001_initial")]

    operations = [migrations.RunPython(add_kind, remove_kind)]
