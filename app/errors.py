"""One exception type for every request the server refuses, carrying its HTTP status, so the
pure image and inference modules can say what is wrong without importing the web framework."""

from __future__ import annotations


class ApiError(Exception):
    """A request the server refuses: answered as ``{"detail": detail}`` with ``status_code``."""

    def __init__(self, status_code: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers
