"""Audit events are append-only in the database itself: UPDATE and DELETE raise.

The hash chain detects tampering by anyone able to bypass this (a superuser disabling the
trigger); the trigger stops the application, admin or a stray script from doing it.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION workflows_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'work item events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER workflows_event_append_only
BEFORE UPDATE OR DELETE ON workflows_workitemevent
FOR EACH ROW EXECUTE FUNCTION workflows_event_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS workflows_event_append_only ON workflows_workitemevent;
DROP FUNCTION IF EXISTS workflows_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
