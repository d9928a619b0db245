"""lstm-bot's shared Discord core: settings, client, database, registry, services."""

import os

# Before numpy loads: single-threaded BLAS for serving (see model_store/__init__.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
