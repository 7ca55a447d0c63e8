"""Imported by ``trt_standin.pth`` at interpreter start: installs the native-core finder.

Cheap on purpose (no torch, no numpy): it only puts a meta-path finder in place. The stand-in core is
imported later, and only if ``tensorrt_bindings.tensorrt`` is imported and the real one cannot load.
"""

from trt_standin._finder import install as _install

_install()
