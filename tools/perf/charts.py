#!/usr/bin/env python3
"""PNG charts from the JSON results of tools/perf/bench_plugins.py.

    bash tools/perf/charts_data.sh tools/perf/results/DATE-CARD   # measure (GPU for aot/enqueue)
    python tools/perf/charts.py tools/perf/results/DATE-CARD      # draw, next to the JSON files

Reads, in the directory given:
  shape-query.json        -> shape_query.png: one TensorRT output-shape query, upstream vs ours
  aot-<elements>.json     -> host_cost.png: host time per enqueue of the seed op at 64x64 (raw
                             Triton launch, ours JIT, upstream JIT, AOT), from the smallest run;
                             aot_bandwidth.png: AOT kernel and Triton launch as a fraction of the
                             device-to-device copy bandwidth, over the element counts measured.
Every chart names the card and the date recorded in its JSON, and draws only what was measured
(each JSON holds its own baseline from the same run). A chart whose inputs are absent is skipped
with a message; a JSON file without its card or date is refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence


@dataclass(frozen=True)
class Run:
    """One JSON result of bench_plugins.py."""

    path: Path
    data: Dict[str, Any]

    @property
    def device(self) -> str:
        return str(self.data["device"])

    @property
    def date(self) -> str:
        return str(self.data["date"])


def load(path: Path) -> Run:
    data = json.loads(path.read_text())
    missing = [key for key in ("device", "date", "command") if key not in data]
    if missing:
        raise SystemExit(
            f"charts: {path} lacks {', '.join(missing)}; write results with "
            "`bench_plugins.py ... --json FILE`, which records them"
        )
    return Run(path, data)


@dataclass(frozen=True)
class BandwidthPoint:
    elements: int
    aot_of_copy: float
    triton_of_copy: float
    copy_gbps: float


def bandwidth_series(runs: Sequence[Run]) -> List[BandwidthPoint]:
    """Per element count, the AOT kernel's and Triton's bandwidth over the copy's, same run."""
    points = []
    for run in runs:
        bw = run.data["bandwidth_GBps"]
        points.append(
            BandwidthPoint(
                elements=_elements(run),
                aot_of_copy=bw["aot"] / bw["copy"],
                triton_of_copy=bw["triton"] / bw["copy"],
                copy_gbps=bw["copy"],
            )
        )
    return sorted(points, key=lambda p: p.elements)


def host_cost(run: Run) -> Dict[str, float]:
    """Host microseconds per enqueue, by path, in the order the chart draws them."""
    host = run.data["host_us"]
    order = [
        ("raw Triton launch", "raw_triton"),
        ("ours: JIT", "bench_ours"),
        ("upstream: JIT", "bench_upstream"),
        ("AOT", "aot_driver_launch"),
    ]
    return {label: float(host[key]) for label, key in order if key in host}


def _elements(run: Run) -> int:
    match = re.search(r"--elements[ =](\d+)", run.data["command"])
    if match:
        return int(match.group(1))
    found = re.search(r"aot-(\d+)\.json$", run.path.name)
    if not found:
        raise SystemExit(f"charts: cannot tell the element count of {run.path}")
    return int(found.group(1))


def _title(runs: Sequence[Run]) -> str:
    devices = sorted(
        {
            f"{r.device}, {r.data['tensorrt']}" if "tensorrt" in r.data else r.device
            for r in runs
        }
    )
    dates = sorted({r.date for r in runs})
    return f"{' / '.join(devices)}, {' to '.join([dates[0], dates[-1]] if len(dates) > 1 else dates)}"


def draw_shape_query(run: Run, out: Path) -> Path:
    import matplotlib.pyplot as plt

    results = run.data["results"]
    kinds = list(results)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    width = 0.38
    for offset, (key, label, color) in enumerate(
        (
            ("bench_upstream", "upstream generate_plugin", "tab:gray"),
            ("bench_ours", "this project", "tab:blue"),
        )
    ):
        values = [results[k][key] for k in kinds]
        positions = [i + (offset - 0.5) * width for i in range(len(kinds))]
        bars = axis.bar(positions, values, width, label=label, color=color)
        axis.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=8)
    ratios = [results[k]["bench_upstream"] / results[k]["bench_ours"] for k in kinds]
    axis.set_xticks(
        range(len(kinds)),
        [f"{k} 64x64\n(ours {r:.0f}x faster)" for k, r in zip(kinds, ratios)],
    )
    axis.set_yscale("log")
    axis.set_ylabel("µs per output-shape query")
    axis.set_title(f"One TensorRT shape query\n{_title([run])}", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = out / "shape_query.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def draw_host_cost(run: Run, out: Path) -> Path:
    import matplotlib.pyplot as plt

    cost = host_cost(run)
    baseline = cost.get("raw Triton launch")
    figure, axis = plt.subplots(figsize=(6.5, 3.5))
    bars = axis.bar(list(cost), list(cost.values()), color="tab:blue")
    if baseline:
        axis.bar_label(
            bars,
            labels=[f"{v:.1f} µs\n{v / baseline:.2f}x" for v in cost.values()],
            fontsize=8,
        )
    axis.set_ylim(0, 1.25 * max(cost.values()))  # room for the labels above the bars
    axis.set_ylabel("host µs per enqueue")
    axis.set_title(
        f"Host cost per enqueue, seed op 64x64 fp32\n{_title([run])}", fontsize=10
    )
    figure.tight_layout()
    path = out / "host_cost.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def draw_bandwidth(runs: Sequence[Run], out: Path) -> Path:
    import matplotlib.pyplot as plt

    points = bandwidth_series(runs)
    figure, axis = plt.subplots(figsize=(6.5, 3.5))
    sizes = [p.elements for p in points]
    axis.plot(
        sizes, [p.aot_of_copy for p in points], "o-", label="AOT kernel, TensorRT order"
    )
    axis.plot(
        sizes,
        [p.triton_of_copy for p in points],
        "s--",
        label="same kernel, Triton launch",
    )
    axis.axhline(
        1.0, color="black", linewidth=0.8, label="device-to-device copy (limit)"
    )
    axis.set_xscale("log", base=2)
    axis.set_xlabel("fp32 elements")
    axis.set_ylabel("bandwidth / copy bandwidth")
    axis.set_ylim(0, 1.1)
    axis.set_title(f"AOT kernel bandwidth\n{_title(runs)}", fontsize=10)
    axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    path = out / "aot_bandwidth.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def draw_all(directory: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    drawn: List[Path] = []
    shape_query = directory / "shape-query.json"
    if shape_query.exists():
        drawn.append(draw_shape_query(load(shape_query), directory))
    else:
        sys.stderr.write(f"charts: no {shape_query}; shape_query.png skipped\n")
    aot_runs = [load(p) for p in sorted(directory.glob("aot-*.json"))]
    if aot_runs:
        smallest = min(aot_runs, key=_elements)
        drawn.append(draw_host_cost(smallest, directory))
        drawn.append(draw_bandwidth(aot_runs, directory))
    else:
        sys.stderr.write(
            f"charts: no aot-*.json in {directory} (GPU runs); host_cost.png and "
            "aot_bandwidth.png skipped\n"
        )
    return drawn


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    for path in draw_all(args.directory):
        sys.stdout.write(f"charts: wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
