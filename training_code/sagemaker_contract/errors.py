"""Exceptions whose messages are meant for the person running the job or calling the endpoint."""


class ContractError(Exception):
    """A problem the user can fix: bad data, a bad hyperparameter or setting, a stale checkpoint.

    In training its message is written verbatim to the failure file, so SageMaker shows it as the
    job's ``FailureReason``. Keep the first line self-explanatory.
    """


class RequestError(Exception):
    """An invocation the client got wrong; answered with ``status`` and ``message`` as the body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
