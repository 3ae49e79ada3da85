import pytest
import torch

from mtml_lib import device as dev


def test_auto_is_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    assert dev.get_device("auto") == torch.device("cpu")
    assert dev.get_device(None) == torch.device("cpu")
    assert dev.available_devices() == ["cpu"]


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert dev.get_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dev.get_device("auto").type == "mps"


def test_environment_variable_overrides_auto_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    monkeypatch.setenv("MTML_DEVICE", "cpu")
    assert dev.get_device("auto") == torch.device("cpu")
    # An explicit request is respected as written.
    assert dev.get_device("cuda").type == "cuda"


def test_environment_variable_naming_a_missing_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    monkeypatch.setenv("MTML_DEVICE", "cuda")
    with pytest.raises(
        ValueError,
        match=r"`MTML_DEVICE \(environment variable\)` must be a device available .*got 'cuda'",
    ):
        dev.get_device("auto")


def test_unavailable_and_malformed_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    with pytest.raises(
        ValueError,
        match=r"`device` must be a device available on this machine, one of \['cpu'\]; got 'cuda'",
    ):
        dev.get_device("cuda")
    with pytest.raises(ValueError, match=r"got 'mps'"):
        dev.get_device(torch.device("mps"))
    with pytest.raises(ValueError, match="'gpu0'"):
        dev.get_device("gpu0")
    with pytest.raises(TypeError, match="got int"):
        dev.get_device(0)


def test_cuda_index_beyond_the_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert dev.get_device("cuda:0").index == 0
    with pytest.raises(ValueError, match=r"index < 1; got 'cuda:3'"):
        dev.get_device("cuda:3")


def test_autocast_is_a_no_op_on_cpu():
    a = torch.randn(4, 4)
    with dev.autocast(torch.device("cpu")):
        out = a @ a
    assert out.dtype == torch.float32
    assert torch.equal(out, a @ a)
    assert not dev.supports_bf16(torch.device("cpu"))


def test_autocast_uses_bf16_where_supported(monkeypatch):
    entered = {}

    class FakeAutocast:
        def __init__(self, device_type, dtype):
            entered.update(device_type=device_type, dtype=dtype)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(dev, "supports_bf16", lambda device: True)
    monkeypatch.setattr(torch, "autocast", FakeAutocast)
    with dev.autocast(torch.device("cuda")):
        pass
    assert entered == {"device_type": "cuda", "dtype": torch.bfloat16}
    entered.clear()
    with dev.autocast(torch.device("cuda"), enabled=False):
        pass
    assert entered == {}


def test_no_other_module_looks_at_hardware():
    import pathlib

    package = pathlib.Path(dev.__file__).parent
    offenders = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "device.py"
        and any(
            s in p.read_text(encoding="utf-8")
            for s in (
                "cuda.is_available",
                "mps.is_available",
                "is_bf16_supported",
                "'cuda:0'",
                '"cuda:0"',
                ".cuda()",
            )
        )
    ]
    assert offenders == []
