"""torch.func for gradscope: composable function transforms on the reverse-mode engine.

`jvp` and `jacfwd` are computed with reverse passes (the double-backward trick), and `vmap` runs the
function once per batch element; both give PyTorch's values, not its speed.

    from gradscope.func import grad, vmap
    per_sample = vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, xs, ys)
"""

from gradscope.func._functional_call import functional_call, stack_module_state
from gradscope.func._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from gradscope.func._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize",
           "stack_module_state", "vjp", "vmap"]
