# Requests for help wait in the other groups' coordinators' inboxes (decision 0102).

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    # Open requests for help wait for every other active group that has not answered.
    SupportRequest = apps.get_model("fund", "SupportRequest")
    HelpAnswer = apps.get_model("fund", "HelpAnswer")
    AwaitingAnswer = apps.get_model("fund", "AwaitingAnswer")
    Group = apps.get_model("federation", "Group")
    groups = list(Group.objects.filter(dissolved_at__isnull=True).values_list("pk", flat=True))
    rows = []
    for request in SupportRequest.objects.filter(kind="help", state="open"):
        answered = set(HelpAnswer.objects.filter(request=request).values_list("group_id", flat=True))
        rows.extend(
            AwaitingAnswer(request_id=request.pk, group_id=group)
            for group in groups
            if group != request.group_id and group not in answered
        )
    AwaitingAnswer.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('federation', '0001_initial'),
        ('fund', '0004_running_totals_required'),
    ]

    operations = [
        migrations.CreateModel(
            name='AwaitingAnswer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='federation.group')),
                ('request', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='awaiting', to='fund.supportrequest')),
            ],
            options={
                'indexes': [models.Index(fields=['group', 'request'], name='fund_awaiti_group_i_cac669_idx')],
                'constraints': [models.UniqueConstraint(fields=('request', 'group'), name='fund_one_wait_per_group')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
