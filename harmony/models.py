"""Every table of every package, imported in one place so that Alembic sees the whole schema."""

from harmony.db import ChangeLog, metadata

__all__ = ["ChangeLog", "metadata"]
