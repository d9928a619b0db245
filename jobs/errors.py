"""Errors of the job queue; their messages are one line meant for a user."""

from __future__ import annotations


class JobQueueError(Exception):
    """Base class of the queue's errors; messages are one line meant for a user."""


class QueueUnavailable(JobQueueError):
    """The queue's database can't be reached now (e.g. it is restarting): try again later."""


class DownloadStopped(JobQueueError):
    """A download was stopped half-way because its caller asked (e.g. the job was cancelled)."""


class LeaseLost(JobQueueError):
    """The worker no longer holds the job's lease: its write was refused."""


class CancelRequested(JobQueueError):
    """The job was cancelled while the worker was finishing it: nothing was published."""


class SubmitRejected(JobQueueError):
    """A submission was refused (quota, name); the message says why."""


class QuotaExceeded(SubmitRejected):
    pass


class NameTaken(SubmitRejected):
    pass
