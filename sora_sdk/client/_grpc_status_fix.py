"""Keeps the server's status when a client-stream write races the end of the call.

grpcio's asyncio client (grpc/grpc#36066, fix proposed in grpc/grpc#43486) handles a write that
fails because the server already ended the call by setting the call's status to
``INTERNAL: Internal error from Core``, overwriting the status the server sent. A headset stream
that sends a malformed frame then sees INTERNAL instead of INVALID_ARGUMENT naming the field. The
sync API and the C#/C++ clients report the server's status.

The replacement below is grpcio's own ``_StreamRequestMixin._write`` with one change: a failed write
sets INTERNAL only when the call has no status yet (when the server's status arrives later, it still
replaces INTERNAL, as before). It is installed only when grpcio's method still has the shape it was
written against; ``tests/server/test_bad_input.py`` fails if the race comes back.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

_installed = False


def install() -> bool:
    """Installs the fix once; returns whether grpcio's asyncio client carries it."""
    global _installed
    if _installed:
        return True
    try:
        from grpc import _common
        from grpc._cython import cygrpc
        from grpc.aio import _call
    except ImportError:  # pragma: no cover - grpcio always ships these
        return False
    mixin = getattr(_call, "_StreamRequestMixin", None)
    original = getattr(mixin, "_write", None)
    if original is None:
        return False
    try:
        source = inspect.getsource(original)
    except (OSError, TypeError):
        return False
    if "set_internal_error(str(err))" not in source or "send_serialized_message" not in source:
        return False  # grpcio changed (perhaps fixed it): leave it alone

    async def _write(self: Any, request: Any) -> None:
        if self.done():
            raise asyncio.InvalidStateError(_call._RPC_ALREADY_FINISHED_DETAILS)
        if self._done_writing_flag:
            raise asyncio.InvalidStateError(_call._RPC_HALF_CLOSED_DETAILS)
        if not self._metadata_sent.is_set():
            await self._metadata_sent.wait()
            if self.done():
                await self._raise_for_status()
        serialized_request = _common.serialize(request, self._request_serializer)
        try:
            await self._cython_call.send_serialized_message(serialized_request)
        except cygrpc.InternalError as err:
            if not self._cython_call.done():
                self._cython_call.set_internal_error(str(err))
            await self._raise_for_status()
        except asyncio.CancelledError:
            if not self.cancelled():
                self.cancel()
            raise

    mixin._write = _write
    _installed = True
    return True
