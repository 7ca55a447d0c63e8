"""The README's examples run as written (through tools/run_example.py, as the README says)."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _python_block_after(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


def test_your_own_op_example_runs(trt_backend, tmp_path):
    script = tmp_path / "my_script.py"
    script.write_text(_python_block_after("## Your own op"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_example.py"), str(script)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "my_lib::scale (generated at" in result.stdout
    assert (
        "implementations:" in result.stdout
    )  # the status shows what the compile did with the node
