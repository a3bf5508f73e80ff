"""What a user asks for, shared by both front ends: no Textual, no SQL.

A write to several backups is a Job: the backups it acts on (fixed when it is made: a refresh
underneath changes nothing), what is at risk in words, how to run it (one transaction per backup
or per batch, progress per item, a stop that cancels the statement in flight) and the one summary
of its result. The TUI's dialog confirms and shows the progress of a job it is given; the CLI asks
on the terminal and prints the same words. Neither decides what a write does: drop-or-forget,
archive-then-drop, what a prune plan does, all live here once.
"""

from tui.actions.forms import Failed, Forms, cadence_warning
from tui.actions.jobs import ArchiveJob, DropJob, Job, PruneJob, VerifyJob, risks, siblings_of

__all__ = [
    "ArchiveJob",
    "cadence_warning",
    "DropJob",
    "Failed",
    "Forms",
    "Job",
    "PruneJob",
    "VerifyJob",
    "risks",
    "siblings_of",
]
