"""Running totals: each entry keeps its account's balance after it, each account its
balance per currency, so pages never add up the fund's history (issue 8).

The append-only triggers are lifted for the backfill and put back as they were. Requests
whose proposal was already decided take their state from the decision (the fund follows
decisions by a signal from now on, instead of settling them when a page is shown).
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

_triggers = importlib.import_module("veche.apps.fund.migrations.0002_append_only_triggers")


def backfill(apps, schema_editor):
    Entry = apps.get_model("fund", "Entry")
    Balance = apps.get_model("fund", "Balance")
    running = {}
    for entry in Entry.objects.order_by("transaction__seq", "pk"):
        key = (entry.account_id, entry.currency)
        running[key] = running.get(key, 0) + entry.amount
        Entry.objects.filter(pk=entry.pk).update(balance_after=running[key])
    for (account_id, currency), amount in running.items():
        Balance.objects.create(account_id=account_id, currency=currency, amount=amount)
    SupportRequest = apps.get_model("fund", "SupportRequest")
    deciding = SupportRequest.objects.filter(state="deciding", proposal__closed_at__isnull=False)
    for request in deciding.select_related("proposal"):
        adopted = request.proposal.outcome == "adopted"
        SupportRequest.objects.filter(pk=request.pk).update(
            state="adopted" if adopted else "not_adopted"
        )


def forget(apps, schema_editor):
    apps.get_model("fund", "Balance").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('fund', '0002_append_only_triggers'),
        ('proposals', '0002_ballotbox_sealed'),
    ]

    operations = [
        migrations.RunPython(_triggers.drop, _triggers.create),
        migrations.CreateModel(
            name='Balance',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('currency', models.CharField(max_length=3)),
                ('amount', models.BigIntegerField(default=0)),
            ],
            options={
                'ordering': ['account_id', 'currency'],
            },
        ),
        migrations.RemoveIndex(
            model_name='entry',
            name='fund_entry_account_4835a7_idx',
        ),
        migrations.AddField(
            model_name='entry',
            name='balance_after',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='entry',
            index=models.Index(fields=['account', 'currency', 'transaction'], name='fund_entry_account_9f942b_idx'),
        ),
        migrations.AddField(
            model_name='balance',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='balances', to='fund.account'),
        ),
        migrations.AddConstraint(
            model_name='balance',
            constraint=models.UniqueConstraint(fields=('account', 'currency'), name='fund_one_balance_each'),
        ),
        migrations.RunPython(backfill, forget),
    ]
