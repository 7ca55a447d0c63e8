"""The JIT implementation: run the op for TensorRT's ``enqueue``, on TensorRT's stream.

For each call identity seen at enqueue (attribute encodings, input shapes and dtypes) the runtime
picks once, then reuses, the cheapest way to get the op's result into TensorRT's output buffers:

1. a captured Triton launch (``_capture``): when the op's body is a single Triton kernel launch,
   the kernel is launched directly with TensorRT's buffer pointers; nothing is allocated or copied;
2. the op's ``out=`` overload, called with TensorRT's output buffers as ``out``;
3. otherwise the op is called and its results are copied into TensorRT's output buffers (one
   allocation and one device copy per output per call; logged once per op at INFO).

NOTE: [Fake and real]
TensorRT sizes its buffers from the fake kernel; the op's real body decides what is written. The
runtime never lets a disagreement pass silently:

* before the first run of an identity, TensorRT's output buffers (count, shapes, dtypes) must be
  what the fake kernel gives for exactly those inputs;
* whenever the op itself runs (strategies 2 and 3), what it returns must match TensorRT's buffers
  before anything is copied;
* a chosen strategy is used only while the op's definition and the kernel bindings of its capture
  are unchanged (a notebook cell re-run makes it choose again);
* with verification on (``custom_op(..., verify=True)`` or ``TORCH_TRT_PLUGINS_VERIFY=1``), the
  first enqueue of every identity also runs the op eagerly and compares values;
* an exception from the op's body becomes a ``PluginRuntimeError`` naming op, layer and shapes.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from . import _attributes, _buffers, _dtypes
from ._identity import CallKey, DefinitionWatch, TensorSignature, definition_of
from ._launch import CaptureUnsafe
from ._modes import callback_context

_len_dispatch_stack = torch._C._len_torch_dispatch_stack
from ._symbolic import _call_arguments
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)

#: How one call identity is executed: (inputs, outputs, stream) -> None.
Strategy = Callable[[Sequence[Any], Sequence[Any], int], None]

VERIFY_ENV = "TORCH_TRT_PLUGINS_VERIFY"


class PluginRuntimeError(RuntimeError):
    """The op cannot run correctly for what TensorRT gave it, or its body failed (see message)."""


def verification_requested() -> bool:
    """Whether ``TORCH_TRT_PLUGINS_VERIFY`` asks for verification of every generated plugin."""
    return os.environ.get(VERIFY_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def out_overload_for(variant: PluginVariant) -> Optional[torch._ops.OpOverload]:
    """The op's ``out=`` overload if TensorRT's output buffer can be passed to it, else None.

    Usable only when the op has one output and ``ns::op.out`` takes exactly this overload's
    arguments (same names and types, in order) plus one keyword-only ``Tensor(a!) out``. Any other
    ``out`` overload is ignored (with a DEBUG log line saying why) and the copy strategy is used.
    """
    spec = variant.spec
    packet = getattr(getattr(torch.ops, spec.namespace), spec.name)
    if (
        spec.num_outputs != 1
        or spec.mutated
        or spec.overload == "out"
        or "out" not in packet.overloads()
    ):
        return None
    overload: torch._ops.OpOverload = packet.out
    base = [(a.name, str(a.type), a.kwarg_only) for a in variant.op._schema.arguments]
    args = list(overload._schema.arguments)
    last = args[-1] if args else None
    fits = (
        last is not None
        and last.name == "out"
        and last.kwarg_only
        and str(last.type) == "Tensor"
        and last.alias_info is not None
        and last.alias_info.is_write
        and [(a.name, str(a.type), a.kwarg_only) for a in args[:-1]] == base
    )
    if not fits:
        _LOGGER.debug(
            "%s: ignoring %s (expected the default overload's arguments plus '*, Tensor(a!) out'); "
            "enqueue will copy the op's result instead",
            variant.plugin_id,
            overload._schema,
        )
        return None
    return overload


class _Entry:
    """A chosen strategy and the test that it is still valid."""

    __slots__ = ("run", "name", "valid")

    def __init__(self, run: Strategy, name: str, valid: Callable[[], bool]) -> None:
        self.run = run
        self.name = name
        self.valid = valid


class JitRuntime:
    """Callable given to QDP's impl: ``runtime(inputs, raw_attributes, outputs, stream)``."""

    MAX_STRATEGIES = 1024

    # NOTE: [Devices]
    # An engine runs on one device, and TensorRT's buffers and stream belong to it; the current
    # device of the calling thread may be another (two engines on two GPUs in one process). Every
    # enqueue therefore works on the device of TensorRT's buffers (the driver's pointer attribute):
    # strategies are chosen per device (a compiled Triton kernel is loaded per device), torch views
    # and streams are made on it, and the launch runs with it current. With one visible device the
    # answer is kept per stream handle; with several it is asked at every enqueue (about a
    # microsecond), because a destroyed stream's handle may come back as a stream of another device.

    def __init__(self, variant: PluginVariant, record: Any) -> None:
        self.variant = variant
        self.record = (
            record  # _registry.PluginRecord: launch plans, verify flag, layer names
        )
        self._decoded: Dict[Tuple[Any, ...], Tuple[Any, ...]] = {}
        self._last_raw: Optional[
            Tuple[Tuple[Any, ...], Tuple[Any, ...], Tuple[Any, ...]]
        ] = None
        self._entries: Dict[Tuple[Any, ...], _Entry] = {}
        self._last_hit: Optional[Tuple[Any, Any, Any, Any, _Entry]] = None
        self._streams: Dict[Tuple[int, int], Any] = {}
        #: TensorRT's stream handle -> the device it runs on (that of its buffers; NOTE [Devices]).
        self._stream_devices: Dict[int, torch.device] = {}
        self._one_device: Optional[bool] = None  # at most one visible CUDA device
        self._local = (
            threading.local()
        )  # the device of the enqueue running on this thread
        self._lock = threading.Lock()
        self._copy_logged = False
        self._out_overload = out_overload_for(variant)
        #: Strategy names chosen so far (for tests, logs and plugin_status): key -> "launch" | "out" | "copy".
        self.chosen: Dict[Tuple[Any, ...], str] = {}
        #: What CUDA graph captures saw, per key (for plugin_status): "chosen inside a capture", or
        #: the error of an enqueue a capture made fail. Written off the hot path only (a strategy
        #: choice, an error).
        self.capture_events: Dict[Tuple[Any, ...], str] = {}

    # -- entry point ------------------------------------------------------------------------
    def __call__(
        self,
        inputs: Sequence[Any],
        raw_attributes: Sequence[Any],
        outputs: Sequence[Any],
        stream: int,
    ) -> None:
        if _len_dispatch_stack():  # a fake or dispatch mode on this thread (see _modes)
            with callback_context():
                return self._enqueue(inputs, raw_attributes, outputs, stream)
        return self._enqueue(inputs, raw_attributes, outputs, stream)

    def _enqueue(
        self,
        inputs: Sequence[Any],
        raw_attributes: Sequence[Any],
        outputs: Sequence[Any],
        stream: int,
    ) -> None:
        # The hot path: everything here runs on every TensorRT enqueue.
        last = self._last_raw
        if (
            last is not None
            and len(last[0]) == len(raw_attributes)
            and all(a is b for a, b in zip(last[0], raw_attributes))
        ):
            attribute_key = last[2]
        else:
            attribute_key = self._decode(raw_attributes)[1]
        shapes = tuple([tuple(t.shape) for t in inputs])
        dtypes = tuple([t.dtype for t in inputs])
        device = self._stream_devices.get(stream)
        if device is None:
            device = self._device_of(stream, inputs, outputs)
        self._local.device = device
        hit = (
            self._last_hit
        )  # a layer enqueued again with what it had last time: no hashing
        entry: Optional[_Entry]
        if (
            hit is not None
            and hit[0] is attribute_key
            and hit[1] == shapes
            and hit[2] == dtypes
            and hit[3] == device
        ):
            entry = hit[4]
        else:
            entry = self._entries.get((attribute_key, shapes, dtypes, device))
        if entry is None or not entry.valid():
            entry = self._choose(
                (attribute_key, shapes, dtypes, device),
                self._decode(raw_attributes)[0],
                shapes,
                inputs,
                outputs,
                stream,
            )
        self._last_hit = (attribute_key, shapes, dtypes, device, entry)
        try:
            if device.type == "cuda" and torch.cuda.current_device() != device.index:
                with torch.cuda.device(device):  # Triton launches on the current device
                    entry.run(inputs, outputs, stream)
            else:
                entry.run(inputs, outputs, stream)
        except PluginRuntimeError:
            raise
        except CaptureUnsafe as e:
            self._capture_failed(
                (attribute_key, shapes, dtypes, device),
                f"failed inside a CUDA graph capture: {e}",
            )
            raise PluginRuntimeError(
                f"{self.variant.plugin_id}: cannot enqueue inside a CUDA graph capture: {e}"
            ) from None
        except Exception as e:
            hint = self._capture_hint(e, stream)
            if hint:
                self._capture_failed(
                    (attribute_key, shapes, dtypes, device),
                    f"failed inside a CUDA graph capture: {type(e).__name__}: {e}",
                )
            raise self._body_error(e, attribute_key, shapes, inputs, hint) from e

    def _capture_failed(self, key: Tuple[Any, ...], event: str) -> None:
        """Record a capture's failure for plugin_status until the next enqueue of ``key``, which
        chooses its strategy again (and says whether that one ran inside a capture)."""
        with self._lock:
            self.capture_events[key] = event
            self._entries.pop(key, None)
            self._last_hit = None

    def _decode(
        self, raw_attributes: Sequence[Any]
    ) -> Tuple[Tuple[Any, ...], Tuple[Any, ...]]:
        """(canonical values, exact key) of QDP's attribute objects."""
        # QDP passes the same attribute objects on every enqueue of a plugin: check identity first.
        last = self._last_raw
        if (
            last is not None
            and len(last[0]) == len(raw_attributes)
            and all(a is b for a, b in zip(last[0], raw_attributes))
        ):
            return last[1], last[2]
        raw_key = tuple(
            r.tobytes() if hasattr(r, "tobytes") else r for r in raw_attributes
        )
        decoded = self._decoded.get(raw_key)
        if decoded is None:
            decoded = _attributes.decode_all(self.variant.attributes, raw_attributes)
            self._decoded[raw_key] = decoded
        self._last_raw = (tuple(raw_attributes), decoded, raw_key)
        return decoded, raw_key

    # -- choosing a strategy ----------------------------------------------------------------
    def _choose(
        self,
        key: Tuple[Any, ...],
        attributes: Tuple[Any, ...],
        shapes: Tuple[Tuple[int, ...], ...],
        inputs: Sequence[Any],
        outputs: Sequence[Any],
        stream: int = 0,
    ) -> _Entry:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.valid():
                return entry
            definition = definition_of(self.variant.op)
            watch = DefinitionWatch(definition)
            dtypes = [_dtypes.to_torch(t.dtype) for t in inputs]
            call_key, program = self._program_for(
                attributes, shapes, dtypes, definition
            )
            own = self.variant.spec.num_outputs  # then the hidden outputs (``_hidden``)
            self._check_buffers(program, shapes, outputs[:own])
            strategy: Optional[Strategy] = None
            name = "copy"
            bindings: Tuple[Any, ...] = ()
            plan = (
                None
                if program.sizes  # the size tensors come from the op's result
                else self.record.launch_plans.plan(
                    self.variant, call_key, program, shapes, outputs
                )
            )
            if plan is not None:
                strategy, name = plan.strategy(self), "launch"
                bindings = plan.captured.bindings
            valid = _guard(watch, bindings)
            if plan is not None and plan.captured.alternatives:
                bound, captured = valid, plan.captured
                valid = lambda: bound() and captured.configs_current()  # noqa: E731
            if strategy is None and self._out_overload is not None:
                strategy, name = self._out_strategy(attributes), "out"
            if strategy is None and program.sizes:
                strategy = self._sized_strategy(attributes, program)
            if strategy is None:
                strategy = self._copy_strategy(attributes)
                if not self._copy_logged:
                    self._copy_logged = True
                    _LOGGER.info(
                        "%s: TensorRT enqueue runs the op and copies its outputs into TensorRT's buffers "
                        "(no single captured Triton launch and no out= overload)",
                        self.variant.plugin_id,
                    )
            if self.record.verify or verification_requested():
                strategy = self._verified(strategy, name, attributes, call_key)
            if (
                len(self._entries) >= self.MAX_STRATEGIES
            ):  # bounded for workloads with many shapes
                oldest = next(iter(self._entries))
                del self._entries[oldest]
                self.chosen.pop(oldest, None)
                self.capture_events.pop(oldest, None)
            entry = self._entries[key] = _Entry(strategy, name, valid)
            self.chosen[key] = name
            self._note_capture(key, stream)
            return entry

    def _note_capture(self, key: Tuple[Any, ...], stream: int) -> None:
        """Record that ``key``'s strategy was chosen inside a CUDA graph capture (plugin_status)."""
        try:
            with self.stream_context(stream):
                capturing = self.capturing()
        except Exception:  # a stream torch cannot wrap: nothing to report
            capturing = False
        if capturing:
            self.capture_events[key] = "chosen inside a CUDA graph capture"
        else:
            self.capture_events.pop(key, None)

    def _program_for(
        self,
        attributes: Tuple[Any, ...],
        shapes: Tuple[Tuple[int, ...], ...],
        dtypes: Sequence[torch.dtype],
        definition: Any,
    ) -> Tuple[CallKey, Any]:
        """(call key, program) covering these concrete shapes: a cached one whose static sizes and
        guards fit (normally the one the engine was built from), else a trace for exactly them.
        """
        exact = self.variant.call_key(
            [TensorSignature(dt, tuple(s)) for dt, s in zip(dtypes, shapes)],
            attributes,
            definition,
        )
        slots = self.variant.tensor_slots()
        found = self.variant.programs.matching(
            exact, [None if s is None else shapes[s] for s in slots]
        )
        if found is not None:
            return found
        return exact, self.variant.programs.get_or_trace(
            "generate_plugin", self.variant.spec, self.variant.op, exact
        )

    def _check_buffers(
        self, program: Any, shapes: Tuple[Tuple[int, ...], ...], outputs: Sequence[Any]
    ) -> None:
        """TensorRT's output buffers must be what the fake kernel gives for these inputs.

        Once per identity: ``program`` covers these shapes (its guards hold for them), so its
        outputs are the fake kernel's answer; TensorRT's buffers must equal them in number, shapes
        and dtypes.
        """
        slots = self.variant.tensor_slots()
        expected_shapes = tuple(
            program.concrete_shapes([None if s is None else shapes[s] for s in slots])
        )
        expected = [
            (tuple(s), o.dtype) for s, o in zip(expected_shapes, program.outputs)
        ]
        got = [
            (tuple(int(d) for d in o.shape), _dtypes.to_torch(o.dtype)) for o in outputs
        ]
        if expected != got:
            raise PluginRuntimeError(
                f"{self.variant.plugin_id}: TensorRT's output buffers are {_describe(got)} for input shapes "
                f"{list(shapes)}, but the fake kernel gives {_describe(expected)} for them. Either the engine's "
                "shape formula does not hold for these sizes (rebuild with an optimization profile whose sizes "
                "satisfy the fake kernel's conditions, or make the fake kernel general), or the fake kernel was "
                "registered again after the engine was built (rebuild the engine)"
            )

    # -- strategies -------------------------------------------------------------------------
    def device(self) -> torch.device:
        """The device of the enqueue running on this thread (that of TensorRT's buffers)."""
        device = getattr(self._local, "device", None)
        return device if device is not None else _buffers.trt_device()

    def _device_of(
        self, stream: int, inputs: Sequence[Any], outputs: Sequence[Any]
    ) -> torch.device:
        """The device of TensorRT's buffers for an enqueue on ``stream`` (cached per stream where
        at most one device is visible, NOTE [Devices]; never for stream 0, each device's default).
        """
        buffers = list(inputs) + list(outputs)
        device = _buffers.trt_device(buffers[0].data_ptr if buffers else None)
        if self._one_device is None:
            self._one_device = torch.cuda.device_count() <= 1
        if stream and self._one_device:
            self._stream_devices[int(stream)] = device
        return device

    def capturing(self) -> bool:
        """Whether torch's current stream (TensorRT's, inside ``stream_context``) is being
        captured into a CUDA graph."""
        return self.device().type == "cuda" and bool(
            torch.cuda.is_current_stream_capturing()
        )

    def as_torch(self, t: Any) -> torch.Tensor:
        return _buffers.trt_tensor_as_torch(t, _dtypes.to_torch(t.dtype), self.device())

    @staticmethod
    def torch_dtype(t: Any) -> torch.dtype:
        return _dtypes.to_torch(t.dtype)

    def stream_context(self, stream: int) -> Any:
        """Context that makes torch work on TensorRT's stream (a no-op off CUDA)."""
        device = self.device()
        if device.type != "cuda":
            return _NullContext()
        key = (device.index or 0, int(stream))
        s = self._streams.get(key)
        if s is None:
            s = self._streams[key] = torch.cuda.ExternalStream(int(stream), device=device)  # type: ignore[no-untyped-call]
        return torch.cuda.stream(s)

    def _call_op(
        self, attributes: Tuple[Any, ...], inputs: Sequence[Any], **extra: Any
    ) -> Any:
        args, kwargs = _call_arguments(
            self.variant.spec, self._tensors(inputs), attributes
        )
        kwargs.update(extra)
        return args, kwargs

    def _out_strategy(self, attributes: Tuple[Any, ...]) -> Strategy:
        out_overload = self._out_overload
        assert out_overload is not None

        def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
            with self.stream_context(stream):
                target = self.as_torch(outputs[0])
                args, kwargs = self._call_op(attributes, inputs, out=target)
                result = out_overload(*args, **kwargs)
                if (
                    isinstance(result, torch.Tensor)
                    and result.data_ptr() != target.data_ptr()
                ):
                    self._check_results([result], outputs[:1])
                    target.copy_(result)

        return run

    def _copy_strategy(self, attributes: Tuple[Any, ...]) -> Strategy:
        n_out = self.variant.spec.num_outputs

        def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
            with self.stream_context(stream):
                results = self._results(attributes, inputs, outputs[:n_out])
                self._check_results(results, outputs[:n_out])
                for dst, src in zip(outputs, results):
                    target = self.as_torch(dst)
                    if src.data_ptr() != target.data_ptr():
                        target.copy_(src)

        return run

    def _sized_strategy(self, attributes: Tuple[Any, ...], program: Any) -> Strategy:
        """Run the op; copy each result to the start of TensorRT's buffer (allocated at the
        bound) and write each data-dependent size into its size tensor output."""
        spec = self.variant.spec
        n_out = spec.num_outputs
        first = n_out + self.variant.hidden_outputs  # the size tensors come last
        dependent = {(o, a): k for o, a, k in program.data_dependent}

        def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
            with self.stream_context(stream):
                results = self._results(attributes, inputs)
                values: Dict[int, int] = {}
                for index, (result, buffer) in enumerate(zip(results, outputs[:n_out])):
                    bound = tuple(int(d) for d in buffer.shape)
                    got = (
                        tuple(result.shape)
                        if isinstance(result, torch.Tensor)
                        else None
                    )
                    fits = got is not None and len(got) == len(bound)
                    for axis, (g, b) in enumerate(zip(got or (), bound)):
                        k = dependent.get((index, axis))
                        if k is None:
                            fits = fits and g == b
                        else:
                            fits = fits and 0 <= g <= b and values.setdefault(k, g) == g
                    if not fits or result.dtype != _dtypes.to_torch(buffer.dtype):
                        raise PluginRuntimeError(
                            f"{spec.display}: output {index} is {got} "
                            f"{getattr(result, 'dtype', '')}, which does not fit TensorRT's buffer "
                            f"{bound} {_dtypes.to_torch(buffer.dtype)} (the fake kernel's shape, "
                            "data-dependent sizes at their bound, equal where one size is used twice)"
                        )
                    target = self.as_torch(buffer).reshape(-1)
                    target[: result.numel()].copy_(result.reshape(-1))
                for k, value in values.items():
                    self.as_torch(outputs[first + k]).fill_(value)

        return run

    def _results(
        self,
        attributes: Tuple[Any, ...],
        inputs: Sequence[Any],
        outputs: Optional[Sequence[Any]] = None,
    ) -> Tuple[Any, ...]:
        """Run the op; its plugin outputs: what it returns, then each mutated argument's new value.

        TensorRT's input buffers are never written: a mutated argument is first copied into its
        output buffer (``outputs`` given) or into a fresh tensor, and the op mutates that.
        """
        spec = self.variant.spec
        if not spec.mutated:
            args, kwargs = self._call_op(attributes, inputs)
            result = self.variant.op(*args, **kwargs)
            return (
                tuple(result)
                if spec.num_outputs > 1 and isinstance(result, (tuple, list))
                else (result,)
            )
        tensors = dict(zip([a.name for a in spec.tensor_args], self._tensors(inputs)))
        written = []
        for i, name in enumerate(spec.mutated):
            source = tensors[name]
            assert source is not None  # a mutated argument is a plain Tensor (_schema)
            if outputs is not None:
                target = self.as_torch(outputs[spec.num_returns + i])
                target.copy_(source)
            else:
                target = source.clone()
            written.append(target)
        renamed = dict(zip(spec.mutated, written))
        args, kwargs = _call_arguments(
            spec,
            [None if t is None else renamed.get(n, t) for n, t in tensors.items()],
            attributes,
        )
        result = self.variant.op(*args, **kwargs)
        if spec.num_returns == 0:
            returned: Tuple[Any, ...] = ()
        elif spec.num_returns == 1:
            returned = (result,)
        else:
            returned = tuple(result)
        return returned + tuple(written)

    def _tensors(self, inputs: Sequence[Any]) -> List[Optional[torch.Tensor]]:
        it = iter(inputs)
        return [
            None if slot is None else self.as_torch(next(it))
            for slot in self.variant.tensor_slots()
        ]

    def _check_results(self, results: Sequence[Any], outputs: Sequence[Any]) -> None:
        """What the op returned must be what TensorRT's buffers (i.e. the fake kernel) say: count,
        shapes and dtypes, before anything is copied (see NOTE [Fake and real])."""
        fake = [
            (tuple(int(d) for d in o.shape), _dtypes.to_torch(o.dtype)) for o in outputs
        ]
        real = [
            (
                (tuple(r.shape), r.dtype)
                if isinstance(r, torch.Tensor)
                else (type(r).__name__, None)
            )
            for r in results
        ]
        if fake == real:
            return
        if len(fake) != len(real):
            where = (
                f"returned {len(real)} outputs where the fake kernel says {len(fake)}"
            )
        else:
            index = next(i for i, (f, r) in enumerate(zip(fake, real)) if f != r)
            where = f"output {index} is {_describe_one(real[index])} where the fake kernel says {_describe_one(fake[index])}"
        raise PluginRuntimeError(
            f"{self.variant.spec.display}: the op's real kernel disagrees with its fake kernel: {where}. "
            f"TensorRT built its buffers from the fake kernel (register_fake), so nothing was copied. "
            "Make the fake kernel return what the op returns (shape and dtype) for these inputs."
        )

    def _verified(
        self,
        strategy: Strategy,
        name: str,
        attributes: Tuple[Any, ...],
        call_key: CallKey,
    ) -> Strategy:
        """``strategy``, checked against an eager run of the op on its first call (see NOTE [Fake and real])."""
        state = {"verified": False}
        n_out = self.variant.spec.num_outputs

        def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
            strategy(inputs, outputs, stream)
            if state["verified"]:
                return
            with self.stream_context(stream):
                results = self._results(attributes, inputs)
                self._check_results(results, outputs[:n_out])
                for index, (dst, expected) in enumerate(zip(outputs, results)):
                    got = self.as_torch(dst)
                    try:
                        torch.testing.assert_close(got, expected, equal_nan=True)
                    except AssertionError as e:
                        raise PluginRuntimeError(
                            f"{self.variant.spec.display}: verification failed for {call_key.describe(self.variant.spec)}: "
                            f"output {index} of the '{name}' enqueue strategy differs from running the op: "
                            f"{str(e).strip().splitlines()[0]}"
                        ) from None
            state["verified"] = True
            _LOGGER.info(
                "%s: verified the '%s' enqueue against the op for %s",
                self.variant.plugin_id,
                name,
                call_key.describe(self.variant.spec),
            )

        return run

    # -- errors ------------------------------------------------------------------------------
    def _body_error(
        self,
        error: Exception,
        attribute_key: Tuple[Any, ...],
        shapes: Any,
        inputs: Sequence[Any],
        hint: str = "",
    ) -> PluginRuntimeError:
        layers = self.record.layers.get((self.variant.plugin_id, attribute_key), [])
        layer = (
            (f"layer {layers[0]}" if len(layers) == 1 else f"one of layers {layers}")
            if layers
            else "a layer"
        )
        dtypes = [str(_dtypes.to_torch(t.dtype)).replace("torch.", "") for t in inputs]
        return PluginRuntimeError(
            f"{self.variant.spec.display}: the op failed in TensorRT's enqueue of {layer} (plugin "
            f"{self.variant.plugin_id}) for input shapes {list(shapes)} and dtypes {dtypes}: "
            f"{type(error).__name__}: {error}{hint}"
        )

    def _capture_hint(self, error: Exception, stream: int) -> str:
        try:
            with self.stream_context(stream):
                capturing = self.capturing()
        except (
            Exception
        ):  # a capture the error invalidated still says "capturing" in the error
            capturing = False
        if not (capturing or "capturing" in str(error)):
            return ""
        strategies = sorted(set(self.chosen.values()))
        return (
            ". This enqueue ran inside a CUDA graph capture (torch_tensorrt.runtime."
            "enable_cudagraphs captures the first call of every shape), which forbids what the op's "
            "body did (a host synchronisation or read such as .item() or .cpu(), a copy from "
            f"pageable host memory, a first-time kernel compile). Enqueue strategies here: {strategies}; "
            "only 'launch' (the captured Triton launch) does nothing a capture forbids. Make the body "
            "a single Triton launch (plugin_status(op).direct_launch_unavailable says why it is not), "
            "or run the module once per shape before capturing"
        )


