"""The plain-SQL statements of the hot path (see ``loupe.db.raw``), one module per table.

Each row-returning statement is a :class:`loupe.db.raw.Query` naming the
``NamedTuple`` its rows come back as; a statement is filed under the table it
is about (the one it changes, or the one it selects from first).
"""
