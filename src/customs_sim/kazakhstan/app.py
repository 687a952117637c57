"""The KGD-style HTTP API over a built :class:`~customs_sim.kazakhstan.store.KazakhstanStore`.

Handlers parse and validate, ask the store for pre-rendered fragments and join them; every
expected failure is an :class:`ApiError`, rendered to XML in one place, and anything unexpected
becomes a bare 500 INTERNAL_ERROR (logged by the server, never shown to the client).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import TypedDict

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from customs_sim.kazakhstan.documents import list_document, single_document
from customs_sim.kazakhstan.errors import ApiError, error_response, xml_response
from customs_sim.kazakhstan.oauth import BearerCheck, TokenIssuer, token_endpoint
from customs_sim.kazakhstan.params import QueryReader
from customs_sim.kazakhstan.render import plate_key
from customs_sim.kazakhstan.schema import kgd_xsd
from customs_sim.kazakhstan.settings import KazakhstanSimSettings
from customs_sim.kazakhstan.store import KazakhstanStore, RecordQuery

__all__ = ["API_PREFIX", "create_kazakhstan_app"]

API_PREFIX = "/api/v1"
BATCH_MAX = 50
PLATES_MAX = 50
ARRIVAL_KEYS_MAX = 50  # piNumber and commonManifestId filters of the arrival list, each
PAGE_MAX = 500
RATES_RANGE_MAX_DAYS = 366
_DIRECTIONS = frozenset({"IM", "EK"})

_PAGING = frozenset({"offset", "limit"})
_PI_PARAMS = _PAGING | {"checkpoint", "direction", "from", "to", "plate", "commonManifestId"}
_ARRIVAL_PARAMS = _PAGING | {"checkpoint", "from", "to", "piNumber", "commonManifestId"}
_CONTROL_PARAMS = _PAGING | {"checkpoint", "from", "to"}

_MESSAGES = {
    "pi": "Предварительная информация не найдена",
    "arrival": "Уведомление о прибытии не найдено",
    "control": "Результат контроля не найден",
    "rates": "Курсы валют на указанную дату не найдены",
    "path": "Ресурс не найден",
}


class _State(TypedDict):
    store: KazakhstanStore


def _store(request: Request) -> KazakhstanStore:
    store: KazakhstanStore = request.state.store
    return store


def _paging(query: QueryReader) -> tuple[int, int]:
    return query.integer("offset", 0, 0, 2**62), query.integer("limit", 100, 1, PAGE_MAX)


def _checkpoint(query: QueryReader, store: KazakhstanStore) -> str | None:
    return query.choice("checkpoint", store.checkpoint_codes)


def _distinct_keys(query: QueryReader, name: str, most: int) -> tuple[str, ...]:
    """A repeatable filter's values, duplicates once; at most ``most`` distinct ones."""
    keys = tuple(dict.fromkeys(query.values(name)))
    if len(keys) > most:
        raise ApiError.invalid(name)
    return keys


def _page(request: Request, resource: str, root: str, allowed: frozenset[str]) -> Response:
    store = _store(request)
    query = QueryReader(request.query_params, allowed)
    checkpoint = _checkpoint(query, store)
    since, until = query.window()
    direction = common_id = None
    pi_numbers: tuple[str, ...] = ()
    common_ids: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()
    if resource == "pi":
        direction = query.choice("direction", _DIRECTIONS)
        plates = tuple(dict.fromkeys(plate_key(p) for p in query.values("plate")))
        if len(plates) > PLATES_MAX:
            raise ApiError.invalid("plate")
        common_id = query.text("commonManifestId")
    elif resource == "arrivals":
        pi_numbers = _distinct_keys(query, "piNumber", ARRIVAL_KEYS_MAX)
        common_ids = _distinct_keys(query, "commonManifestId", ARRIVAL_KEYS_MAX)
    offset, limit = _paging(query)
    filters = RecordQuery(checkpoint, direction, since, until, plates, common_id, pi_numbers, common_ids)
    page = store.page(resource, filters, offset, limit)
    return xml_response(list_document(root, page.docs), headers={"X-Total-Count": str(page.total)})


async def checkpoints(request: Request) -> Response:
    QueryReader(request.query_params, frozenset())
    return xml_response(list_document("Checkpoints", _store(request).checkpoint_docs))


async def pi_list(request: Request) -> Response:
    return _page(request, "pi", "PreliminaryInformationList", _PI_PARAMS)


async def pi_batch(request: Request) -> Response:
    """By PI ``number`` or by ``commonManifestId``, 1–50 of one kind (never both in one call)."""
    query = QueryReader(request.query_params, frozenset({"number", "commonManifestId"}))
    store = _store(request)
    if query.values("commonManifestId"):
        if query.values("number"):
            raise ApiError.invalid("commonManifestId")
        found, missing = store.pi_by_common_ids(query.keys("commonManifestId", BATCH_MAX))
        return xml_response(list_document("PreliminaryInformationList", found, "CommonManifestId", missing))
    found, missing = store.pi_batch(query.keys("number", BATCH_MAX))
    return xml_response(list_document("PreliminaryInformationList", found, "PINumber", missing))


def _get_one(request: Request, kind: str) -> Response:
    QueryReader(request.query_params, frozenset())
    store = _store(request)
    number: str = request.path_params["number"]
    lookup = {"pi": store.pi, "arrival": store.arrival, "control": store.control}[kind]
    doc = lookup(number)
    if doc is None:
        raise ApiError.not_found(_MESSAGES[kind])
    return xml_response(single_document(doc))


async def pi_one(request: Request) -> Response:
    return _get_one(request, "pi")


async def arrival_list(request: Request) -> Response:
    return _page(request, "arrivals", "ArrivalNotificationList", _ARRIVAL_PARAMS)


async def arrival_one(request: Request) -> Response:
    return _get_one(request, "arrival")


async def control_list(request: Request) -> Response:
    return _page(request, "controls", "ControlResultList", _CONTROL_PARAMS)


async def control_batch(request: Request) -> Response:
    """By ``piNumber`` or by ``commonManifestId``, 1–50 of one kind (never both in one call)."""
    query = QueryReader(request.query_params, frozenset({"piNumber", "commonManifestId"}))
    store = _store(request)
    if query.values("commonManifestId"):
        if query.values("piNumber"):
            raise ApiError.invalid("commonManifestId")
        docs, missing = store.controls_by_common_ids(query.keys("commonManifestId", BATCH_MAX))
        return xml_response(list_document("ControlResultList", docs, "CommonManifestId", missing))
    docs, missing = store.controls_of(query.keys("piNumber", BATCH_MAX))
    return xml_response(list_document("ControlResultList", docs, "PINumber", missing))


async def control_one(request: Request) -> Response:
    return _get_one(request, "control")


async def exchange_rates(request: Request) -> Response:
    query = QueryReader(request.query_params, frozenset({"date", "from", "to"}))
    day, first, last = query.date("date"), query.date("from"), query.date("to")
    store = _store(request)
    if day is not None:
        if first is not None or last is not None:
            raise ApiError.invalid("from" if first is not None else "to")
        fragments = store.rate_fragments(day, day)
        if not fragments:
            raise ApiError.not_found(_MESSAGES["rates"])
        return xml_response(single_document(fragments[0]))
    if first is None:
        raise ApiError.invalid("from" if last is not None else "date")
    if last is None:
        raise ApiError.invalid("to")
    if last < first or (last - first) >= dt.timedelta(days=RATES_RANGE_MAX_DAYS):
        raise ApiError.invalid("to")
    return xml_response(list_document("ExchangeRatesList", store.rate_fragments(first, last)))


async def schema(request: Request) -> Response:
    return xml_response(kgd_xsd())


class BearerAuth:
    """Guards ``/api/v1/…``: answers 401 before routing unless the bearer token is live."""

    def __init__(self, app: ASGIApp, issuer: TokenIssuer) -> None:
        self.app = app
        self.issuer = issuer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            authorization = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    authorization = value.decode("latin-1")
                    break
            verdict = self.issuer.check(authorization)
            if verdict is not BearerCheck.OK:
                message = {
                    BearerCheck.UNAUTHORIZED: "Требуется авторизация",
                    BearerCheck.INVALID_TOKEN: "Недействительный токен доступа",
                    BearerCheck.TOKEN_EXPIRED: "Срок действия токена доступа истек",
                }[verdict]
                error = ApiError(401, verdict.value, message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = ApiError(405, "METHOD_NOT_ALLOWED", "Метод не поддерживается", exc.headers)
    elif exc.status_code == 404:
        error = ApiError.not_found(_MESSAGES["path"])
    else:
        error = ApiError(exc.status_code, "VALIDATION_ERROR", "Некорректный запрос", exc.headers)
    return error_response(error)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    # The server logs the traceback (Starlette re-raises after answering); the client sees no detail.
    return error_response(ApiError(500, "INTERNAL_ERROR", "Внутренняя ошибка сервера"))


def create_kazakhstan_app(settings: KazakhstanSimSettings) -> Starlette:
    """The simulator as an ASGI app; the database is opened at startup and closed at shutdown."""
    issuer = TokenIssuer(
        settings.client_id,
        settings.client_secret,
        settings.token_lifetime_s,
        settings.clock,
        max_tokens=settings.max_tokens,
        expired_grace_s=settings.expired_token_grace_s,
    )

    async def token(request: Request) -> Response:
        return await token_endpoint(request, issuer)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[_State]:
        store = KazakhstanStore(settings.db_path)
        try:
            yield {"store": store}
        finally:
            store.close()

    # Flat routes with full paths (no Mount): the admin middleware counts requests per route
    # template, and a Mount would fold every API call into one "/api/v1" key.
    api = [
        ("/checkpoints", checkpoints),
        ("/preliminary-information", pi_list),
        ("/preliminary-information/batch", pi_batch),
        ("/preliminary-information/{number}", pi_one),
        ("/arrival-notifications", arrival_list),
        ("/arrival-notifications/{number}", arrival_one),
        ("/control-results", control_list),
        ("/control-results/batch", control_batch),
        ("/control-results/{number}", control_one),
        ("/exchange-rates", exchange_rates),
    ]
    routes = [
        Route("/auth/token", token, methods=["POST"]),
        Route("/schema/kgd.xsd", schema),
        *(Route(API_PREFIX + path, endpoint) for path, endpoint in api),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuth, issuer=issuer)],
        lifespan=lifespan,
        exception_handlers={
            ApiError: _on_api_error,
            HTTPException: _on_http_error,
            Exception: _on_unexpected,
        },
    )
    # A trailing slash is an unknown path (404), not a redirect a client would have to follow.
    app.router.redirect_slashes = False
    return app
