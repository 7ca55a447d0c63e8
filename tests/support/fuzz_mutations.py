"""Mutations that each revert one fix of issue 8, to show the fuzzer finds the defect it fixed.

``applied(name)`` patches the library for the duration of a ``with`` block; ``""`` applies nothing.
Used only by test_fuzz.py when ``PLUGINS_FUZZ_MUTATION`` names one of ``MUTATIONS`` (see
tools/fuzz_mutations.sh); never in a normal test run.
"""

import contextlib
from typing import Any, Callable, Dict, Iterator, List, Tuple


def _dtype_blind_strategies(patch: Callable[..., None]) -> None:
    """Symptom 1: JIT strategies keyed by (attributes, shapes) only, as before."""
    from torch_tensorrt.dynamo.conversion.plugins import _runtime

    def call(
        self: Any, inputs: Any, raw_attributes: Any, outputs: Any, stream: int
    ) -> None:
        attributes, attribute_key = self._decode(raw_attributes)
        shapes = tuple(tuple(t.shape) for t in inputs)
        key = (attribute_key, shapes, ())  # the dtypes left out
        entry = self._entries.get(key)
        if entry is None:
            entry = self._choose(key, attributes, shapes, inputs, outputs)
        entry.run(inputs, outputs, stream)

    patch(_runtime.JitRuntime, "__call__", call)


def _name_keyed_registry(patch: Callable[..., None]) -> None:
    """Symptom 2: plugins keyed and named by "ns::name", whatever the overload."""
    from torch_tensorrt.dynamo.conversion.plugins import _schema

    patch(
        _schema.OpSpec,
        "key",
        property(lambda self: f"{self.namespace}::{self.name}.default"),
    )
    original = _schema.OpSpec.plugin_name

    def plugin_name(self: Any, absent: Any = frozenset(), aot: bool = False) -> str:
        import dataclasses

        return original(dataclasses.replace(self, overload="default"), absent, aot)

    patch(_schema.OpSpec, "plugin_name", plugin_name)


def _value_equal_attributes(patch: Callable[..., None]) -> None:
    """Symptom 3: attribute identity by Python equality (-0.0 == 0.0, NaN != NaN)."""
    from torch_tensorrt.dynamo.conversion.plugins import _attributes, _identity

    def from_encoded(arg: Any, encoded: Any) -> Any:
        return _identity.AttributeKey(arg.type_str, _attributes.decode(arg, encoded))  # type: ignore[arg-type]

    patch(_identity.AttributeKey, "from_encoded", staticmethod(from_encoded))

    def decode(self: Any, raw_attributes: Any) -> Tuple[Any, Any]:
        values = _attributes.decode_all(self.variant.attributes, raw_attributes)
        return values, values  # strategies keyed by the decoded values

    from torch_tensorrt.dynamo.conversion.plugins import _runtime

    patch(_runtime.JitRuntime, "_decode", decode)


def _single_capture(patch: Callable[..., None]) -> None:
    """Symptom 4: the body captured once, so values read from Python state are frozen."""
    from torch_tensorrt.dynamo.conversion.plugins import _capture

    patch(_capture, "_difference", lambda a, b: None)


def _unchecked_results(patch: Callable[..., None]) -> None:
    """Symptom 5: what the op returns is copied into TensorRT's buffers unchecked."""
    from torch_tensorrt.dynamo.conversion.plugins import _runtime

    patch(_runtime.JitRuntime, "_check_results", lambda self, results, outputs: None)


MUTATIONS: Dict[str, Callable[[Callable[..., None]], None]] = {
    "dtype_blind_strategies": _dtype_blind_strategies,
    "name_keyed_registry": _name_keyed_registry,
    "value_equal_attributes": _value_equal_attributes,
    "single_capture": _single_capture,
    "unchecked_results": _unchecked_results,
}


@contextlib.contextmanager
def applied(name: str) -> Iterator[str]:
    """Apply mutation ``name`` ("" for none) until the block ends."""
    if not name:
        yield ""
        return
    if name not in MUTATIONS:
        raise ValueError(
            f"unknown mutation {name!r}; expected one of {sorted(MUTATIONS)}"
        )
    undo: List[Tuple[Any, str, Any]] = []

    def patch(owner: Any, attr: str, value: Any) -> None:
        undo.append(
            (
                owner,
                attr,
                (
                    owner.__dict__[attr]
                    if isinstance(owner, type)
                    else getattr(owner, attr)
                ),
            )
        )
        setattr(owner, attr, value)

    MUTATIONS[name](patch)
    try:
        yield name
    finally:
        for owner, attr, value in reversed(undo):
            setattr(owner, attr, value)
