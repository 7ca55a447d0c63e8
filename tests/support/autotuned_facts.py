"""The AOT plugin of ``autotuned::scale`` built on the stand-in's plugin host, as JSON on stdout.

    PYTHONPATH=tests python tests/support/autotuned_facts.py OUT_DIR

Run in a process of its own, without the Triton interpreter: the kernels of every tactic are
compiled to PTX for sm_90 (no GPU needed; on a CPU-only torch ``trt_standin.cpu_torch`` answers
torch's CUDA queries and the target is sm_90). Each tactic's PTX is written to OUT_DIR.
"""

import json
import os
import sys


def main() -> None:
    out_dir = sys.argv[1]
    os.environ.pop("TRITON_INTERPRET", None)
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        from trt_standin import cpu_torch

        cpu_torch.apply()
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from support import autotuned
    from torch_tensorrt.dynamo.conversion.plugins import _aot, _registry, custom_op
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature
    from trt_standin import upstream_compat
    from trt_standin.host import InputSpec, PluginHost

    upstream_compat.reenable_qdp_on_standin()
    if not torch.cuda.is_available():
        _aot.target_capability = (
            lambda device=None: 90
        )  # compile for sm_90 without a GPU
    handle = custom_op(autotuned.QUALNAME)
    record = _registry.require("autotuned_facts", autotuned.QUALNAME)
    variant = record.variant()
    cols = 19
    key = variant.call_key([TensorSignature(torch.float32, (None, cols))], (0.5,))
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    captured = record.captures.get(key, program)
    aot = _aot.aot_variant(record, variant, 0, len(captured.alternatives))
    kernels = []
    for tactic in range(1, len(captured.alternatives) + 1):
        kernel = _aot._compile(record, key, captured, tactic)
        path = os.path.join(out_dir, f"tactic{tactic}.ptx")
        with open(path, "w") as f:
            f.write(kernel.ptx)
        kernels.append(
            {"name": kernel.name, "num_warps": kernel.num_warps, "ptx": path}
        )
    itensor = trt.ITensor._make(None, "x", trt.float32, (-1, cols))
    spec = InputSpec.dynamic(trt.float32, (1, cols), (5, cols), (64, cols))
    factory = getattr(trtp.op.autotuned, aot.plugin_name)
    built = PluginHost().build(
        factory(itensor, alpha=np.array([0.5], dtype=np.float32)), [spec], aot=True
    )
    facts = {
        "alternatives": len(captured.alternatives),
        "plugin_name": aot.plugin_name,
        "valid_tactics": sorted(int(t) for t in built.build_plugin.get_valid_tactics()),
        "kind": built.kind,
        "tactic": built.tactic,
        "launch_7_rows": built.aot.launch_config([(7, cols)]),
        "kernels": kernels,
    }
    from torch_tensorrt.dynamo.conversion.plugins import explain

    report = explain(
        autotuned.QUALNAME, {"x": f"float32[1..64, {cols}]"}, {"alpha": 0.5}
    )
    facts["explain"] = {
        "aot": {k: v for k, v in report.aot.items() if k != "ptx"},
        "jit_strategy": report.jit_strategy,
        "text": str(report),
    }
    handle.remove()
    print("FACTS " + json.dumps(facts, default=str))


if __name__ == "__main__":
    main()
