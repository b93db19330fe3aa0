"""``sora bench mapping`` on a GPU host that has open3d but not the server's dependencies (mediapipe,
pocketsphinx, grpc-health): ``stubs/sitecustomize.py`` makes sora_sdk.server and sora_sdk.client
bare packages, so the bench loads only the chunk encoder from them. Writes the JSON report to $OUT."""

import os
import sys
import time

from sora_sdk.bench._mapping import run_mapping

t0 = time.time()
frames = int(sys.argv[1]) if len(sys.argv) > 1 else 40
report = run_mapping(frames)
print(report.format())
report.write_json(os.path.join(os.environ.get("OUT", "/tmp"), f"mapping_gpu_{frames}.json"))
print("wall", round(time.time() - t0, 1), "s")
