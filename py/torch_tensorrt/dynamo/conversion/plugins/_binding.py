"""Bind a call site's args and kwargs against the op schema, in one place.

Used twice with the same rules: on the FX node (capability check, where tensors are ``fx.Node``s)
and in the converter (where tensors are TensorRT ITensors or constant tensors). Keyword arguments
are honoured (``b=0.5`` arrives as 0.5; keyword-only attributes are never replaced by defaults),
defaults fill what the call leaves out, unknown names are rejected, and attribute values must be
compile-time constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Mapping, Sequence, Tuple

from . import _attributes
from ._errors import user_error
from ._schema import OpSpec


@dataclass(frozen=True)
class BoundCall:
    """A call site bound to the schema."""

    tensors: Tuple[Any, ...]  # one per tensor argument (schema order); None when absent
    attributes: Tuple[
        Any, ...
    ]  # canonical values, one per attribute argument (schema order)

    @property
    def absent(self) -> Tuple[bool, ...]:
        return tuple(t is None for t in self.tensors)


def bind(
    api: str,
    spec: OpSpec,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    is_tensor: Callable[[Any], bool],
    is_constant: Callable[[Any], bool],
) -> BoundCall:
    """Bind ``args`` / ``kwargs`` to ``spec``; errors name the op and the argument."""
    op = spec.qualname
    positional = [a for a in spec.args if not a.kwarg_only]
    if len(args) > len(positional):
        raise user_error(
            api,
            op,
            "too many positional arguments",
            got=len(args),
            expected=f"at most {len(positional)} ({', '.join(a.name for a in positional)}); schema {spec.schema}",
            cls=TypeError,
        )
    values: Dict[str, Any] = {a.name: v for a, v in zip(positional, args)}
    names = {a.name for a in spec.args}
    for name, value in kwargs.items():
        if name not in names:
            raise user_error(
                api,
                op,
                f"unknown keyword argument '{name}'",
                got=name,
                expected=f"one of {sorted(names)}",
                cls=TypeError,
            )
        if name in values:
            raise user_error(
                api,
                op,
                f"argument '{name}' given both by position and by keyword",
                got=name,
                cls=TypeError,
            )
        values[name] = value
    tensors, attributes = [], []
    for arg in spec.args:
        if arg.name in values:
            value = values[arg.name]
        elif arg.has_default:
            value = arg.default
        else:
            raise user_error(
                api,
                op,
                f"missing required argument '{arg.name}'",
                expected=f"the schema {spec.schema}",
                cls=TypeError,
            )
        if arg.is_tensor:
            if value is None and not arg.optional:
                raise user_error(
                    api,
                    op,
                    f"tensor argument '{arg.name}' is None",
                    got=None,
                    expected="a tensor",
                    cls=TypeError,
                )
            if value is not None and not is_tensor(value):
                raise user_error(
                    api,
                    op,
                    f"argument '{arg.name}' is not a tensor",
                    got=f"{value!r} ({type(value).__name__})",
                    expected=_a(arg.type_str),
                    cls=TypeError,
                )
            tensors.append(value)
            continue
        if not _all_constant(value, is_constant):
            raise user_error(
                api,
                op,
                f"attribute '{arg.name}' is not a compile-time constant",
                got=repr(value),
                expected=f"{_a(arg.type_str)} known when the engine is built (TensorRT plugin attributes are fixed)",
                fix="Compute the value in Python outside the model, or make it a tensor input of the op",
            )
        attributes.append(_attributes.canonical(api, op, arg, value))
    return BoundCall(tuple(tensors), tuple(attributes))


def _a(type_str: str) -> str:
    return ("an " if type_str[:1] in "aeiouAEIOU" else "a ") + type_str


def _all_constant(value: Any, is_constant: Callable[[Any], bool]) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_all_constant(v, is_constant) for v in value)
    return is_constant(value)


def absent_names(spec: OpSpec, call: BoundCall) -> FrozenSet[str]:
    return frozenset(
        a.name for a, t in zip(spec.tensor_args, call.tensors) if t is None
    )
