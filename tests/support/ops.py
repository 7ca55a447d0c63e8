"""Torch ops defined by one test and destroyed after it (so tests stay independent)."""

from typing import Any, Callable, List, Optional, Tuple

import torch


class DefinedOps:
    """Defines torch ops for one test; ``destroy()`` removes them again."""

    def __init__(self) -> None:
        self._custom: List[str] = []
        self._libraries: List[torch.library.Library] = []

    def custom(
        self,
        qualname: str,
        fn: Callable[..., Any],
        fake: Optional[Callable[..., Any]] = None,
        mutates_args: Tuple[str, ...] = (),
    ) -> torch._ops.OpOverload:
        """A ``torch.library.custom_op`` (with ``fake`` as its fake kernel); returns its default overload."""
        return self.custom_packet(qualname, fn, fake, mutates_args).default

    def custom_packet(
        self,
        qualname: str,
        fn: Callable[..., Any],
        fake: Optional[Callable[..., Any]] = None,
        mutates_args: Tuple[str, ...] = (),
    ) -> Any:
        """As ``custom`` but returns the op packet (``torch.ops.ns.name``)."""
        op = torch.library.custom_op(qualname, fn, mutates_args=mutates_args)
        self._custom.append(qualname)
        if fake is not None:
            op.register_fake(fake)
        ns, name = qualname.split("::")
        return getattr(getattr(torch.ops, ns), name)

    def library(self, namespace: str) -> torch.library.Library:
        """A FRAGMENT library for ``Library.define`` schemas custom_op cannot express."""
        lib = torch.library.Library(namespace, "FRAGMENT")
        self._libraries.append(lib)
        return lib

    def destroy(self) -> None:
        from torch._library.custom_ops import OPDEF_TO_LIB

        for qualname in reversed(self._custom):
            lib = OPDEF_TO_LIB.pop(qualname, None)
            if lib is not None:
                lib._destroy()
        for lib in reversed(self._libraries):
            lib._destroy()
