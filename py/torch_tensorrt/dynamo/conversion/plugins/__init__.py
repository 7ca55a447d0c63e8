"""Automatic TensorRT Quick Deployable Plugins for PyTorch custom ops.

``custom_op("ns::op")`` (or ``generate_plugin`` then ``generate_plugin_converter``) turns a
``torch.library.custom_op`` with a fake kernel into a TensorRT plugin and registers the converter
that keeps the op inside the TensorRT engine built by ``torch_tensorrt.compile``.

Data flow (one module each): ``_schema`` (op schema -> OpSpec) -> ``_attributes`` (attribute
encoding) -> ``_identity`` (the call identity every cache is keyed by) -> ``_symbolic`` /
``_shape_program`` (fake kernel traced once -> shape program) -> ``_qdp`` (QDP register/impl
functions) -> ``_runtime`` (enqueue) -> ``_binding`` / ``_converter`` (Torch-TensorRT converter) ->
``_registry`` (one registry, undoable handles); ``_capture`` / ``_launch`` and ``_aot`` /
``_triton_aot`` / ``_handwritten`` add direct Triton launches and ahead-of-time implementations;
``_compiles`` / ``_engine_cache`` see each compile before partitioning.
"""

from torch_tensorrt.dynamo.conversion.plugins._custom_op import custom_op
from torch_tensorrt.dynamo.conversion.plugins._errors import (
    PluginGenerationError,
    UnsupportedOpError,
)
from torch_tensorrt.dynamo.conversion.plugins._explain import Explanation, explain
from torch_tensorrt.dynamo.conversion.plugins._generate_plugin import generate_plugin
from torch_tensorrt.dynamo.conversion.plugins._generate_plugin_converter import (
    _generate_plugin_converter,
    generate_plugin_converter,
)
from torch_tensorrt.dynamo.conversion.plugins._registry import RegistrationHandle
from torch_tensorrt.dynamo.conversion.plugins._runtime import PluginRuntimeError
from torch_tensorrt.dynamo.conversion.plugins._saved import (
    MissingPluginsError,
    SavedPlugin,
    prepare_load,
    saved_plugins,
)
from torch_tensorrt.dynamo.conversion.plugins._status import (
    CompileReport,
    PluginStatus,
    plugin_status,
)
from torch_tensorrt.dynamo.conversion.plugins._version import __version__

__all__ = [
    "custom_op",
    "explain",
    "Explanation",
    "generate_plugin",
    "generate_plugin_converter",
    "PluginGenerationError",
    "UnsupportedOpError",
    "RegistrationHandle",
    "PluginRuntimeError",
    "PluginStatus",
    "CompileReport",
    "plugin_status",
    "prepare_load",
    "saved_plugins",
    "SavedPlugin",
    "MissingPluginsError",
]
