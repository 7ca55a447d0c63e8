"""Deserialise (and on a GPU, run) a serialized engine with TensorRT alone, as JSON on stdout.

    python tests/support/aot_engine_child.py ENGINE_FILE ROWS COLS SCALE

Imports ``tensorrt`` and torch (for buffers), never torch_tensorrt, this package or the op's
module, and reports which of those ended up imported. On a GPU the engine (one input ``x`` of
ROWS x COLS float32, one output) runs on random data and is compared with ``x * SCALE``.
Prints ``ENGINE {...}``.
"""

import json
import sys


def main() -> None:
    path, rows, cols, scale = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    import tensorrt as trt
    import torch

    with open(path, "rb") as f:
        data = f.read()
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(data)
    facts = {"deserialised": engine is not None}
    if engine is not None and torch.cuda.is_available():
        context = engine.create_execution_context()
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        inputs = [
            n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT
        ]
        outputs = [n for n in names if n not in inputs]
        x = torch.randn(rows, cols, device="cuda")
        y = torch.full_like(x, float("nan"))
        context.set_input_shape(inputs[0], tuple(x.shape))
        context.set_tensor_address(inputs[0], x.data_ptr())
        context.set_tensor_address(outputs[0], y.data_ptr())
        stream = torch.cuda.current_stream()
        facts["executed"] = bool(context.execute_async_v3(stream.cuda_stream))
        stream.synchronize()
        facts["matches"] = bool(torch.allclose(y, x * scale))
    facts["imported"] = sorted(
        m
        for m in sys.modules
        if m == "torch_tensorrt" or m.startswith(("torch_tensorrt.", "support"))
    )
    print("ENGINE " + json.dumps(facts))


if __name__ == "__main__":
    main()
