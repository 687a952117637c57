"""KGD errors: a real HTTP status and an ``<Error>`` XML body with a stable code and Russian text."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from customs_sim.kazakhstan.documents import error_document

__all__ = ["XML_MEDIA_TYPE", "ApiError", "error_response", "xml_response"]

XML_MEDIA_TYPE = "application/xml; charset=utf-8"


class ApiError(Exception):
    """An expected failure, answered as ``<Error>``; raised by handlers, rendered in one place."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def invalid(cls, parameter: str) -> ApiError:
        return cls(400, "VALIDATION_ERROR", f"Некорректный параметр: {parameter}")

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        return cls(404, "NOT_FOUND", message)


def xml_response(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=XML_MEDIA_TYPE, headers=headers)


def error_response(error: ApiError) -> Response:
    return xml_response(error_document(error.code, error.message), error.status, error.headers)
