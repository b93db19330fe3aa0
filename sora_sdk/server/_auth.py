"""Authentication: bearer tokens checked before any handler runs, bound to the sessions they create.

Clients send ``authorization: Bearer <token>`` metadata on every call, streams included. A
:class:`TokenVerifier` turns a token into a principal (who the caller is) or refuses it. The built-in
:class:`StaticTokens` reads tokens from a TOML file::

    [[tokens]]
    token = "a-long-random-secret"
    principal = "ana"
    expires = 2027-01-01T00:00:00Z     # optional

Any other scheme (JWT, OIDC introspection) plugs in as a verifier: an object with
``verify(token: str) -> Principal | None``, named in config as ``server.auth_verifier =
"package.module:factory"`` (``factory(config) -> TokenVerifier``). A verifier raises nothing for a
bad token; it returns None, and the caller gets UNAUTHENTICATED.

Authorisation is by ownership: a session belongs to the principal that created it; every call that
names a session of another principal gets PERMISSION_DENIED with the same message as a session that
does not exist, so nothing leaks about other users' sessions.
"""

from __future__ import annotations

import datetime as dt
import hmac
import importlib
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import grpc

from ..core.config import SoraConfig
from ..core.errors import UnauthenticatedError

__all__ = [
    "ANONYMOUS",
    "AuthInterceptor",
    "Principal",
    "StaticTokens",
    "TokenVerifier",
    "load_verifier",
    "principal_of",
]

#: Services anyone may call: load balancers probe health; reflection lists the API.
PUBLIC_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``name`` owns the sessions it creates."""

    name: str


ANONYMOUS = Principal("")


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal | None: ...


@dataclass(frozen=True)
class _Token:
    secret: bytes
    principal: Principal
    expires: dt.datetime | None


class StaticTokens:
    """Tokens from a TOML file (see the module docstring); compared in constant time."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens

    @classmethod
    def from_file(cls, path: str | Path) -> StaticTokens:
        data = tomllib.loads(Path(path).read_text())
        tokens = []
        for i, item in enumerate(data.get("tokens", [])):
            secret, name = str(item.get("token", "")), str(item.get("principal", ""))
            if len(secret) < 16 or not name:
                raise ValueError(f"{path}: tokens[{i}] needs a token of 16+ characters and a principal")
            expires = item.get("expires")
            if isinstance(expires, dt.datetime) and expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
            tokens.append(
                _Token(secret.encode(), Principal(name), expires if isinstance(expires, dt.datetime) else None)
            )
        if not tokens:
            raise ValueError(f"{path}: no [[tokens]]")
        return cls(tokens)

    def verify(self, token: str) -> Principal | None:
        given = token.encode()
        now = dt.datetime.now(dt.UTC)
        found = None
        for t in self._tokens:  # no early exit: the time taken does not depend on which token matched
            if hmac.compare_digest(t.secret, given) and (t.expires is None or t.expires > now):
                found = t.principal
        return found


def load_verifier(config: SoraConfig) -> TokenVerifier | None:
    """The configured verifier, or None when authentication is off."""
    s = config.server
    if s.auth_verifier:
        module, _, attr = s.auth_verifier.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        return factory(config)  # type: ignore[no-any-return]
    if s.auth_tokens_file:
        return StaticTokens.from_file(s.auth_tokens_file)
    return None


def _bearer(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.lower().startswith("bearer "):
            return value[7:].strip()
    return ""


def principal_of(verifier: TokenVerifier | None, metadata: Any) -> Principal:
    """The caller's principal; ANONYMOUS when authentication is off. Raises UnauthenticatedError."""
    if verifier is None:
        return ANONYMOUS
    token = _bearer(metadata)
    if not token:
        raise UnauthenticatedError("missing bearer token (metadata 'authorization: Bearer …')", reason="NO_TOKEN")
    principal = verifier.verify(token)
    if principal is None:
        raise UnauthenticatedError("invalid or expired token", reason="BAD_TOKEN")
    return principal


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses every call without a valid token before its handler runs (health and reflection excepted)."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method or ""
        if method.startswith(PUBLIC_SERVICES):
            return await continuation(handler_call_details)
        try:
            principal_of(self.verifier, handler_call_details.invocation_metadata)
        except UnauthenticatedError as err:
            return _refusal(await continuation(handler_call_details), err)
        return await continuation(handler_call_details)


def _refusal(handler: grpc.RpcMethodHandler | None, err: UnauthenticatedError) -> grpc.RpcMethodHandler:
    """A handler of the same shape as ``handler`` that ends the call with UNAUTHENTICATED."""
    from ._errors import abort_with

    async def deny(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        await abort_with(context, err)

    async def deny_stream(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
        await abort_with(context, err)
        yield  # pragma: no cover - abort raises

    if handler is None:
        return grpc.unary_unary_rpc_method_handler(deny)
    des, ser = handler.request_deserializer, handler.response_serializer
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(deny_stream, des, ser)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(deny, des, ser)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(deny_stream, des, ser)
    return grpc.unary_unary_rpc_method_handler(deny, des, ser)
