"""Loading a saved program in a fresh interpreter, as JSON on stdout (the saved-program tests).

    PYTHONPATH=tests python tests/support/saved_child.py MODE PATH

MODE ``plain``: import the ops module, then ``torch_tensorrt.load`` alone. ``prepare``: import the
ops module, ``saved_plugins`` before, ``prepare_load``, load, run against the reference. ``no_ops``:
``prepare_load`` without importing the ops module. Prints ``SAVED {...}``.
"""

import json
import os
import sys


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault(
            "TRITON_INTERPRET", "1"
        )  # before any @triton.jit is defined
        from trt_standin import cpu_torch

        cpu_torch.apply()
    import torch_tensorrt
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    from torch_tensorrt.dynamo.conversion.plugins import (
        MissingPluginsError,
        prepare_load,
        saved_plugins,
    )

    facts = {}
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if mode != "no_ops":
        from support import saved_ops

        facts["before"] = [
            [p.plugin_id, p.kind, p.registered, p.loadable] for p in saved_plugins(path)
        ]
    if mode == "prepare":
        from torch_tensorrt.dynamo.conversion.plugins import plugin_status

        facts["prepared"] = [[p.plugin_id, p.registered] for p in prepare_load(path)]
        facts["status"] = {
            op: list(plugin_status(op).prepared.get(path, ()))
            for op in saved_ops.OP_NAMES
        }
    if mode == "no_ops":
        try:
            prepare_load(path)
        except MissingPluginsError as e:
            facts["error"] = str(e)
        facts["ops_module_imported"] = "support.saved_ops" in sys.modules
    else:
        try:
            module = torch_tensorrt.load(path).module()
            x = torch.randn(5, saved_ops.COLS, device=device)
            got = module(x)
            facts["matches"] = bool(
                torch.allclose(got, saved_ops.reference(x), rtol=1e-5, atol=1e-5)
            )
        except Exception as e:
            facts["load_error"] = f"{type(e).__name__}: {e}"
    print("SAVED " + json.dumps(facts))


if __name__ == "__main__":
    main()
