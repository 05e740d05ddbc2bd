"""Suite-wide settings: no analytics, and one OpenMP thread.

The machines are 2 shared cores; gradient boosting's default thread pool competing with the
Prefect test server made small fits 20-100x slower. One thread keeps tests predictable.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
