"""Make the usage ledger append-only in the database itself.

The model already refuses to save an existing row, but raw SQL, a queryset
``update()``/``delete()`` or a future data migration would go around it. A
row-level trigger rejects every UPDATE and DELETE, whoever issues it;
corrections are new rows (reversals and conversions). TRUNCATE is left alone:
it is what test runs use to empty the database, and no application path
issues it."""

from django.db import migrations

CREATE = """
CREATE FUNCTION billing_usagerecord_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing_usagerecord is append-only: % is not allowed', TG_OP
        USING HINT = 'Correct the ledger by appending a reversal row.';
END;
$$;

CREATE TRIGGER billing_usagerecord_append_only
    BEFORE UPDATE OR DELETE ON billing_usagerecord
    FOR EACH ROW EXECUTE FUNCTION billing_usagerecord_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_usagerecord_append_only ON billing_usagerecord;
DROP FUNCTION IF EXISTS billing_usagerecord_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
