"""The failure file: how a training container tells SageMaker why it failed.

SageMaker shows the first 1024 characters of ``/opt/ml/output/failure`` as the job's
``FailureReason`` and marks the job Failed when the container exits non-zero. User errors
(``ContractError``) are written as their message alone; running out of memory gets one message
of its own (what to change, then the framework's detail), whichever allocator failed; anything
else unexpected gets its type and message on the first line, then the end of the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from sagemaker_contract.environment import output_dir
from sagemaker_contract.errors import ContractError

FAILURE_REASON_LIMIT = 1024
EXIT_FAILURE = 1
#: What a user changes when training runs out of memory (the first words of the failure reason).
OUT_OF_MEMORY_ADVICE = (
    "out of memory: lower hidden_sizes or batch_size, or choose an instance type with more memory"
)
#: Exception types that mean an allocation failed: Python's, PyTorch's (``torch.OutOfMemoryError``)
#: and TensorFlow's (every allocator raises ``ResourceExhaustedError``), matched by name so that
#: this module imports neither framework.
_OUT_OF_MEMORY_TYPES = frozenset({"MemoryError", "OutOfMemoryError", "ResourceExhaustedError"})
#: PyTorch's CPU allocator reports a failed allocation as a plain RuntimeError that says this.
_TORCH_CPU_ALLOCATION_FAILED = "can't allocate memory"

log = logging.getLogger(__name__)


def failure_message(error: BaseException) -> str:
    """What to write for ``error``: the message for user errors, type + message + traceback else."""
    if isinstance(error, ContractError):
        return str(error)
    if is_out_of_memory(error):
        detail = " ".join(str(error).split())  # one line: the reason is its first line
        summary = f"{OUT_OF_MEMORY_ADVICE} ({type(error).__name__}: {detail})"
    else:
        summary = f"unexpected error: {type(error).__name__}: {error}"
    trace = "".join(traceback.format_exception(error))
    return f"{summary}\n\n{trace[-(FAILURE_REASON_LIMIT * 4) :]}"


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is a failed memory allocation, from Python or either framework."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & _OUT_OF_MEMORY_TYPES:
        return True
    return isinstance(error, RuntimeError) and _TORCH_CPU_ALLOCATION_FAILED in str(error)


def write_failure(directory: Path, message: str) -> Path:
    """Write ``message`` to ``<directory>/failure`` atomically and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "failure"
    temporary = directory / f".failure.{os.getpid()}"
    temporary.write_text(message if message.endswith("\n") else message + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def run_reporting_failures(
    main: Callable[[], int | None], environ: Mapping[str, str] = os.environ
) -> int:
    """Run ``main`` and return its exit code (None means 0); on an exception write the failure
    file, log it and return a non-zero code.

    The message is also the last thing printed to stderr, so that in script mode the training
    toolkit (which writes its own failure file from the script's stderr) reports it too.
    """
    failure_file = output_dir(environ) / "failure"
    failure_file.unlink(missing_ok=True)  # left by an earlier run in the same directory
    try:
        code = main()
    except Exception as error:  # every failure must reach the failure file
        message = failure_message(error)
        path = write_failure(output_dir(environ), message)
        log.error("training failed; reason written to %s", path)
        print(message, file=sys.stderr, flush=True)
        return EXIT_FAILURE
    return code or 0
