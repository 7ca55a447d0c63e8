"""tools/perf/charts.py: draws what the benchmark JSON holds, refuses results without card or date."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import random
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("matplotlib")


def _charts():
    spec = importlib.util.spec_from_file_location(
        "perf_charts", REPO / "tools" / "perf" / "charts.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _aot_run(directory: pathlib.Path, elements: int, rng: random.Random) -> dict:
    data = {
        "bandwidth_GBps": {
            "copy": rng.uniform(2000, 3000),
            "aot": rng.uniform(1000, 2900),
            "triton": rng.uniform(1000, 2900),
        },
        "host_us": {
            "aot_driver_launch": rng.uniform(10, 30),
            "raw_triton": rng.uniform(10, 30),
            "bench_ours": rng.uniform(30, 80),
            "bench_upstream": rng.uniform(200, 500),
        },
        "device": "NVIDIA H200",
        "date": "2026-12-01",
        "tensorrt": "TensorRT stand-in",
        "command": f"tools/perf/bench_plugins.py aot --elements {elements} --json x.json",
    }
    (directory / f"aot-{elements}.json").write_text(json.dumps(data))
    return data


def test_bandwidth_is_each_run_against_its_own_copy(tmp_path: pathlib.Path) -> None:
    charts = _charts()
    rng = random.Random()
    sizes = [1 << 26, 1 << 20, 1 << 24]
    written = {n: _aot_run(tmp_path, n, rng) for n in sizes}
    runs = [charts.load(p) for p in tmp_path.glob("aot-*.json")]
    points = charts.bandwidth_series(runs)
    assert [p.elements for p in points] == sorted(sizes)
    for point in points:
        bw = written[point.elements]["bandwidth_GBps"]
        assert point.aot_of_copy == pytest.approx(bw["aot"] / bw["copy"])
        assert point.triton_of_copy == pytest.approx(bw["triton"] / bw["copy"])
    cost = charts.host_cost(runs[0])
    assert list(cost) == ["raw Triton launch", "ours: JIT", "upstream: JIT", "AOT"]


def test_draws_every_chart_it_has_data_for(tmp_path: pathlib.Path) -> None:
    charts = _charts()
    rng = random.Random()
    for n in (1 << 20, 1 << 22):
        _aot_run(tmp_path, n, rng)
    shape = {
        "results": {
            "static": {"bench_ours": 60.0, "bench_upstream": 10000.0},
            "dynamic": {"bench_ours": 50.0, "bench_upstream": 10100.0},
        },
        "device": "CPU (x86_64, 2 cores)",
        "date": "2026-12-01",
        "command": "bench_plugins.py shape-query --json shape-query.json",
    }
    (tmp_path / "shape-query.json").write_text(json.dumps(shape))
    drawn = charts.draw_all(tmp_path)
    assert sorted(p.name for p in drawn) == [
        "aot_bandwidth.png",
        "host_cost.png",
        "shape_query.png",
    ]
    for path in drawn:
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_refuses_results_without_card_or_date(tmp_path: pathlib.Path) -> None:
    charts = _charts()
    path = tmp_path / "aot-1048576.json"
    path.write_text(json.dumps({"bandwidth_GBps": {}, "command": "x"}))
    with pytest.raises(SystemExit, match=r"lacks device, date"):
        charts.load(path)
