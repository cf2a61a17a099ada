"""Tensor: an ndarray with autograd state, PyTorch's attributes and methods."""

from __future__ import annotations

import sys
import warnings
import weakref

import numpy as np

from gradscope import _dtypes
from gradscope._printing import format_tensor
from gradscope._shapes import int_argument, normalize_dim
from gradscope.autograd import errors, observers, writes
from gradscope.autograd.grad_mode import grad_enabled, inference_enabled, modes
from gradscope.autograd.hooks import HookDict
from gradscope.autograd.node import ACCUMULATOR_LOCK, AccumulateGrad
from gradscope.autograd.refusals import argument_type_error

_lock_accumulators, _unlock_accumulators = ACCUMULATOR_LOCK.acquire, ACCUMULATOR_LOCK.release
_weak = weakref.ref


class Size(tuple):
    """A tensor's shape: a tuple printed as `torch.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for size in self:
            n *= size
        return n

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):  # a Size on either side of + with a tuple gives a Size, as in PyTorch
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(other + tuple(self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
                 "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:  # noqa: N801 - torch.device
    """A device type and an optional index, `device("cpu")`, `device("cuda:1")`, `device("cpu", 0)`. As PyTorch's it
    equals devices only (not their strings) and, as a context manager, is the default device inside (the CPU is
    gradscope's only one)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        else:
            text = str(type)
            type, colon, number = text.partition(":")  # noqa: A001
            if colon:
                if not number.isdigit():
                    raise RuntimeError(f"Invalid device string: '{text}'")
                index = int(number)
            if type not in _DEVICE_TYPES:
                raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device "
                                   f"string: {text}")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {index.__class__.__name__}")
        self.type, self.index = type, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        check_device(self)
        return self

    def __exit__(self, *exc) -> None:
        return None


CPU = device("cpu")


class DeviceError(RuntimeError):
    """A tensor or module was sent to a device other than the CPU, the only one gradscope has."""

    def __init__(self, target) -> None:
        if str(target).startswith("meta"):
            advice = ("gradscope has no tensors without data; keep the module on the CPU (functional_call "
                      "and torch.func work with it there, its own parameters unused)")
        else:
            advice = ("pick the device the portable way, `device = 'cuda' if torch.cuda.is_available() else "
                      "'cpu'` (gradscope's cuda.is_available() is False), or drop the .cuda() call")
        super().__init__(f"gradscope runs on the CPU only and can't use device {str(target)!r}: {advice}")
        self.target = str(target)


