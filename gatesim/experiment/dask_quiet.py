"""A Dask worker plugin that keeps a throw-away local cluster's workers quiet on Ctrl-C.

When the run is interrupted, the client cancels the running tasks; each worker whose task was
running then logs ``Async instruction for <Task cancelled> ended with CancelledError`` at
WARNING. The cancellation is ours and expected, so on the workers of the clusters gatesim
starts itself (never on a user's cluster) that logger reports errors only.

This module imports ``distributed`` at the top (the plug-in must subclass its WorkerPlugin);
only the Dask path imports it.
"""

from __future__ import annotations

import logging
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

#: The worker logger that reports a cancelled task at WARNING.
CANCELLATION_LOGGER = "distributed.worker.state_machine"


class QuietCancellations(WorkerPlugin):
    """Raise the worker's cancellation logger to ERROR when the plug-in is installed."""

    name = "gatesim-quiet-cancellations"

    def setup(self, worker: Any) -> None:
        logging.getLogger(CANCELLATION_LOGGER).setLevel(logging.ERROR)
