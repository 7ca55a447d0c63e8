"""Child process for the engine-cache tests: define ``ecache::scale`` one way, compile with Torch-TensorRT's
engine cache, run, and print the outcome as JSON on the last line.

    python -m support.engine_cache_child <definition> <engine_cache_dir> <reuse: 0|1>

``definition`` is ``default2`` (``a: float = 2.0``), ``default5`` (``a: float = 5.0``) or
``fake_half`` (default 2.0, but the fake kernel, and the body, return float16).
"""

import json
import os
import sys


def main() -> None:
    definition, cache_dir, reuse = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    os.environ.setdefault("TRITON_INTERPRET", "1")
    import torch

    if not torch.cuda.is_available():
        from trt_standin import cpu_torch

        cpu_torch.apply()
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    default = 5.0 if definition == "default5" else 2.0
    half = definition == "fake_half"
    lib = torch.library.Library("ecache", "FRAGMENT")
    lib.define(f"scale(Tensor x, float a={default}) -> Tensor")
    lib.impl(
        "scale",
        lambda x, a=default: (x * a).half() if half else x * a,
        "CompositeExplicitAutograd",
    )
    torch.library.register_fake(
        "ecache::scale",
        lambda x, a=default: torch.empty_like(
            x, dtype=torch.float16 if half else x.dtype
        ),
        lib=lib,
    )
    custom_op("ecache::scale")

    class Model(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ops.ecache.scale(x) * 1

    import logging

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    messages: list = []
    logging.getLogger("torch_tensorrt.dynamo.conversion.plugins").addHandler(Collect())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.randn(3, 4, device=device)
    result: dict = {}
    try:
        compiled = torch_tensorrt.compile(
            Model().eval(),
            inputs=[x],
            min_block_size=1,
            immutable_weights=False,
            cache_built_engines=True,
            reuse_cached_engines=reuse,
            engine_cache_dir=cache_dir,
        )
        out = compiled(x)
        expected = Model()(x)
        result["dtype"] = str(out.dtype)
        result["expected_dtype"] = str(expected.dtype)
        result["max_error"] = float((out.float() - expected.float()).abs().max())
    except Exception as e:  # the test reads the message
        result["error"] = f"{type(e).__name__}: {e}"
    result["rebuilt"] = any("engine cache reuse is off" in m for m in messages)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
