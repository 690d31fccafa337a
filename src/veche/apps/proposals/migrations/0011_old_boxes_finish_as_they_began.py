"""Secret votes begun in the old ballot box finish there; every other proposal's go to tellers.

The old box (decision 0031) is encrypted with the group's or federation's key, which a
migration does not hold, so its ballots cannot be moved under a new vote key here. A
proposal with a box (its secret vote had begun) keeps ``sealed_ballots = False``: it is
counted from its box as before, and its box is erased once closed, as before. Every
other proposal, open or not, counts any later secret vote by tellers. Decision 0134.
"""

from django.db import migrations


def mark_old_boxes(apps, schema_editor):
    Proposal = apps.get_model("proposals", "Proposal")
    BallotBox = apps.get_model("proposals", "BallotBox")
    with_box = BallotBox.objects.values_list("proposal_id", flat=True).distinct()
    Proposal.objects.filter(pk__in=list(with_box)).update(sealed_ballots=False)


def unmark(apps, schema_editor):
    # Going back: every proposal is counted from its box again (no sealed ballots survive
    # the reverse of 0010 anyway).
    Proposal = apps.get_model("proposals", "Proposal")
    Proposal.objects.update(sealed_ballots=True)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0010_secret_votes_counted_by_tellers")]

    operations = [migrations.RunPython(mark_old_boxes, unmark)]
