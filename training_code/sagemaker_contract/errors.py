"""Exceptions whose messages are meant for the person running the job or calling the endpoint."""

from http import HTTPStatus


class ContractError(Exception):
    """A problem the user can fix: bad data, a bad hyperparameter or setting, a stale checkpoint.

    In training its message is written verbatim to the failure file, so SageMaker shows it as the
    job's ``FailureReason``. Keep the first line self-explanatory.
    """


class RequestError(Exception):
    """An invocation the client got wrong; answered with ``status`` and ``message`` as the body.

    Both model servers answer it alike, with the status and the one-line message alone: this
    project's ``serve`` (``wsgi.InvocationsApp``) catches it, and under AWS's model server
    (TorchServe running the SageMaker inference toolkit) ``payloads.transform`` answers it on the
    request's context. The toolkit's own error types would not do: its Transformer answers every
    exception with the traceback appended to the body, and any other type as a 500.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def phrase(self) -> str:
        """The status line's reason phrase, e.g. ``Bad Request``."""
        return HTTPStatus(self.status).phrase
