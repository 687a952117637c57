"""Who is asking: one credential per request (an API key or a bearer token) becomes a Principal.

Rules, in order: both an API key and an ``Authorization`` header is ambiguous and refused; a
presented credential must be valid (an invalid one is never downgraded to anonymous access);
no credential at all is the anonymous principal when ``anonymous_role`` is set, else refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Unauthenticated
from .apikeys import ApiKeyVerifier
from .config import SecuritySettings
from .principal import Principal
from .tokens import TokenVerifier

__all__ = ["Authenticator"]

_MISSING = "Authentication required: send an API key ({header}) or a bearer token (Authorization: Bearer …)."


class Authenticator:
    def __init__(self, settings: SecuritySettings) -> None:
        self._settings = settings
        self._keys = ApiKeyVerifier(settings.api_keys)
        self._tokens = TokenVerifier(settings.jwt) if settings.jwt is not None else None
        self.api_key_header = settings.api_key_header.lower()

    @property
    def anonymous(self) -> Principal | None:
        role = self._settings.anonymous_role
        return None if role is None else Principal(client_id="anonymous", role=role.value, method="anonymous")

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """``headers`` with lower-case names (Starlette's ``Headers`` or a plain dict)."""
        authorization = headers.get("authorization")
        api_key = headers.get(self.api_key_header)
        if authorization is not None and api_key is not None:
            raise Unauthenticated("Send one credential: an API key or a bearer token, not both.")
        if api_key is not None:
            return self._keys.verify(api_key.strip())
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("Unsupported authorization scheme: use Authorization: Bearer <token>.")
            if self._tokens is None:
                raise Unauthenticated("Invalid bearer token.")
            return self._tokens.verify(token.strip())
        anonymous = self.anonymous
        if anonymous is None:
            raise Unauthenticated(_MISSING.format(header=self._settings.api_key_header), challenge=None)
        return anonymous
