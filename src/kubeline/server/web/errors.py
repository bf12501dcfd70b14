"""Errors of the page's JSON routes: one line for the user and the HTTP status to send."""

from __future__ import annotations

from kubeline.exceptions import KubelineError


class WebError(KubelineError):
    """A request the page's routes refuse; ``status`` is the HTTP status code."""

    def __init__(self, status: int, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


def not_found(what: str, hint: str | None = None) -> WebError:
    return WebError(404, f"{what} not found", hint)


def bad_request(message: str, hint: str | None = None) -> WebError:
    return WebError(400, message, hint)