def _guard(watch: DefinitionWatch, bindings: Sequence[Any]) -> Callable[[], bool]:
    """A strategy's validity test for the hot path: the op's fake kernel and body, and every name
    by which the captured body reached its kernel, are still the ones it was chosen for.

    The same tests as ``DefinitionWatch.holds`` and ``KernelBinding.holds``, unrolled into one
    closure over local references (this runs before every enqueue).
    """
    opdef = watch._opdef
    fake, body = watch.definition.fake, watch.definition.body
    by_name = tuple(
        (b.namespace, b.name, b.target) for b in bindings if b.name is not None
    )
    cells = tuple((b.namespace, b.target) for b in bindings if b.name is None)
    if opdef is None:  # not a custom_op: only its fake kernel can change
        return watch.holds
    missing = object()

    def valid() -> bool:
        if (
            opdef._abstract_fn is not fake
            or (opdef._backend_fns.get("cuda") or opdef._init_fn) is not body
        ):
            return False
        for namespace, name, target in by_name:
            if namespace.get(name, missing) is not target:
                return False
        for cell, target in cells:
            try:
                if cell.cell_contents is not target:
                    return False
            except ValueError:
                return False
        return True

    return valid


def _describe_one(output: Tuple[Any, Any]) -> str:
    shape, dtype = output
    return (
        f"a {shape}"
        if dtype is None
        else f"{str(dtype).replace('torch.', '')}{list(shape)}"
    )


def _describe(outputs: Sequence[Tuple[Any, Any]]) -> str:
    return "(" + ", ".join(_describe_one(o) for o in outputs) + ")"


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None