def check_device(target) -> None:
    """Raise DeviceError unless `target` (None, 'cpu', 'cpu:0', a torch.device) names the CPU."""
    if target is not None and device(target).type != "cpu":
        raise DeviceError(target)


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    >>> x = gradscope.ones(2, 2, requires_grad=True)
    >>> (x + 2).mean().backward()
    >>> x.grad
    tensor([[0.2500, 0.2500],
            [0.2500, 0.2500]])
    """

    # a view's recipe and what it was made from, set by every view maker and read only where `_base` is not
    # None: slots, so a view (one a linear layer, `weight.t()`) costs no instance dict. `_view_chain`: ((primitive,
    # params, output index), ...) replayed on the base's array; `_view_base_fn`, `_view_version`: the base's
    # grad_fn and version when the view's grad_fn was made
    __slots__ = ("_data", "_requires_grad", "_node", "_output_nr", "_version_counter", "_base",
                 "_view_chain", "_view_base_fn", "_view_version", "__dict__", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator

    # rarely set state, kept out of the slots so a new tensor costs only what the hot path needs
    _grad = None
    _retains_grad = False
    _backward_hooks = None  # leaf tensor hooks, run by AccumulateGrad before accumulation
    _post_accumulate_hooks = None
    _accumulator = None  # its AccumulateGrad, kept while no user code has seen it (see _leaf_edge)
    _accumulator_ref = None  # a weak reference to its AccumulateGrad once handed out (AccumulateGrad._handed_out)
    _is_inference = False
    _tangent = None  # forward AD: the tangent at the entered dual level (forward_ad.py)
    _view_made_without_grad = False  # made under no_grad: may not be modified in place in grad mode
    _view_made_in_inference = False  # made in inference mode of a normal tensor: the same, with its own message
    _multi_output_view = None  # "Unbind", "Split": outputs of such views may not be modified in place
    _custom_function_view = None  # (Function name, output index, error): a view a Function returned, not modifiable

    def _init(self, data: np.ndarray, requires_grad: bool = False) -> None:
        self._data = data
        self._requires_grad = requires_grad
        self._node = None
        self._output_nr = 0
        self._version_counter = [0]
        self._base = None
        if modes.get().inference:
            self._is_inference = True

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool = False) -> Tensor:
        t = _new_tensor(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t._node = None
        t._output_nr = 0
        t._version_counter = [0]
        t._base = None
        return t

    # autograd attributes ---------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if self._base is not None:
            if not self._view_made_without_grad:  # (one made under no_grad is not regenerated: see _sync_view)
                _sync_view(self)
            # as PyTorch: a view requires grad while its base does, even one made before the base's requires_grad_()
            # (it is then a leaf whose gradient goes nowhere: see _grad_accumulator)
            return self._requires_grad or self._base._requires_grad
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if type(value) is not bool:  # PyTorch's attribute takes a bool, nothing else (not even a NumPy bool)
            raise RuntimeError("requires_grad must be a bool")
        self._set_requires_grad(value, errors.INT_REQUIRES_GRAD_ATTRIBUTE)

    @requires_grad.deleter
    def requires_grad(self) -> None:
        raise RuntimeError("requires_grad must be a bool")

    def _set_requires_grad(self, value: bool, dtype_error: str) -> None:
        value = bool(value)
        if self._node is not None:
            if not value:
                raise RuntimeError(errors.NON_LEAF_REQUIRES_GRAD)
            return
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(dtype_error)
        if value and self._is_inference and not inference_enabled.get():
            raise RuntimeError(errors.INFERENCE_REQUIRES_GRAD)
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True, /, **keyword) -> Tensor:
        if keyword or type(requires_grad) is not bool:  # PyTorch takes a bool, nothing else (not even a NumPy bool)
            requires_grad = _bool_argument(requires_grad, keyword)
        self._set_requires_grad(requires_grad, errors.INT_REQUIRES_GRAD_)
        return self

    @property
    def grad_fn(self):
        if self._base is not None:
            _sync_view(self)
        return self._node

    @grad_fn.setter
    def grad_fn(self, value) -> None:
        raise AttributeError("attribute 'grad_fn' of 'torch._C.TensorBase' objects is not writable")

    @grad_fn.deleter
    def grad_fn(self) -> None:
        raise AttributeError("attribute 'grad_fn' of 'torch._C.TensorBase' objects is not writable")

    # PyTorch's private name for grad_fn, which scripts read and set (to None: detach in place); the node itself is
    # the slot `_node`, which the library reads at slot speed
    @property
    def _grad_fn(self):
        return self.grad_fn

    @_grad_fn.setter
    def _grad_fn(self, value) -> None:
        if value is not None:
            raise RuntimeError("_grad_fn can be only set to None")
        self.detach_()

    @_grad_fn.deleter
    def _grad_fn(self) -> None:
        raise RuntimeError("Deletion of _grad_fn not allowed. Detach tensor instead!")

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self._node is not None and not self._retains_grad and self._grad is None:
            warnings.warn(errors.NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_c_type_name(value._data.dtype)}' to a tensor "
                    f"with grad_dtype '{_dtypes.from_numpy_dtype(self._data.dtype).legacy_name[:-6]}'. The "
                    "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
                    "the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set "
                    "grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break "
                    "downstream systems that assume they match.")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Fill `.grad` of this non-leaf tensor during backward (a no-op on leaves)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        grad_fn = self.grad_fn
        if grad_fn is None or self._retains_grad:
            return
        if grad_fn._retain_grad is None:
            grad_fn._retain_grad = {}
        grad_fn._retain_grad[self._output_nr] = weakref.ref(self)
        grad_fn._has_hooks = True
        grad_fn._vjp = None  # the engine's general path retains it
        self._retains_grad = True

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    def _grad_accumulator(self) -> AccumulateGrad | None:
        """The leaf's AccumulateGrad (see _leaf_edge); None for a view that requires grad only through its base.
        For the engine's own use (a root, a target: taken as shared, as another edge into it might be): user code
        gets it `_handed_out()`."""
        node = self._accumulator
        if node is None:
            return self._first_leaf_edge()[0]
        node._shared = True
        return node

    def _leaf_edge(self) -> tuple:
        """The graph edge this leaf contributes as an input (every node maker asks for it): `(its AccumulateGrad,
        the leaf)`, or PyTorch's null edge `(None, 0)` for a view that requires grad only through its base.

        The edge holds the leaf, as PyTorch's AccumulateGrad does (a graph keeps a temporary leaf alive), so that
        the node needn't: the leaf keeps it from graph to graph (`_accumulator`) while no user code has it, without
        a reference cycle, and nothing is made for a parameter at each step. The engine takes the leaf from the
        edge. A node handed out keeps its leaf itself, as PyTorch's, and its edges hold that leaf too."""
        node = self._accumulator
        if node is not None:
            # NOTE: shared once anything but this leaf holds it: an edge of a live graph (or the engine running
            # one). Read again after writing False: another thread may have made an edge meanwhile, and then
            # wrote True before this wrote False
            if _refcount(node) == _KEPT_ALONE:
                node._shared = False
                if _refcount(node) != _KEPT_ALONE:
                    node._shared = True
            else:
                node._shared = True
            return (node, self)
        return self._first_leaf_edge()

    def _first_leaf_edge(self) -> tuple:
        """_leaf_edge when the leaf keeps no AccumulateGrad: one handed out and still alive, else a new one."""
        # NOTE: acquire and release, not `with`: the with statement's special-method lookups cost ~1k more
        _lock_accumulators()
        try:
            node = self._accumulator  # another thread made it meanwhile
            if node is not None:
                node._shared = True
                return (node, self)
            ref = self._accumulator_ref
            if ref is not None and (node := ref()) is not None:
                node._shared = True  # another edge into it, perhaps (see AccumulateGrad._shared)
                return (node, node._held)  # its leaf (a saved tensor's unpacked stand-in refers to its input's)
            if not self._requires_grad:  # a view that requires grad only through its base: PyTorch's null edge
                return (None, 0)
            node = AccumulateGrad()
            node._leaf = _weak(self)
            # NOTE: the flags the engine reads at each edge into it, and the leaf's hook slots it reads at each
            # accumulation, in the instances: CPython 3.11 specialises reading an instance's own attribute, but
            # a read that finds the class's default takes the generic lookup every time
            node._held = None
            node._shared = node._has_hooks = False
            if ref is None:  # the leaf's first
                self._backward_hooks, self._post_accumulate_hooks = self._backward_hooks, self._post_accumulate_hooks
            self._accumulator = node
        finally:
            _unlock_accumulators()
        return (node, self)

    def register_hook(self, hook):
        """`hook(grad) -> Tensor | None` runs when this tensor's gradient is computed; returns a handle."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        grad_fn = self.grad_fn
        if grad_fn is None:
            if self._backward_hooks is None:
                self._backward_hooks = HookDict()
            return self._backward_hooks.add(hook)
        return grad_fn._add_tensor_hook(self._output_nr, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """`hook(tensor)` runs after `.grad` of this leaf was updated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = HookDict()
        return self._post_accumulate_hooks.add(hook)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data and version counter, outside the graph."""
        out = Tensor._make(self._data)
        out._version_counter = self._version_counter  # shares memory and versions, but is no view
        if self._is_inference:
            out._is_inference = True
        return out

    def detach_(self) -> Tensor:
        if self._base is not None and self._view_chain:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel "
                "(DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP "
                "buckets, and hence detach_() cannot be called on these gradients. To fix this error, please "
                "refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._node = None
        self._requires_grad = False
        self._output_nr = 0
        self.__dict__.pop("_tangent", None)  # as PyTorch's: forward AD's tangent goes too
        return self

    @property
    def data(self) -> Tensor:
        """The same storage without autograd history and with its own version counter."""
        out = Tensor._make(self._data)
        if self._is_inference:
            out._is_inference = True
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {_type_path(value)}")
        if value._data.dtype.kind not in "fc" and self.requires_grad:  # integers can't carry a gradient
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data

    @data.deleter
    def data(self) -> None:
        raise RuntimeError("Deleting tensor data is not allowed. Delete tensor instead!")

    # metadata -----------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        if type(dim) is not int:
            dim = int_argument(dim, "size", "dim", 1)
        return self._data.shape[normalize_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        data = self._data
        if data.size == 0 and not any(data.strides):  # NumPy's empty arrays have no strides
            strides = _contiguous_strides(data.shape)
        else:
            strides = tuple(s // data.itemsize for s in data.strides)
        return strides if dim is None else strides[normalize_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_inference(self) -> bool:
        return self._is_inference

    def _is_view(self) -> bool:
        return self._base is not None

    def data_ptr(self) -> int:
        return self._data.ctypes.data

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """The legacy type's name ('torch.FloatTensor'), or the tensor in a dtype, a legacy type (torch.ByteTensor)
        or a legacy type's name."""
        if dtype is None:
            return _dtypes.legacy_type_name(self._data.dtype)
        if isinstance(dtype, str):
            named = {f"torch.{d.legacy_name}": d for d in _dtypes.ALL}
            if dtype.startswith("torch.cuda."):
                raise DeviceError("cuda")
            if dtype not in named:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = named[dtype]
        elif isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), _dtypes.dtype):
            dtype = dtype.dtype  # a legacy type (torch.FloatTensor)
        return self.to(dtype)

    # conversion ---------------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        # NOTE: as PyTorch, only in grad mode: under no_grad the array can't take part in a graph anyway
        if (self._requires_grad or self._base is not None and self.requires_grad) and not force and (
                grad_enabled.get()):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        writes.handed_out(self._data)  # the caller may write through the array it gets, unseen
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self.numpy() if dtype is None else self.numpy().astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        self._warn_scalar_conversion()
        return float(self.item())

    def __complex__(self) -> complex:
        self._warn_scalar_conversion()
        return complex(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def _warn_scalar_conversion(self) -> None:
        """float() and complex() of a tensor that requires grad warn, as PyTorch's do: once per process, and
        only where grad mode is on (so not inside an optimizer's no_grad step); int() doesn't."""
        if (self._requires_grad or self._base is not None and self.requires_grad) and grad_enabled.get():
            errors.warn_once("scalar_conversion", "Converting a tensor with requires_grad=True to a scalar may lead "
                             "to unexpected behavior.\nConsider using tensor.detach() first.", stacklevel=4)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self, *, tensor_contents=None) -> str:
        try:
            grad_fn = self.grad_fn
        except RuntimeError:  # as PyTorch's: a view made under no_grad whose base then changed has no valid one
            suffixes = ["grad_fn=<Invalid>"]
        else:
            if grad_fn is not None:
                suffixes = [f"grad_fn=<{type(grad_fn).__name__}>"]
            elif self.requires_grad:
                suffixes = ["requires_grad=True"]
            else:
                suffixes = []
        level = observers.dual_level
        if self._tangent is not None and level is not None and level.enabled:  # none in a custom Function's forward
            suffixes.append(f"tangent={self._tangent!r}")
        return format_tensor(self._data, suffixes, default_float=_dtypes.get_default_dtype().numpy)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        raise TypeError("gradscope tensors are not picklable; use gradscope.save, which never uses pickle")

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                               "be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        out = type(self).__new__(type(self))
        Tensor._init(out, self._data.copy(), self.requires_grad)
        if self._grad is not None:
            out._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out


