"""The training worker: a separate process that takes jobs from the queue and trains them.

It needs no Discord token and never imports Discord. ``lstm-bot worker`` (or
``python -m worker``) runs it; several may share one queue.
"""

from .cli import add_arguments, main, run

__all__ = ["add_arguments", "main", "run"]
