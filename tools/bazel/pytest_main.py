"""Entry point of the Bazel test target: pytest over the workspace's tests/ (as the README's command).

The workspace root comes from ``WORKSPACE_ROOT`` (set by tools/bazel/test.sh through --test_env),
so pytest sees the checkout itself, as the overlay installed in the interpreter does.
"""

import os
import sys

import pytest

if __name__ == "__main__":
    root = os.environ.get("WORKSPACE_ROOT")
    if not root:
        sys.exit(
            "WORKSPACE_ROOT is not set: run the target through tools/bazel/test.sh"
        )
    os.chdir(root)
    sys.exit(pytest.main(["-n", "2", "-p", "no:cacheprovider", *sys.argv[1:]]))
