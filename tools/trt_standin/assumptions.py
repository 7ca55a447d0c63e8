"""Everything the stand-in assumes about closed-source TensorRT, in one table.

TensorRT's builder and runtime are closed: the order and number of plugin calls, which clone gets
which call, expression simplification, tactic timing, engine format and what deserialisation passes
to a plugin creator cannot be read anywhere. Each such behaviour the stand-in implements is an entry
here, and the code that implements it names the entry with ``assumed("key")``; a test checks both
directions (every key used exists, every entry is used). ``source`` says where the behaviour comes
from: a header or document (documented), NVIDIA's open-source Python bindings (bindings), the QDP
Python layer's own expectations (qdp), or nothing better than a reading of intent (inferred).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict


@dataclass(frozen=True)
class Assumption:
    key: str
    behaviour: str
    source: str
    basis: str  # documented | bindings | qdp | inferred


_ENTRIES = [
    Assumption(
        "plugin-size-tensors",
        "A plugin output whose size is a size tensor (declare_size_tensor) is allocated at the size "
        "tensor's upper bound; the plugin writes the actual size into the size tensor (an int32 "
        "output) during enqueue, and TensorRT reads it afterwards: the output is that many rows, "
        "stored contiguously from the start of the buffer.",
        "TensorRT's developer guide, 'Dynamic Shapes: data-dependent shapes' and "
        "IExprBuilder::declareSizeTensor / IPluginV3OneBuild::getOutputShapes docs; NVIDIA's QDP "
        "layer (tensorrt.plugin.size_tensor, SizeTensorDesc: opt and upper bound).",
        "documented",
    ),
    Assumption(
        "output-allocator",
        "An engine output whose shape depends on data gets its memory from the IOutputAllocator "
        "set for it: execute asks reallocate_output_async(name, current memory, size in bytes, "
        "alignment, stream) once the size is known, writes the output there and calls "
        "notify_shape(name, dims); without an allocator such an output is an error. "
        "get_tensor_shape reports -1 for its dimensions before the enqueue.",
        "TensorRT's IOutputAllocator documentation (reallocateOutputAsync, notifyShape) and "
        "Torch-TensorRT's DynamicOutputAllocator / _execute_output_allocator.",
        "documented",
    ),
    Assumption(
        "constants-in-device-memory",
        "An engine's constant weights are in device memory before the first enqueue (uploaded when "
        "the engine is deserialised or its execution context created), so an enqueue copies no "
        "host data and can be captured into a CUDA graph; a refit replaces them before the next "
        "enqueue.",
        "TensorRT's developer guide, 'CUDA Graphs' (enqueueV3 can be captured once shapes are set) "
        "and 'Refitting an Engine' (refit updates the engine's weights in place); Torch-TensorRT's "
        "CUDA-graph runtime captures execute_async_v3 on the first call of a shape.",
        "documented",
    ),
    Assumption(
        "refit-weight-names",
        "A refittable engine's constant-layer weights are named '<layer name> CONSTANT' "
        "(Refitter.get_all_weights); Refitter.set_named_weights replaces them by that name.",
        "Torch-TensorRT's refit path (dynamo/_refit.py, converter_utils.to_trt_weights) records constants "
        "as '<name> CONSTANT' and looks them up in Refitter.get_all_weights(); TensorRT's refit API "
        "docs describe weights named by layer and role.",
        "inferred",
    ),
    Assumption(
        "weight-stripped-serialization",
        "ICudaEngine.serialize_with_config with SerializationFlag.EXCLUDE_WEIGHTS (refittable engines "
        "only) writes the engine without its constant weights; they read as zeros until a Refitter "
        "sets them.",
        "NvInferRuntime.h SerializationFlag::kEXCLUDE_WEIGHTS ('exclude the weights that can be refitted').",
        "documented",
    ),
    Assumption(
        "input-shape-outside-profile",
        "IExecutionContext.set_input_shape with a shape outside the active optimization profile reports "
        "an error through the logger, returns False and leaves the input's shape unknown (not the "
        "previous one); output shapes then read as -1 and enqueue reports an error and returns False.",
        "NvInferRuntime.h IExecutionContext::setInputShape ('returns false if ... outside the "
        "optimization profile'), getTensorShape ('-1 for dimensions that cannot be computed') and "
        "enqueueV3 (fails when input shapes are not all specified).",
        "documented",
    ),
    Assumption(
        "callbacks-see-thread-modes",
        "TensorRT's own work (allocation, layer execution) is C++ and never sees Python's "
        "thread-local torch dispatch modes; when TensorRT calls a Python plugin callback it does so "
        "on the calling thread, so the callback runs under whatever modes that thread has active "
        "(e.g. Torch-TensorRT's FakeTensorMode while it builds inside torch.compile).",
        "pybind11 calls Python callbacks on the thread that called into C++, holding the GIL "
        "(python/src/infer/pyPlugin.cpp trampolines); torch's mode stack is thread-local Python state.",
        "bindings",
    ),
    Assumption(
        "expr-constant-folding",
        "IExprBuilder.operation on two constant expressions returns a constant expression; "
        "nothing else is simplified (x*1 stays an operation).",
        "NvInferRuntime.h IExprBuilder docs: 'If both operands are constants, the result is "
        "a constant'; further simplification is unspecified.",
        "documented",
    ),
    Assumption(
        "static-dims-are-constants",
        "An input dimension that is static in the network reaches get_output_shapes as a "
        "constant IDimensionExpr; a dynamic one as an opaque, non-constant expression.",
        "NvInferRuntime.h: dimensions known at build time are constant expressions.",
        "documented",
    ),
    Assumption(
        "build-call-order",
        "Build phase: create_plugin(BUILD[, request]) -> get_capability_interface(CORE, BUILD) -> "
        "get_num_outputs -> get_output_data_types -> get_output_shapes -> "
        "get_supported_format_combinations -> configure_plugin -> get_valid_tactics -> "
        "set_tactic per tactic (timing) -> enqueue (JIT) or get_launch_params + get_kernel (AOT) "
        "-> get_fields_to_serialize (JIT).",
        "IPluginV3 build interfaces (NvInferRuntimePlugin.h) and the QDP layer, which keeps "
        "state from get_output_data_types/get_output_shapes for later calls.",
        "qdp",
    ),
    Assumption(
        "clone-before-build-queries",
        "TensorRT clones the plugin once after creation and issues the build queries on the "
        "clone; the runtime enqueues on the object create_plugin(RUNTIME) returned.",
        "IPluginV3::clone docs: TensorRT may clone a plugin at any time; which object gets "
        "which call is not documented.",
        "inferred",
    ),
    Assumption(
        "format-choice",
        "Among the combinations a plugin reports, the first whose input types equal the "
        "network's input types is configured; formats other than LINEAR are never chosen "
        "(no reformat layers).",
        "TensorRT times all combinations and may insert reformats; the choice is internal.",
        "inferred",
    ),
    Assumption(
        "tactic-choice",
        "The first valid tactic (or 0 when none is advertised) is chosen; tactics are timed "
        "only by running enqueue once each during a JIT build.",
        "Tactic timing is internal to the builder.",
        "inferred",
    ),
    Assumption(
        "aot-tactic-timing",
        "For an AOT plugin advertising several tactics, the builder asks get_launch_params / "
        "get_kernel for each tactic, times each kernel on the GPU at the profile's opt shapes "
        "(random inputs, CUDA events behind a GPU sleep so that host launch cost is not timed, "
        "median of 5 rounds of 10 launches) and keeps the fastest "
        "(ties: the lower tactic); without a GPU, or with timing off, the first tactic is kept.",
        "QDP's autotune documentation (tensorrt.plugin._lib.autotune): 'The (type, format, tactic) "
        "combination with the lowest latency is used to execute the plugin once the engine is "
        "built'; how TensorRT measures latency is internal.",
        "qdp",
    ),
    Assumption(
        "runtime-recreation",
        "Deserialisation finds the creator by (name, version '1', namespace), calls "
        "create_plugin(name, namespace, fields, RUNTIME, STRICT_JIT) with the fields from "
        "get_fields_to_serialize passed as a PluginFieldCollection_, asks "
        "get_capability_interface(RUNTIME), calls set_tactic(chosen tactic) and then enqueue; "
        "get_output_data_types is not called again.",
        "The binding always passes 5 arguments to create_plugin (pyPlugin.cpp createPlugin); "
        "which request TensorRT passes at deserialisation is closed (STRICT_JIT is the value "
        "that lets a plugin with both impl and aot_impl deserialise); defect 8 of the QDP layer "
        "(aliasing lost after deserialisation) implies the data-type query is not repeated.",
        "inferred",
    ),
    Assumption(
        "aot-no-serialized-fields",
        "For AOT plugins the engine keeps the kernel (name, PTX), the launch expressions and "
        "the extra-argument expressions; attributes are not serialised and no Python runs at "
        "execution.",
        "tensorrt.plugin.aot_impl docs: 'Plugin attributes are not serialized into the engine "
        "when using an AOT implementation'.",
        "documented",
    ),
    Assumption(
        "aot-launch-order",
        "An AOT kernel is launched with parameters: input pointers, the int32 extra arguments, "
        "output pointers, nothing else; grid/block/shared memory evaluated from the launch "
        "expressions for the actual shapes; on the execution stream.",
        "tensorrt.plugin.aot_impl docs ('extra_args ... located after the tensor inputs and "
        "before the tensor outputs').",
        "documented",
    ),
    Assumption(
        "add-plugin-request",
        "INetworkDefinition.add_plugin(f, aot=None) calls f with STRICT_AOT when aot is True, "
        "STRICT_JIT when aot is False, and with the network's PREFER_AOT/PREFER_JIT creation "
        "flag (else UNKNOWN) when aot is None.",
        "python/src/infer/pyGraph.cpp add_plugin overloads and NetworkDefinitionCreationFlag "
        "PREFER_*_PYTHON_PLUGINS docs.",
        "bindings",
    ),
    Assumption(
        "callback-errors",
        "An exception in a plugin callback fails the build or the execution; the stand-in "
        "raises PluginHostError naming the callback and the Python exception.",
        "Every trampoline catches it, prints '[ERROR] Exception caught in <fn>(): ...' and "
        "returns an error code (pyPlugin.cpp PLUGIN_API_CATCH); TensorRT's reaction is closed.",
        "bindings",
    ),
    Assumption(
        "engine-bytes",
        "A serialised engine begins with b'ftrt'.",
        "Torch-TensorRT tells raw engines from base64 by that prefix.",
        "inferred",
    ),
    Assumption(
        "shape-inference-runs-plugins-shape-functions",
        "At execution, output shapes of plugin layers come from evaluating the expressions "
        "returned at build time for the actual input shapes; get_output_shapes is not called.",
        "IPluginV3OneBuild::getOutputShapes docs: expressions are built once and evaluated by "
        "TensorRT for each shape.",
        "documented",
    ),
    Assumption(
        "enqueue-buffers",
        "enqueue receives contiguous LINEAR buffers: input/output pointers as ints, strides in "
        "elements, descriptors with the runtime dims, and the stream handle as an int.",
        "IPluginV3OneRuntime::enqueue docs; QDP's Tensor builds strides from in_strides.",
        "documented",
    ),
    Assumption(
        "half-inputs-float-math",
        "Activation, matrix multiply, softmax, normalization and attention layers with float16 or "
        "bfloat16 inputs compute in float32 and round the result once to the input type.",
        "TensorRT's developer guide describes reduced-precision layers accumulating in higher "
        "precision; the exact internal precision of each kernel is not documented.",
        "inferred",
    ),
    Assumption(
        "activation-default-alpha-beta",
        "A new IActivationLayer has alpha = 0 and beta = 0 until they are set.",
        "NvInfer.h IActivationLayer::setAlpha/setBeta document what the parameters mean, not "
        "their initial values; Torch-TensorRT sets them for every activation that reads them.",
        "inferred",
    ),
    Assumption(
        "activation-thresholded-relu",
        "ActivationType.THRESHOLDED_RELU computes x if x > alpha else 0.",
        "NvInfer.h ActivationType::kTHRESHOLDED_RELU ('x>alpha ? x : 0'), which Torch-TensorRT's "
        "thresholded_relu converter follows; the operator reference page writes max(0, x - alpha) "
        "instead (the two documents disagree).",
        "documented",
    ),
    Assumption(
        "softmax-default-axis",
        "A new ISoftMaxLayer normalizes over axis max(rank - 3, 0) until axes is set.",
        "The binding's ISoftMaxLayer docstring ('the number of axes minus three; 0 if there are "
        "fewer than 3 non-batch axes'); its NHW example contradicts it. Torch-TensorRT always "
        "sets axes.",
        "bindings",
    ),
    Assumption(
        "normalization-groups",
        "add_normalization's layer with num_groups G > 1 splits axis 1 into G groups, normalizes "
        "each over its channels and the axes, and applies per-group scale and bias [1, G, 1, ...]; "
        "the variance is the biased one, epsilon starts at 1e-5.",
        "The binding's INormalizationLayer and add_normalization docstrings (formula, 'Default: "
        "1e-5F', '[1, G, 1, 1] for GroupNormalization').",
        "bindings",
    ),
    Assumption(
        "attention-gqa-head-groups",
        "IAttention with Hq query heads and Hkv < Hq key/value heads lets query head h read "
        "key/value head h // (Hq / Hkv), as torch's scaled_dot_product_attention(enable_gqa=True).",
        "The IAttention docs require numHeadsQuery to be a multiple of numHeadsKeyValue and "
        "Torch-TensorRT maps enable_gqa onto it; the grouping order itself is not written down.",
        "inferred",
    ),
]

ASSUMPTIONS: Dict[str, Assumption] = {a.key: a for a in _ENTRIES}


def assumed(key: str) -> str:
    """Mark a code site that implements assumption ``key`` (raises KeyError for unknown keys)."""
    if key not in ASSUMPTIONS:
        raise KeyError(
            f"stand-in assumption {key!r} is not in trt_standin.assumptions.ASSUMPTIONS"
        )
    return key
