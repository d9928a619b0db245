import sys
from pathlib import Path

# Import the fake_discord package from this checkout even when the editable install predates it.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
