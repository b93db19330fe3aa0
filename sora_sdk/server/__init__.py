"""The gRPC service: thin servicers over the session layer, error mapping, ``create_server``."""

from __future__ import annotations

from ..core._gc import tune_gc_for_serving
from ._app import SERVICE_NAMES, SoraServer, create_server, serve
from ._errors import STATUS_CODES, to_status

__all__ = ["SERVICE_NAMES", "STATUS_CODES", "SoraServer", "create_server", "serve", "to_status", "tune_gc_for_serving"]
