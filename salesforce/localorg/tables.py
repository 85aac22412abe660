"""How the local org lays out records in SQLite: one table per object, one column per field.

Values are stored as Salesforce serialises them in REST answers: text as TEXT,
numbers as REAL or INTEGER, checkboxes as 0/1, dates as `YYYY-MM-DD`, datetimes
as `YYYY-MM-DDTHH:MM:SS.000+0000` (UTC), so that text order is time order.
"""

import sqlite3

from salesforce.schema import Field, Schema

COLUMN_TYPES = {
    "boolean": "INTEGER",
    "currency": "REAL",
    "double": "REAL",
    "percent": "REAL",
    "int": "INTEGER",
    "base64": "BLOB",
}


def column_type(field: Field) -> str:
    return COLUMN_TYPES.get(field.type, "TEXT")


def quote(identifier: str) -> str:
    """Quote a table or column name; names come from the schema, never from a request."""
    return '"' + identifier.replace('"', '""') + '"'


def create_tables(conn: sqlite3.Connection, schema: Schema) -> None:
    for sobject in schema.objects.values():
        columns = []
        for field in sobject.fields.values():
            column = f"{quote(field.name)} {column_type(field)}"
            if field.name == "Id":
                column += " PRIMARY KEY"
            elif column_type(field) == "TEXT" and field.type != "reference":
                # Salesforce compares text without regard to case.
                column += " COLLATE NOCASE"
            columns.append(column)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {quote(sobject.name)} ({', '.join(columns)})")
        for field in sobject.fields.values():
            if field.unique or field.external_id or field.type == "reference":
                index = quote(f"{sobject.name}_{field.name}")
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} "
                    f"ON {quote(sobject.name)} ({quote(field.name)})"
                )