_new_tensor = object.__new__
_refcount = sys.getrefcount


def _kept_alone() -> int:
    """What `_leaf_edge` counts for an AccumulateGrad its leaf alone holds, measured rather than assumed
    (interpreters count references differently); -1 where one more reference does not show in the count (a build
    without exact counts): every AccumulateGrad is then taken as shared."""
    class Leaf:
        pass

    def probe(self):  # as _leaf_edge reads and counts it
        node = self._accumulator
        return _refcount(node)

    leaf = Leaf()
    leaf._accumulator = Leaf()
    alone = probe(leaf)
    extra = leaf._accumulator  # noqa: F841 - one more reference, which the count must show
    return alone if probe(leaf) == alone + 1 else -1


_KEPT_ALONE = _kept_alone()


def _c_type_name(np_dtype: np.dtype) -> str:
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
            "int8": "signed char", "uint8": "unsigned char", "float16": "c10::Half",
            "bool": "bool"}.get(np_dtype.name, np_dtype.name)


def _bool_argument(positional, keyword: dict) -> bool:
    """requires_grad_'s argument as PyTorch's parser takes it: a bool, by position or as `requires_grad=`."""
    if keyword:
        unexpected = next((name for name in keyword if name != "requires_grad"), None)
        if unexpected is not None:
            raise TypeError(f"requires_grad_() got an unexpected keyword argument '{unexpected}'")
        value, position = keyword["requires_grad"], None
    else:
        value, position = positional, 1
    if type(value) is not bool:
        raise argument_type_error("requires_grad_", "requires_grad", "bool", value, position)
    return value


