# On the lent GPU machine only: sora_sdk.server and sora_sdk.client as bare packages, so their
# submodules load without the packages' __init__ (grpc_health, mediapipe, pocketsphinx are not there).
import sys
import types

for _name in ("server", "client"):
    _pkg = types.ModuleType(f"sora_sdk.{_name}")
    _pkg.__path__ = [f"sora_sdk/{_name}"]
    sys.modules[f"sora_sdk.{_name}"] = _pkg
