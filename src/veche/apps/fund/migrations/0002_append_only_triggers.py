"""Refuse, in the database itself, changing a stored fund transaction or entry.

UPDATE is refused on SQLite and PostgreSQL. DELETE is refused on PostgreSQL only:
its test harness empties tables with TRUNCATE, which row triggers do not see, while
SQLite's uses DELETE. The models refuse both in any case (models.AppendOnly).
"""

from django.db import migrations

TABLES = ("fund_fundtransaction", "fund_entry")


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'the fund is append-only'); END;"
            )
        elif vendor == "postgresql":
            schema_editor.execute(
                "CREATE OR REPLACE FUNCTION fund_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'the fund is append-only'; END; $$ LANGUAGE plpgsql;"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION fund_append_only();"
            )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("fund", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