def _type_path(value) -> str:
    """A value's type as PyTorch's errors name it: `NoneType`, `numpy.ndarray`."""
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _contiguous_strides(shape: tuple) -> tuple:
    """PyTorch's strides of a contiguous tensor (a size-0 dim counts as 1)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def _sync_view(view: Tensor) -> None:
    """After an in-place op on the base or a sibling view (a new grad_fn of the base, or a new version, even
    from an op under no_grad), route this view's gradient through the base: PyTorch regenerates a view's
    grad_fn as AsStridedBackward0 then."""
    base = view._base
    version = view._version_counter[0]
    if base._node is view._view_base_fn and view._view_version == version:
        return
    if view._view_chain and not view._view_made_without_grad and (
            view._requires_grad or base._node is not None or base._requires_grad):
        # lazy: a view's new node comes from the in-place machinery above; needed only after an in-place op
        from gradscope.autograd.inplace import _move_retained_grad, view_replay_node
        replay = view_replay_node(base, view)
        if view._retains_grad and view._node is not None:  # PyTorch moves retain_grad to the regenerated node
            _move_retained_grad(view, view._node, view._output_nr, replay)
        view._node = replay
        view._output_nr = 0
        view._requires_grad = True
    elif view._view_made_without_grad and (base._requires_grad or base._node is not None) and grad_enabled.get():
        # as PyTorch's: its gradient would bypass the change (it got none at all: a leaf whose gradient goes nowhere)
        raise RuntimeError(errors.INFERENCE_VIEW_REBASED if view._view_made_in_inference
                           else errors.NO_GRAD_VIEW_REBASED)
    view._view_base_fn = base._node
    view._view_version = version


def _stale_view_requires_grad(x: Tensor) -> bool:
    """Whether a view that did not require grad does now: an in-place op that requires grad changed its
    base since it was made (as in PyTorch, it then takes part in the graph through the base), or its base
    requires grad (PyTorch's view.requires_grad; with no node, such a view is a leaf whose gradient goes nowhere).
    Callers check `_requires_grad` first: this runs only for tensors that don't require grad."""
    base = x._base
    if base is None:
        return False
    if base._node is not x._view_base_fn or x._view_version != x._version_counter[0]:
        _sync_view(x)
    return x._requires_grad or base._requires_grad

