"""Storage: tables, the database connection, migrations and the directory import."""
