"""The charter in versions (decision 0090), and groups' own rules in versions (0092)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('federation', '0002_charter_remove_member_kind'),
    ]

    operations = [
        migrations.CreateModel(
            name='CharterVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(unique=True)),
                ('charter', models.JSONField()),
                ('digest', models.CharField(max_length=64)),
                ('in_force_from', models.DateTimeField()),
                ('proposal_id', models.PositiveIntegerField(blank=True, null=True)),
                ('decision_seq', models.PositiveIntegerField(blank=True, null=True)),
                ('decision_digest', models.CharField(blank=True, max_length=64)),
            ],
            options={
                'ordering': ['number'],
            },
        ),
        migrations.CreateModel(
            name='GroupRulesVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('rules', models.JSONField()),
                ('digest', models.CharField(max_length=64)),
                ('in_force_from', models.DateTimeField()),
                ('proposal_id', models.PositiveIntegerField(blank=True, null=True)),
                ('decision_seq', models.PositiveIntegerField(blank=True, null=True)),
                ('decision_digest', models.CharField(blank=True, max_length=64)),
                ('group', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rules_versions', to='federation.group')),
            ],
            options={
                'ordering': ['group', 'number'],
                'constraints': [models.UniqueConstraint(fields=('group', 'number'), name='one_rules_version_number')],
            },
        ),
    ]
