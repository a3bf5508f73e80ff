"""backup-tui: browse, create and prune table-level PostgreSQL backups."""

__version__ = "0.2.0"
