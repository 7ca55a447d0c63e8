"""Run a ``tests/support`` script in a child interpreter without Triton's interpreter mode.

Triton compiles kernels reliably only outside its interpreter mode, which the CPU tier's test
process runs in; scripts that compile PTX (``explain`` of third-party kernels, the AOT tactics of
an autotuned kernel) therefore run in a child process, print one ``<MARKER> <json>`` line, and the
test reads it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]


def run_json(
    script: str,
    marker: str,
    args: Sequence[str] = (),
    env: Optional[Dict[str, str]] = None,
) -> Any:
    """Run ``tests/support/<script>`` with ``args``; return the JSON after its ``marker`` line."""
    child_env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "tests"), child_env.get("PYTHONPATH", "")]
    )
    child_env.update(env or {})
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "support" / script), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=child_env,
        cwd=str(ROOT),
    )
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith(marker + " ")]
    assert (
        run.returncode == 0 and lines
    ), f"{script} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return json.loads(lines[-1][len(marker) + 1 :])
