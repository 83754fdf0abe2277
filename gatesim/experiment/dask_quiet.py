"""A Dask worker plugin that keeps a throw-away local cluster's workers quiet on Ctrl-C.

When the run is interrupted, the client cancels the running tasks; each worker whose task was
running then logs ``Async instruction for <Task cancelled> ended with CancelledError`` at
WARNING. The cancellation is ours and expected, so on the workers of the clusters gatesim
starts itself (never on a user's cluster) that logger reports errors only.

The scheduler then closes with the interrupted process. A worker whose heartbeat falls in that
moment logs ``Failed to communicate with scheduler during heartbeat`` at ERROR, with a
traceback; on these workers that one message is dropped (every other error still shows).

This module imports ``distributed`` at the top (the plug-in must subclass its WorkerPlugin);
only the Dask path imports it.
"""

from __future__ import annotations

import logging
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

#: The worker logger that reports a cancelled task at WARNING.
CANCELLATION_LOGGER = "distributed.worker.state_machine"
#: The worker logger, and its message when the scheduler is gone (the interrupted run's).
WORKER_LOGGER = "distributed.worker"
LOST_SCHEDULER = "Failed to communicate with scheduler during heartbeat"


def drop_lost_scheduler(record: logging.LogRecord) -> bool:
    """A logging filter: False (drop) for the heartbeat error of a closed scheduler."""
    return not str(record.msg).startswith(LOST_SCHEDULER)


class QuietCancellations(WorkerPlugin):
    """Raise the worker's cancellation logger to ERROR when the plug-in is installed."""

    name = "gatesim-quiet-cancellations"

    def setup(self, worker: Any) -> None:
        logging.getLogger(CANCELLATION_LOGGER).setLevel(logging.ERROR)
        worker_logger = logging.getLogger(WORKER_LOGGER)
        if drop_lost_scheduler not in worker_logger.filters:
            worker_logger.addFilter(drop_lost_scheduler)
