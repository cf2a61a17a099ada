"""`torch.backends.cudnn`: flags scripts set (benchmark, deterministic) are kept and have no effect."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    """No cuDNN library: None, as PyTorch answers without one."""
    return None
