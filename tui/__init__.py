"""backup-tui: browse, create and prune table-level PostgreSQL backups."""

__version__ = "0.1.0"
