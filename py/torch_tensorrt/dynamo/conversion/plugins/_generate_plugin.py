"""generate_plugin: a TensorRT Quick Deployable Plugin from a PyTorch custom op."""

from __future__ import annotations

from . import _compiles, _registry
from ._qdp import qdp_required
from ._registry import PluginRecord, RegistrationHandle
from ._schema import resolve_op, spec_from_op
from ._symbolic import has_fake_kernel, no_fake_kernel_error

API = "generate_plugin"


@qdp_required
def generate_plugin(plugin_name: str) -> RegistrationHandle:
    """Generate and register the TensorRT QDP plugin for a PyTorch custom op.

    The plugin's output dtypes and shapes come from the op's fake kernel, traced symbolically once
    per (input dtypes, shapes, attribute values) and lowered to TensorRT shape expressions; its
    runtime implementation runs the op on TensorRT's stream and writes into TensorRT's buffers.
    The plugin is registered under the op's name (``"ns::op"``); a named overload, a pattern of
    absent ``Tensor?`` arguments and the ahead-of-time implementation each get a plugin of their
    own (``"ns::op-overload-neg"``, ``"ns::op-without-bias"``, ``"ns::op-aot"``), registered on first use.

    Calling it again for an op whose plugin was generated for the same definition returns the live
    registration; after the op, its fake kernel or its body was redefined (a notebook cell run
    again), it replaces the plugin and logs what changed.

    Args:
        plugin_name: The op, as ``"namespace::op_name"`` (or ``"namespace::op_name.overload"``),
            defined with ``torch.library.custom_op`` (or ``Library.define``) and with a fake kernel
            (``torch.library.register_fake``).

    Returns:
        A handle; ``handle.remove()`` unregisters the plugin (and its variants) again.

    Raises:
        ValueError: The name is malformed, the op is unknown, has no fake kernel, or a hand-written
            plugin already uses the name.
        UnsupportedOpError: An argument or return kind cannot be a plugin parameter (the message
            names the argument and lists the supported kinds).

    Example:
        >>> import torch
        >>> from torch_tensorrt.dynamo.conversion.plugins import generate_plugin
        >>> @torch.library.custom_op("doc_ex::scale", mutates_args=())
        ... def scale(x: torch.Tensor, factor: float = 2.0) -> torch.Tensor:
        ...     return x * factor
        >>> @torch.library.register_fake("doc_ex::scale")
        ... def _(x, factor=2.0):
        ...     return torch.empty_like(x)
        >>> handle = generate_plugin("doc_ex::scale")
        >>> handle.remove()
    """
    return _generate_plugin(plugin_name).handle


def _generate_plugin(
    plugin_name: str, *, api: str = API, verify: bool = False
) -> PluginRecord:
    """generate_plugin without the QDP availability check; ``api`` names the caller in errors.

    Returns the live record (its ``handle`` is what generate_plugin returns).
    """
    op = resolve_op(api, plugin_name)
    spec = spec_from_op(api, op)
    if not has_fake_kernel(op):
        raise no_fake_kernel_error(api, spec)
    _compiles.install()
    return _registry.add_plugin(api, spec, op, verify=verify)
