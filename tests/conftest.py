import os

import matplotlib

# Unit tests draw off-screen. (Notebook kernels choose their own inline backend.)
matplotlib.use("Agg")

import pytest
import torch


@pytest.fixture(autouse=True)
def _no_device_override(monkeypatch):
    """Unit tests choose devices explicitly; a developer's MTML_DEVICE must not leak in."""
    monkeypatch.delenv("MTML_DEVICE", raising=False)


@pytest.fixture
def device():
    """The device the suite runs the device-agnostic tests on: MTML_TEST_DEVICE, else cpu."""
    return torch.device(os.environ.get("MTML_TEST_DEVICE", "cpu"))


@pytest.fixture(scope="session")
def handouts(tmp_path_factory):
    """Both editions' student handouts, built, unpacked outside the checkout and set up
    (tests/testkit/handout.py); built once for the handout and the browser tests."""
    from testkit import handout

    return handout.build(tmp_path_factory.mktemp("handouts"))
