"""Alembic's entry point: run the chain on the connection `Store.upgrade` hands over."""

from alembic import context

from ivr.store.database import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
