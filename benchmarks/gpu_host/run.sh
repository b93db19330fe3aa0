# There: the mapping bench and the mapping tests on CUDA; results under $OUT.
set -o pipefail
bash .gpu/install.sh
export LD_LIBRARY_PATH=/tmp/gl/usr/lib/x86_64-linux-gnu:/tmp/gl/lib/x86_64-linux-gnu
export PYTHONPATH=/tmp/site:.gpu/stubs:.:tests/mapping:tests/objects PYTHONUNBUFFERED=1
python3 benchmarks/gpu_host/run_mapping.py 40 2>&1 | tee "$OUT/bench.txt" | grep -E "^\(|time per|wall"
SORA_TEST_DEVICE=cuda:0 timeout 420 python3 -m pytest tests/mapping --confcutdir=tests/mapping -q \
    -p no:cacheprovider -o addopts="" 2>&1 | tee "$OUT/tests.txt" | grep -E "passed|failed|FAILED|ERROR" | tail -30
# The object detector's TorchScript backend on CUDA (torch is on the host; no open3d needed).
python3 -m pytest tests/objects/test_detector.py --noconftest -q -p no:cacheprovider -o addopts="" 2>&1 \
    | tee "$OUT/detector.txt" | grep -E "passed|failed|FAILED|ERROR" | tail -10
