"""`torch.backends.openmp`: gradscope's own kernels don't use OpenMP."""


def is_available() -> bool:
    return False
