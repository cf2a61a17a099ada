"""`torch.backends` as gradscope answers it: NumPy on the CPU, no cuDNN, no MPS. Portable scripts
ask `torch.backends.mps.is_available()` and set `torch.backends.cudnn.benchmark`; both work and
change nothing, as they change nothing in PyTorch on a machine without those backends.

>>> gradscope.backends.mps.is_available()
False
"""

from gradscope.backends import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
