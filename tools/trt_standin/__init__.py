"""A TensorRT stand-in for machines where the TensorRT library cannot load. Test machinery only.

The project's library never imports this package. It exists so that the tests (and the examples on
a CPU machine) can run NVIDIA's real, unmodified QDP Python layer and the released Torch-TensorRT
compile pipeline where ``libnvinfer`` is not installable:

* ``core``: a pure-Python replacement for the native module ``tensorrt_bindings.tensorrt``;
  served by the finder in ``_finder`` only when the real one cannot load.
* ``host``: drives a QDP plugin through its lifecycle the way TensorRT does.
* ``core`` network/builder/runtime classes: a network builder and engine executor good enough for the
  upstream dynamo pipeline on small models.
* ``assumptions``: every behaviour assumed about closed-source TensorRT, named, with its source.
* ``cpu_torch``: patches of upstream's CUDA-only calls, for a CPU-only torch (tests only).
"""

from ._finder import backend, install

__all__ = ["backend", "install"]
