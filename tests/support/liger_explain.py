"""Explain every liger-kernel corpus op, without the Triton interpreter, as JSON on stdout.

    PYTHONPATH=tests python tests/support/liger_explain.py [float32|bfloat16]

Run in a process of its own: ``explain`` compiles each kernel's PTX for sm_90, which Triton's code
generator does reliably only outside its interpreter mode. No GPU is needed (on a CPU-only torch,
``trt_standin.cpu_torch`` answers torch's CUDA queries first, as the tests do).
"""

import json
import os
import sys


def main() -> None:
    dtype = sys.argv[1] if len(sys.argv) > 1 else "float32"
    os.environ.pop("TRITON_INTERPRET", None)
    import torch

    if not torch.cuda.is_available():
        from trt_standin import cpu_torch

        cpu_torch.apply()
    from support import liger_corpus
    from torch_tensorrt.dynamo.conversion.plugins import explain

    report = {}
    for case in liger_corpus.CORPUS:
        try:
            found = explain(
                case.qualname,
                liger_corpus.explain_inputs(case, dtype, "1..64"),
                case.attributes,
            )
        except Exception as e:  # reported, and failed by the test
            report[case.name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        report[case.name] = {
            "aot": found.aot,
            "jit_strategy": found.jit_strategy,
            "inputs": [p.argument for p in found.parameters if p.kind == "input"],
            "outputs": len(found.outputs),
        }
    print("REPORT " + json.dumps(report, default=str))


if __name__ == "__main__":
    main()
