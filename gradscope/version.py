"""`torch.version`: what scripts print about the build they run on. gradscope is NumPy on the CPU: no CUDA, ROCm
(HIP) or XPU build, and no debug build.

>>> gradscope.version.cuda is None
True
"""

__version__ = "0.1.0"  # gradscope's own (under the torch alias, torch.__version__ is the PyTorch API it follows)
cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = "unknown"

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]
