#!/usr/bin/env bash
# The GPU check of issue 9, one run from the repository root on a GPU machine:
#   bash benchmarks/gpu_check.sh
# Where Keras is missing, installs the wheels carried in .whl/ (Keras, its missing
# dependencies, discord.py and aiosqlite) into /tmp/site; trains on Keras 3 + JAX (unless
# KERAS_BACKEND says otherwise), and writes the figures to $OUT
# (gpu_check.log, gpu_check.json). GPU_CHECK_QUICK=1 runs it tiny (to test it on a CPU).
# The corpora are read from corpora/ (tinyshakespeare.txt, dom_casmurro_pt.txt).
set -u
cd "$(dirname "$0")/.."
if ! python3 -c "import keras" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export KERAS_BACKEND="${KERAS_BACKEND:-jax}" PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export OUT="${OUT:-$(mktemp -d)}"
command -v nvidia-smi >/dev/null && nvidia-smi -L
python3 benchmarks/gpu_check.py "$@" 2>&1 | tee "$OUT/gpu_check.log"
