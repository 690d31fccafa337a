"""Meetings whose decisions are recorded on their own, and reminders in the inbox.

- ``Meeting``: one group's in-person meeting (day, attendance, encrypted notes); each of
  its decisions is a proposal made from it (``Proposal.meeting``), in the new phase
  ``confirming`` until others present confirm it, or ``unconfirmed`` if they do not.
- ``Awaiting.reminded_at``: when a fellow member last reminded someone of what waits.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('federation', '0005_remove_federation_charter'),
        ('proposals', '0008_every_proposal_has_its_charter_version'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='awaiting',
            name='reminded_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='proposal',
            name='outcome',
            field=models.CharField(blank=True, choices=[('adopted', 'adopted'), ('not_adopted', 'not_adopted'), ('withdrawn', 'withdrawn'), ('decided', 'decided'), ('mandate_expired', 'mandate_expired'), ('recalled', 'recalled'), ('unconfirmed', 'unconfirmed')], max_length=20),
        ),
        migrations.AlterField(
            model_name='proposal',
            name='phase',
            field=models.CharField(choices=[('draft', 'draft'), ('consensus', 'consensus'), ('vote', 'vote'), ('volunteering', 'volunteering'), ('selection_vote', 'selection_vote'), ('mandate', 'mandate'), ('confirming', 'confirming'), ('closed', 'closed')], default='consensus', max_length=20),
        ),
        migrations.CreateModel(
            name='Meeting',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('held_on', models.DateField()),
                ('attendance', models.PositiveIntegerField()),
                ('recorded_at', models.DateTimeField()),
                ('notes_ct', models.BinaryField(default=b'')),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='federation.group')),
                ('recorder', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-held_on', '-pk'],
            },
        ),
        migrations.AddField(
            model_name='proposal',
            name='meeting',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='proposals.meeting'),
        ),
    ]
