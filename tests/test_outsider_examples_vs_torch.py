"""What PyTorch's own example scripts call, met running pytorch/examples' forward-forward MNIST unchanged:
`torch.xpu.is_available()` in its device choice (gradscope had no torch.xpu: AttributeError; torch.mps likewise)
and `torch.randint(len(choices), size=(1,))` (size by keyword after a lone high: gradscope read the high as low and
failed on int(None)). Each call runs on both libraries: same values from the same seed, same exceptions."""

from __future__ import annotations

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")


def _outcome(call, lib):
    lib.manual_seed(0)
    try:
        value = call(lib)
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return type(error).__name__, str(error)
    return "value", value.numpy().tolist() if isinstance(value, lib.Tensor) else value


DEVICE_CALLS = {
    f"{device}.{name}": (device, name)
    for device, names in {
        "xpu": ["is_available", "device_count", "is_initialized", "is_bf16_supported", "empty_cache",
                "memory_allocated", "seed", "synchronize", "current_device", "get_device_name"],
        "mps": ["is_available", "device_count", "synchronize", "empty_cache", "seed"],
    }.items() for name in names}


@pytest.mark.parametrize("name", DEVICE_CALLS)
def test_device_modules_answer_as_pytorch_without_the_device(name):
    device, function = DEVICE_CALLS[name]
    call = lambda lib: getattr(getattr(lib, device), function)()  # noqa: E731
    assert _outcome(call, gradscope) == _outcome(call, torch)


@pytest.mark.parametrize("device", ["xpu", "mps"])
def test_device_modules_accept_a_seed(device):
    for lib in (gradscope, torch):
        assert getattr(lib, device).manual_seed(3) is None


RANDINT = [
    "torch.randint(10, size=(3,))", "torch.randint(10, (3,))", "torch.randint(2, 10, (3,))",
    "torch.randint(high=5, size=(2,))", "torch.randint(low=3, high=5, size=(2,))",
    "torch.randint(5, size=(2, 2), dtype=torch.int32)", "torch.randint(3, 9, size=[2])",
    "torch.randint(size=(3,))", "torch.randint(5)", "torch.randint()", "torch.randint(5, 6)",
]


@pytest.mark.parametrize("call", RANDINT)
def test_randint_reads_its_arguments_as_pytorch(call):
    ours, theirs = (_outcome(lambda lib: eval(call, {"torch": lib}), lib) for lib in (gradscope, torch))
    assert ours == theirs


def test_the_forward_forward_negative_labels_draw_as_pytorch():
    """get_y_neg: for each label, one of the other nine drawn with randint(len(allowed), size=(1,))."""
    def negatives(lib):
        lib.manual_seed(1)
        y = lib.randint(0, 10, (8,))
        y_neg = y.clone()
        for i, label in enumerate(y):
            allowed = [k for k in range(10) if k != label.item()]
            y_neg[i] = lib.tensor(allowed)[lib.randint(len(allowed), size=(1,))].item()
        return y.numpy(), y_neg.numpy()

    ours, theirs = negatives(gradscope), negatives(torch)
    np.testing.assert_array_equal(ours, theirs)
    assert (ours[0] != ours[1]).all()
