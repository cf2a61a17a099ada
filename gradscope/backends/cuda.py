"""`torch.backends.cuda`: not built; the TF32 switch scripts set is kept and has no effect."""

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False
