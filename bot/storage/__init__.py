"""Storage: the schema, engines and sessions, and migrations.

``bot.storage.models`` (typed ORM), ``bot.storage.engine`` (engine and session factory),
``bot.storage.migrate`` (Alembic configured in code; migrations in ``migrations/``).
Import the submodule you need: nothing is imported here, so that reading the schema never
pulls Alembic in.
"""
