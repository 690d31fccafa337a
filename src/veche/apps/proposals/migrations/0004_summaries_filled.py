"""Fill the new summaries of existing proposals, and store events as the domain's codec does.

- A closed proposal's summary comes from its decision record. An open one cannot be
  replayed here (an open vote's ballots need a member's key): it is made due now, so
  the first settlement (``veche settle``, or a request holding its body's key) replays
  it and stores its summary and inbox rows.
- ``ballot_cast`` events kept their box's round and secrecy in their data; both follow
  from the proposal's kind, and the codec stores only the group a ballot is cast for.
- The founding invitation's flag leaves the effect; a closed proposal's candidate group
  name leaves it too (admitted, it is the group's public name; refused, nobody needs it).
"""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone


def fill(apps, schema_editor):
    Proposal = apps.get_model("proposals", "Proposal")
    ProposalEvent = apps.get_model("proposals", "ProposalEvent")
    ProposalVersion = apps.get_model("proposals", "ProposalVersion")
    DecisionRecord = apps.get_model("proposals", "DecisionRecord")
    now = timezone.now()
    for event in ProposalEvent.objects.filter(type="ballot_cast"):
        group = event.data.get("group")
        ProposalEvent.objects.filter(pk=event.pk).update(data={"group": group} if group else {})
    for row in Proposal.objects.all():
        latest = ProposalVersion.objects.filter(proposal=row).order_by("-number").first()
        last_event = ProposalEvent.objects.filter(proposal=row).aggregate(at=Max("at"))["at"]
        fields = {
            "current_version": latest,
            "version": latest.number if latest else 1,
            "last_activity_at": max(filter(None, [row.created_at, last_event])),
            "invitation_issued": bool(row.effect.get("invitation_issued")),
        }
        effect = {k: v for k, v in row.effect.items() if k != "invitation_issued"}
        record = DecisionRecord.objects.filter(proposal=row).first()
        if row.closed_at is not None and record is not None:
            fields.update(
                phase="closed",
                reached_by=record.payload.get("reached_by", ""),
                due_at=None,
            )
            effect.pop("admit_group", None)
        else:
            published = ProposalEvent.objects.filter(proposal=row, type="published").exists()
            fields.update(
                phase="draft" if row.draft and not published else "consensus",
                due_at=now,
                due_reads_ballots=True,
            )
        fields["effect"] = effect
        Proposal.objects.filter(pk=row.pk).update(**fields)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0003_summaries")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
