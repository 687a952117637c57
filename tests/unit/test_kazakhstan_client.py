"""Token single-flight and the client's fault paths, on ``httpx.MockTransport``.

A real simulator cannot easily produce these on demand (a 401 on a fresh token, a body that
never ends, a token answer that is not JSON), so the network is swapped here, not patched.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from customs_gateway.errors import (
    UpstreamContract,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from customs_gateway.sources.kazakhstan import KazakhstanClient, KazakhstanSourceSettings, TokenProvider
from customs_gateway.sources.kazakhstan.client import NotFound, resource_path

NS = "urn:kz:kgd:astana1:sim:v1"
SECRET = "s3cr3t-do-not-leak"
Handler = Callable[[httpx.Request], Any]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(**overrides: Any) -> KazakhstanSourceSettings:
    values: dict[str, Any] = {
        "base_url": "http://kgd.test",
        "client_id": "gateway",
        "client_secret": SECRET,
        "max_body_bytes": 4096,
    }
    values.update(overrides)
    return KazakhstanSourceSettings(**values)


def error_xml(code: str, message: str) -> bytes:
    return f'<Error xmlns="{NS}"><Code>{code}</Code><Message>{message}</Message></Error>'.encode()


OK_XML = f'<Checkpoints xmlns="{NS}"/>'.encode()


class FakeKgd:
    """Token endpoint + API, with counters; ``api`` decides each API answer."""

    def __init__(self, api: Handler | None = None, lifetime: float = 900) -> None:
        self.token_calls = 0
        self.api_calls: list[httpx.Request] = []
        self.lifetime = lifetime
        self.api = api or (lambda request: httpx.Response(200, content=OK_XML))
        self.token_answer: Callable[[], httpx.Response] | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            self.token_calls += 1
            await asyncio.sleep(0.01)  # let concurrent callers pile up behind the first
            if self.token_answer is not None:
                return self.token_answer()
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{self.token_calls}",
                    "token_type": "Bearer",
                    "expires_in": self.lifetime,
                },
            )
        self.api_calls.append(request)
        answer = self.api(request)
        return answer if isinstance(answer, httpx.Response) else await answer


def wire(
    fake: FakeKgd, clock: FakeClock | None = None, **overrides: Any
) -> tuple[TokenProvider, KazakhstanClient]:
    config = settings(**overrides)
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    tokens = TokenProvider(config, http, clock=clock or FakeClock())
    return tokens, KazakhstanClient(config, http, tokens)


# -- tokens -----------------------------------------------------------------------------------------


async def test_hundred_concurrent_callers_share_one_token_request() -> None:
    fake = FakeKgd()
    tokens, _ = wire(fake)
    values = await asyncio.gather(*(tokens.token() for _ in range(100)))
    assert fake.token_calls == 1
    assert set(values) == {"tok-1"}


async def test_expired_token_is_refreshed_once_for_concurrent_callers() -> None:
    clock = FakeClock()
    fake = FakeKgd(lifetime=900)
    tokens, _ = wire(fake, clock)
    assert await tokens.token() == "tok-1"
    clock.now += 900 - 61  # still outside the 60 s margin
    assert await tokens.token() == "tok-1"
    clock.now += 2  # inside the margin: refresh before the upstream would refuse it
    values = await asyncio.gather(*(tokens.token() for _ in range(100)))
    assert set(values) == {"tok-2"}
    assert fake.token_calls == 2


async def test_short_lifetimes_clamp_the_refresh_margin() -> None:
    clock = FakeClock()
    fake = FakeKgd(lifetime=5)  # shorter than the 60 s margin
    tokens, _ = wire(fake, clock)
    await tokens.token()
    clock.now += 3.9  # 80 % of the lifetime: still used
    assert await tokens.token() == "tok-1"
    clock.now += 0.2
    assert await tokens.token() == "tok-2"


async def test_a_failed_token_request_fails_every_waiter_once_without_leaking_the_secret() -> None:
    fake = FakeKgd()
    fake.token_answer = lambda: httpx.Response(401, json={"error": "invalid_client"})
    tokens, _ = wire(fake)
    results = await asyncio.gather(*(tokens.token() for _ in range(20)), return_exceptions=True)
    assert fake.token_calls == 1
    assert all(isinstance(r, UpstreamRejected) for r in results)
    assert "invalid_client" in str(results[0])
    assert SECRET not in str(results[0])
    assert SECRET not in repr(settings())
    # The failure is not cached: the next caller tries again.
    fake.token_answer = None
    assert await tokens.token() == "tok-2"


async def test_a_cancelled_caller_does_not_cancel_the_fetch_for_others() -> None:
    fake = FakeKgd()
    tokens, _ = wire(fake)
    first = asyncio.create_task(tokens.token())
    second = asyncio.create_task(tokens.token())
    await asyncio.sleep(0)
    first.cancel()
    assert await second == "tok-1"
    assert fake.token_calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (lambda: httpx.Response(200, content=b"<html>not json</html>"), UpstreamContract),
        (lambda: httpx.Response(200, json={"token_type": "Bearer", "expires_in": 900}), UpstreamContract),
        (lambda: httpx.Response(200, json={"access_token": "t", "expires_in": "soon"}), UpstreamContract),
        (lambda: httpx.Response(200, json={"access_token": "t", "expires_in": 0}), UpstreamContract),
        (lambda: httpx.Response(200, json=["t"]), UpstreamContract),
        (lambda: httpx.Response(400, json={"error": "unsupported_grant_type"}), UpstreamRejected),
        (lambda: httpx.Response(503, content=b"busy"), UpstreamUnavailable),
    ],
    ids=["html", "no-token", "bad-lifetime", "zero-lifetime", "array", "400", "503"],
)
async def test_token_answer_faults(answer: Callable[[], httpx.Response], error: type[Exception]) -> None:
    fake = FakeKgd()
    fake.token_answer = answer
    tokens, _ = wire(fake)
    with pytest.raises(error) as caught:
        await tokens.token()
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.RemoteProtocolError("reset"), UpstreamUnavailable),
    ],
)
async def test_token_transport_faults(exc: Exception, error: type[Exception]) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    config = settings()
    tokens = TokenProvider(config, httpx.AsyncClient(transport=httpx.MockTransport(boom)))
    with pytest.raises(error) as caught:
        await tokens.token()
    assert caught.value.__cause__ is exc


# -- API calls --------------------------------------------------------------------------------------


async def test_bearer_header_and_params_are_sent() -> None:
    fake = FakeKgd()
    _, client = wire(fake)
    await client.get("/preliminary-information/batch", [("number", "A"), ("number", "B")])
    (request,) = fake.api_calls
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.url.path == "/api/v1/preliminary-information/batch"
    assert request.url.params.get_list("number") == ["A", "B"]


async def test_a_401_refreshes_the_token_and_retries_once() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer tok-1":
            return httpx.Response(401, content=error_xml("TOKEN_EXPIRED", "Срок действия токена истек"))
        return httpx.Response(200, content=OK_XML)

    fake = FakeKgd(api)
    _, client = wire(fake)
    root, _ = await client.get("/checkpoints", roots=("Checkpoints",))
    assert root.tag == f"{{{NS}}}Checkpoints"
    assert fake.token_calls == 2
    assert len(fake.api_calls) == 2


async def test_a_second_401_is_a_rejection_after_exactly_one_retry() -> None:
    fake = FakeKgd(
        lambda request: httpx.Response(401, content=error_xml("INVALID_TOKEN", "Неизвестный токен"))
    )
    _, client = wire(fake)
    with pytest.raises(UpstreamRejected, match="INVALID_TOKEN") as caught:
        await client.get("/checkpoints")
    assert len(fake.api_calls) == 2
    assert fake.token_calls == 2
    assert "tok-" not in caught.value.message


async def test_statuses_become_gateway_errors() -> None:
    answers = {
        "/api/v1/pi/X": httpx.Response(
            404, content=error_xml("NOT_FOUND", "Предварительная информация не найдена")
        ),
        "/api/v1/html404": httpx.Response(404, content=b"<html>nginx</html>"),
        "/api/v1/bad": httpx.Response(
            400, content=error_xml("VALIDATION_ERROR", "Некорректный параметр: limit")
        ),
        "/api/v1/busy": httpx.Response(429, headers={"Retry-After": "7"}, content=b""),
        "/api/v1/down": httpx.Response(503, content=error_xml("INTERNAL_ERROR", "Сервис недоступен")),
        "/api/v1/moved": httpx.Response(302, headers={"Location": "http://elsewhere.test/"}),
    }
    _, client = wire(FakeKgd(lambda request: answers[request.url.path]))
    with pytest.raises(NotFound):
        await client.get("/pi/X")
    with pytest.raises(UpstreamContract) as caught:
        await client.get("/html404")
    assert not isinstance(caught.value, NotFound)
    with pytest.raises(UpstreamRejected, match=r"HTTP 400 VALIDATION_ERROR: Некорректный параметр: limit"):
        await client.get("/bad")
    with pytest.raises(UpstreamUnavailable) as busy:
        await client.get("/busy")
    assert busy.value.retry_after_s == 7.0
    with pytest.raises(UpstreamUnavailable, match="503"):
        await client.get("/down")
    with pytest.raises(UpstreamContract, match="302"):
        await client.get("/moved")


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (httpx.ConnectTimeout("slow"), UpstreamTimeout),
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.ReadError("reset"), UpstreamUnavailable),
    ],
)
async def test_transport_faults_on_api_calls(exc: Exception, error: type[Exception]) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        raise exc

    _, client = wire(FakeKgd(api))
    with pytest.raises(error) as caught:
        await client.get("/checkpoints")
    assert caught.value.__cause__ is exc


async def test_an_endless_body_is_cut_off_early() -> None:
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while produced < 10_000:
            produced += 1
            yield b"<" * 1024

    _, client = wire(FakeKgd(lambda request: httpx.Response(200, content=endless())), max_body_bytes=8192)
    with pytest.raises(UpstreamContract, match="larger than 8192 bytes"):
        await client.get("/checkpoints")
    assert produced < 20  # stopped reading instead of buffering 10 MB


async def test_a_declared_oversized_body_is_refused_unread() -> None:
    answer = httpx.Response(200, headers={"Content-Length": "99999999"}, content=b"")
    _, client = wire(FakeKgd(lambda request: answer))
    with pytest.raises(UpstreamContract, match="larger than"):
        await client.get("/checkpoints")


async def test_a_hostile_id_cannot_reach_another_endpoint() -> None:
    fake = FakeKgd()
    _, client = wire(fake)
    await client.get(resource_path("preliminary-information", "../../auth/token"))
    (request,) = fake.api_calls
    assert request.url.raw_path == b"/api/v1/preliminary-information/..%2F..%2Fauth%2Ftoken"
    assert fake.token_calls == 1  # only the bearer token fetch itself
