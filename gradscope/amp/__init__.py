"""`torch.amp`: automatic mixed precision as a CPU-only engine can honour it.

`autocast("cuda", …)` and `GradScaler("cuda")` on a machine without CUDA disable themselves with
PyTorch's own warnings, so a GPU training script runs unchanged in full precision, as PyTorch runs it
there. `autocast("cpu", dtype=…)` is entered and reported (`is_autocast_enabled("cpu")`), but
gradscope's ops run in their inputs' dtypes: it says so once, since PyTorch would compute matrix
products and convolutions in the lower precision. `GradScaler("cpu")` is PyTorch's algorithm in full:
scale the loss, unscale and check the gradients, skip the step on inf/NaN, grow or back off the scale.
"""

from gradscope.amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled
from gradscope.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "get_autocast_dtype", "is_autocast_available", "is_autocast_enabled"]
