"""Stopping on SIGTERM: spot interruption and StopTrainingJob.

SageMaker sends SIGTERM and, 120 seconds later, SIGKILL. The training loops poll a
``StopRequest`` between batches, then keep the checkpoints of completed epochs, save the model
and exit cleanly; a resumed job redoes only the interrupted epoch. Ctrl-C (SIGINT) does the same
when the code runs on a laptop.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

log = logging.getLogger(__name__)


class StopRequest:
    """Becomes true once SIGTERM or SIGINT has arrived."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> StopRequest:
        """Handle SIGTERM and SIGINT from now on (main thread only); returns self."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        log.warning("received %s: stopping after the current batch", signal.Signals(signum).name)
