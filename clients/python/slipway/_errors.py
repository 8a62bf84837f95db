"""The errors the client raises: the server's error answers, as exceptions."""


class SlipwayError(Exception):
    """An error answer of the server (or of the gateway), or a problem reaching it.

    ``error_code`` is the server's stable code (the table in docs/cli.md#errors; the gateway's
    MLflow codes such as ``PERMISSION_DENIED`` for endpoint queries), ``message`` says what happened,
    ``hint`` how to fix it (or None), ``status`` is the HTTP status (None when the server could not be
    reached) and ``details`` the whole ``error`` object the server sent (diagnostics, detail fields).
    """

    def __init__(self, error_code, message, hint=None, status=None, details=None):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.hint = hint
        self.status = status
        self.details = details or {}

    @property
    def diagnostics(self):
        """Invalid input: every problem as {file, line, column, message, hint}."""
        return self.details.get("diagnostics") or []

    def __str__(self):
        return f"{self.error_code}: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


class AuthenticationError(SlipwayError):
    """401: no token, or an unknown, revoked or expired one."""


class PermissionDeniedError(SlipwayError):
    """403: the token's user lacks the level the operation needs."""


def error_from_answer(status, body):
    """The exception for an error answer: the API's ``{error_code, message, hint, error}`` or the gateway's ``{error_code, message}``."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = body.get("error_code") or error.get("code") or f"http_{status}"
    message = body.get("message") or error.get("message") or f"the server answered {status}"
    hint = body.get("hint", error.get("hint"))
    cls = AuthenticationError if status == 401 else PermissionDeniedError if status == 403 else SlipwayError
    return cls(code, message, hint, status, error or None)
