"""Upstream clients keep no cookies: a ``Set-Cookie`` from an authority is never sent back."""

from __future__ import annotations

import httpx
import pytest

from customs_gateway.sources.china import ChinaSourceSettings, build_http_client
from customs_gateway.sources.kazakhstan import create_http_client
from customs_gateway.sources.kazakhstan.settings import KazakhstanSourceSettings
from customs_gateway.sources.net import CookielessClient


def _cookie_setting_upstream(seen: list[str | None]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, content=b"{}")

    return httpx.MockTransport(answer)


def _china(transport: httpx.MockTransport) -> httpx.AsyncClient:
    return build_http_client(
        ChinaSourceSettings(base_url="http://gacc.test", app_id="gw", app_secret="x"), transport=transport
    )


def _kazakhstan(transport: httpx.MockTransport) -> httpx.AsyncClient:
    return create_http_client(
        KazakhstanSourceSettings(base_url="http://kgd.test", client_id="gw", client_secret="x"), transport
    )


@pytest.mark.parametrize("make", [_china, _kazakhstan], ids=["GACC", "KGD"])
async def test_a_cookie_an_upstream_sets_is_never_sent_back(make: object) -> None:
    seen: list[str | None] = []
    async with make(_cookie_setting_upstream(seen)) as http:  # type: ignore[operator]
        first = await http.get("http://upstream.test/a")
        await http.get("http://upstream.test/b")
        assert first.headers["Set-Cookie"].startswith("session=")  # the answer itself is untouched
        assert not http.cookies
    assert seen == [None, None]


def test_cookies_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="no cookies"):
        CookielessClient(cookies={"session": "abc"})
