"""Fixtures for the plugin-generator tests."""

import pytest


@pytest.fixture(scope="session")
def catalogue_plugins():
    """custom_op(...) for every catalogue op, once per test process."""
    from support import catalogue
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    handles = [custom_op(name) for name in catalogue.OP_NAMES]
    yield catalogue
    for h in handles:
        h.remove()
