"""The torch.* calls ordinary training scripts make about types and the runtime rather than values
(finfo, type predicates, thread and determinism settings, compile, autocast, GradScaler) and the Tensor
properties they read, each against PyTorch."""

from __future__ import annotations

import itertools
import pickle
import warnings

import numpy as np
import pytest

import gradscope

torch = pytest.importorskip("torch")

DTYPES = ("float16", "float32", "float64", "complex64", "complex128", "uint8", "int8", "int16", "int32", "int64",
          "bool")


def outcome(call):
    """What a call gives: its value (dtypes by name), or its exception's type and text."""
    try:
        value = call()
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return type(error).__name__, str(error)
    return repr(value).replace("gradscope", "torch")


def both(call):
    return outcome(lambda: call(gradscope)), outcome(lambda: call(torch))


@pytest.mark.parametrize("name", [*DTYPES, "bfloat16"])
def test_finfo_and_iinfo_as_torch(name):
    for info in ("finfo", "iinfo"):
        ours, theirs = both(lambda lib, info=info: getattr(lib, info)(getattr(lib, name)))
        assert ours == theirs
    if name.startswith(("float", "bfloat")):
        for attribute in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(gradscope.finfo(getattr(gradscope, name)), attribute) == \
                getattr(torch.finfo(getattr(torch, name)), attribute)


def test_finfo_defaults_to_the_default_dtype():
    assert gradscope.finfo() == gradscope.finfo(gradscope.float32)
    gradscope.set_default_dtype(gradscope.float64)
    try:
        assert gradscope.finfo().eps == torch.finfo(torch.float64).eps
    finally:
        gradscope.set_default_dtype(gradscope.float32)


@pytest.mark.parametrize(("first", "second"), itertools.product(DTYPES, DTYPES))
def test_promote_types_and_can_cast_as_torch(first, second):
    for function in ("promote_types", "can_cast"):
        ours, theirs = both(lambda lib, f=function: getattr(lib, f)(getattr(lib, first), getattr(lib, second)))
        assert ours == theirs


@pytest.mark.parametrize("operands", [
    (("int8", (2,)), 1000), (("int8", (2,)), ("int64", ())), (1, 2.0), (True, 2), (("float16", (2,)), 1.5),
    (("int32", ()), 2.5), (("bool", (3,)), ("uint8", ())), (("float64", ()), ("float32", (2,))),
])
def test_result_type_as_torch(operands):
    def call(lib):
        made = [lib.zeros(value[1], dtype=getattr(lib, value[0])) if isinstance(value, tuple) else value
                for value in operands]
        return lib.result_type(*made)

    ours, theirs = both(call)
    assert ours == theirs


@pytest.mark.parametrize("call", [
    lambda lib: lib.promote_types(lib.float32, 1),
    lambda lib: lib.can_cast(1, lib.float32),
    lambda lib: lib.is_floating_point(1.0),
    lambda lib: lib.numel([1, 2]),
    lambda lib: lib.is_nonzero(lib.zeros(0)),
    lambda lib: lib.is_nonzero(lib.zeros(2)),
    lambda lib: lib.is_nonzero(lib.tensor([0.5])),
    lambda lib: lib.set_num_threads(0),
    lambda lib: lib.set_num_threads(1.5),
    lambda lib: lib.use_deterministic_algorithms("yes"),
    lambda lib: lib.set_deterministic_debug_mode(5),
    lambda lib: lib.set_float32_matmul_precision(3),
    lambda lib: lib.finfo(lib.int32),
    lambda lib: lib.iinfo(lib.float32),
    lambda lib: lib.iinfo(lib.bool),
], ids=lambda call: "")
def test_argument_errors_and_answers_as_torch(call):
    ours, theirs = both(call)
    assert ours == theirs


def test_predicates_as_torch():
    for lib in (gradscope, torch):
        x, n = lib.ones(2, 3), lib.ones(2, dtype=lib.uint8)
        assert (lib.is_tensor(x), lib.is_tensor(x.numpy()), lib.is_storage(x), lib.is_floating_point(x),
                lib.is_floating_point(n), lib.is_complex(x), lib.is_signed(n), lib.numel(x),
                lib.is_same_size(x, lib.zeros(2, 3)), lib.is_same_size(x, n)) == \
            (True, False, False, True, False, False, False, 6, True, False)
    assert gradscope.typename(gradscope.ones(1, dtype=gradscope.float64)) == torch.typename(torch.ones(1).double())
    assert gradscope.typename(1) == torch.typename(1) == "int"
    linear = gradscope.nn.Linear(1, 1)
    assert gradscope.typename(linear) == gradscope.typename(gradscope.nn.Linear) == \
        f"{gradscope.nn.Linear.__module__}.Linear"


def test_settings_round_trip_as_torch():
    saved = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(), torch.get_float32_matmul_precision())
    try:
        for lib in (gradscope, torch):
            lib.set_num_threads(1)
            lib.use_deterministic_algorithms(True, warn_only=True)
            lib.set_float32_matmul_precision("high")
        for getter in ("get_num_threads", "are_deterministic_algorithms_enabled",
                       "is_deterministic_algorithms_warn_only_enabled", "get_deterministic_debug_mode",
                       "get_float32_matmul_precision"):
            assert getattr(gradscope, getter)() == getattr(torch, getter)(), getter
        for lib in (gradscope, torch):
            lib.set_deterministic_debug_mode("error")
        assert gradscope.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode() == 2
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            gradscope.set_float32_matmul_precision("fastest")
        assert gradscope.get_float32_matmul_precision() == "high"
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1], warn_only=saved[2])
        torch.set_float32_matmul_precision(saved[3])
        gradscope.set_num_threads(saved[0])
        gradscope.use_deterministic_algorithms(False)
        gradscope.set_float32_matmul_precision("highest")


def test_constants_layouts_and_memory_formats():
    for name in ("e", "pi", "inf"):
        assert getattr(gradscope, name) == getattr(torch, name)
    assert np.isnan(gradscope.nan) and gradscope.newaxis is None
    for name in ("strided", "contiguous_format", "channels_last", "preserve_format"):
        assert repr(getattr(gradscope, name)) == repr(getattr(torch, name))
        assert pickle.loads(pickle.dumps(getattr(gradscope, name))) is getattr(gradscope, name)
    assert gradscope.ones(2).layout is gradscope.strided


def test_bfloat16_can_be_named_but_not_made():
    assert repr(gradscope.bfloat16) == repr(torch.bfloat16)
    assert gradscope.bfloat16.is_floating_point and gradscope.bfloat16.itemsize == 2
    for make in (lambda: gradscope.ones(2, dtype=gradscope.bfloat16), lambda: gradscope.ones(2).bfloat16(),
                 lambda: gradscope.ones(2).to(gradscope.bfloat16)):
        with pytest.raises(TypeError, match="gradscope has no bfloat16 tensors"):
            make()


# --- Tensor properties -------------------------------------------------------------------------------

@pytest.mark.parametrize("read", [
    lambda x: (x.is_cpu, x.get_device(), x.nbytes, x.itemsize, x.is_pinned(), x.is_shared(), x.is_distributed(),
               x.is_sparse_csr, str(x.layout), x.is_signed(), x.is_conj(), x.is_neg(), x.dim_order()),
    lambda x: x.t().dim_order(),
    lambda x: (x.byte().dtype, x.char().dtype, x.short().dtype),
    lambda x: x.H.grad_fn.name(), lambda x: x.mH.grad_fn.name(), lambda x: x.adjoint().shape,
    lambda x: x.real is x, lambda x: x.conj() is x, lambda x: x.resolve_conj() is x, lambda x: x.resolve_neg() is x,
    lambda x: x.imag, lambda x: x.pin_memory(), lambda x: x.share_memory_() is x,
    lambda x: x.sum(0).H, lambda x: x.sum(0).mH, lambda x: x.unsqueeze(0).H,
    lambda x: x.is_nonzero(), lambda x: x[0, :1].is_nonzero(), lambda x: x.is_same_size(x.t()),
    lambda x: x.apply_(lambda v: v), lambda x: x.detach().apply_(lambda v: v * 2 + 1).tolist(),
    lambda x: x.detach().map_(x.detach()[0].clone(), lambda a, b: a - b).tolist(),
    lambda x: x.detach().long().apply_(lambda v: v + 0.7).tolist(),
], ids=lambda read: "")
def test_tensor_properties_as_torch(read):
    def call(lib):
        x = lib.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
        return read(x)

    ours, theirs = both(call)
    assert ours == theirs


@pytest.mark.parametrize(("shape", "permutation"), [
    *itertools.product(((2, 3, 4, 5), (2, 1, 4, 1), (1, 3, 1, 1)), (None, (0, 2, 3, 1), (0, 3, 1, 2))),
    ((2, 3), None), ((2, 3, 4, 5, 6), None), ((2, 3, 4, 5, 6), (0, 2, 3, 4, 1)),
])
def test_is_contiguous_in_each_memory_format_as_torch(shape, permutation):
    inverse = None if permutation is None else tuple(np.argsort(permutation))

    def call(lib):
        x = lib.ones(shape)
        if permutation is not None:
            x = x.permute(*permutation).contiguous().permute(*inverse)
        return tuple(x.is_contiguous(memory_format=getattr(lib, name))
                     for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"))

    ours, theirs = both(call)
    assert ours == theirs


# --- compile -----------------------------------------------------------------------------------------

class _Net:
    @staticmethod
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(3, 2)
                self.drop = lib.nn.Dropout(0.5)
                self.k = 5

            def forward(self, x):
                return self.drop(self.fc(x))

            def extra(self):
                return "extra"

        return Net()


@pytest.fixture(autouse=True)
def torch_validation_kept():
    """torch.compile (even a refused call) turns torch.distributions' argument validation off for the whole
    process (dynamo's doing): put it back, or later tests of validation errors read torch's unvalidated results."""
    validating = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(validating)


def test_compile_wraps_a_module_as_torch_and_runs_it_eagerly():
    seen = {}
    for lib in (gradscope, torch):
        lib.manual_seed(0)
        net = _Net.build(lib)
        # PyTorch's wrapper is the same whatever the backend; "eager" spares the suite inductor's C++ build (~5 s)
        compiled = lib.compile(net, backend="eager")
        compiled.eval()
        out = compiled(lib.ones(1, 3))
        seen[lib] = (type(compiled).__name__, compiled._orig_mod is net, list(compiled.state_dict()),
                     compiled.k, compiled.extra(), net.training, compiled.training,
                     np.round(out.detach().numpy(), 6).tolist(), repr(compiled).replace("gradscope", "torch"))
        net.train()
        seen[lib] += (compiled.training,)
        compiled.load_state_dict({"_orig_mod.fc.weight": lib.ones(2, 3), "_orig_mod.fc.bias": lib.zeros(2)})
        seen[lib] += (net.fc.weight.sum().item(),)
    assert seen[gradscope] == seen[torch]


def test_compile_returns_functions_as_they_are_and_works_as_a_decorator():
    def f(x):
        return x * 2

    assert gradscope.compile(f) is f
    decorated = gradscope.compile(mode="max-autotune", fullgraph=True)(f)
    assert decorated is f

    @gradscope.compile
    def g(x):
        return x + 1

    assert g(gradscope.ones(1)).item() == 2.0
    assert outcome(lambda: gradscope.compile(3)) == outcome(lambda: torch.compile(3))


# --- autocast ------------------------------------------------------------------------------------------

def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = outcome(call)
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def _entered(lib, region):
    """What a script sees in an autocast region: __enter__'s result, and whether autocast is on there."""
    with region as entered:
        return entered is region, lib.is_autocast_enabled(region.device)


@pytest.mark.parametrize("call", [
    lambda lib: _entered(lib, lib.autocast(device_type="cuda", dtype=lib.float16)),
    lambda lib: _entered(lib, lib.amp.autocast("cuda")),
    lambda lib: _entered(lib, lib.autocast(device_type="cpu", dtype=lib.float64)),
    lambda lib: lib.autocast(device_type=1),
    lambda lib: lib.autocast(device_type="gpu"),
    lambda lib: _entered(lib, lib.cuda.amp.autocast()),
    lambda lib: lib.cuda.amp.GradScaler().is_enabled(),
    lambda lib: lib.amp.GradScaler("cuda").state_dict(),
    lambda lib: lib.cpu.amp.GradScaler().get_scale(),
    lambda lib: (lib.is_autocast_enabled(), lib.get_autocast_dtype("cpu"), lib.get_autocast_dtype("cuda")),
    lambda lib: lib.cuda.is_bf16_supported(),
    lambda lib: (lib.cpu.is_available(), lib.cpu.device_count()),
], ids=lambda call: "")
def test_amp_on_a_machine_without_cuda_as_torch(call):
    assert _warnings_of(lambda: call(gradscope)) == _warnings_of(lambda: call(torch))


def test_cpu_autocast_is_entered_and_says_it_runs_in_full_precision():
    states = {}
    for lib in (gradscope, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autocast("cpu", dtype=lib.float16):
                inside = (lib.is_autocast_enabled("cpu"), lib.get_autocast_dtype("cpu"))
                with lib.autocast("cpu", enabled=False):
                    nested = lib.is_autocast_enabled("cpu")
                restored = lib.is_autocast_enabled("cpu")
        states[lib] = (repr(inside).replace("gradscope", "torch"), nested, restored, lib.is_autocast_enabled("cpu"))
        if lib is gradscope:
            assert [str(w.message) for w in caught if "full precision" in str(w.message)]
    assert states[gradscope] == states[torch]

    @gradscope.autocast("cpu")
    def decorated():
        return gradscope.is_autocast_enabled("cpu")

    assert decorated() and not gradscope.is_autocast_enabled("cpu")


# --- GradScaler ----------------------------------------------------------------------------------------

def _scaled_training(lib, growth_interval, poisoned_steps, dtype="float32"):
    """Ten SGD steps through a CPU GradScaler, some with an inf gradient; what the scaler and model show."""
    weights = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    w = lib.tensor(weights, dtype=getattr(lib, dtype), requires_grad=True)
    optimizer = lib.optim.SGD([w], lr=0.001)
    scaler = lib.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=growth_interval)
    x = lib.tensor(np.arange(3.0), dtype=getattr(lib, dtype))
    seen = []
    for step in range(10):
        optimizer.zero_grad()
        loss = ((w @ x) ** 2).sum()
        scaled = scaler.scale(loss)
        scaled.backward()
        if step in poisoned_steps:
            w.grad[0, 0] = float("inf")
        result = scaler.step(optimizer)
        scaler.update()
        seen.append((float(f"{scaled.item():.5g}"), result, scaler.get_scale(), scaler.state_dict()["_growth_tracker"],
                     w.detach().numpy().round(5).tolist()))
    return seen, scaler.state_dict()


@pytest.mark.parametrize(("growth_interval", "poisoned"), [(2000, ()), (3, ()), (3, (1, 5, 6)), (2, (0,))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_scaler_scales_skips_and_adapts_as_torch(growth_interval, poisoned, dtype):
    assert _scaled_training(gradscope, growth_interval, poisoned, dtype) == \
        _scaled_training(torch, growth_interval, poisoned, dtype)


@pytest.mark.parametrize("misuse", [
    lambda lib, scaler, opt: scaler.step(opt),
    lambda lib, scaler, opt: scaler.update(),
    lambda lib, scaler, opt: (scaler.scale(lib.ones(1)), scaler.unscale_(opt), scaler.unscale_(opt)),
    lambda lib, scaler, opt: (scaler.scale(lib.ones(1)), scaler.step(opt), scaler.step(opt)),
    lambda lib, scaler, opt: (scaler.scale(lib.ones(1)), scaler.step(opt), scaler.unscale_(opt)),
    lambda lib, scaler, opt: (scaler.scale(lib.ones(1)), scaler.update()),
    lambda lib, scaler, opt: (scaler.scale(lib.ones(1)), scaler.step(opt, closure=lambda: 0)),
    lambda lib, scaler, opt: scaler.load_state_dict({}),
    lambda lib, scaler, opt: [t.item() for t in scaler.scale([lib.ones(()), (lib.ones(()), lib.ones(()))])[1]],
    lambda lib, scaler, opt: (scaler.scale(lib.ones(())), scaler.update(256.0), scaler.get_scale()),
], ids=lambda misuse: "")
def test_grad_scaler_misuse_as_torch(misuse):
    def call(lib):
        w = lib.ones(2, requires_grad=True)
        w.grad = lib.ones(2)
        return misuse(lib, lib.amp.GradScaler("cpu"), lib.optim.SGD([w], lr=0.1))

    ours, theirs = both(call)
    assert ours == theirs


ACCELERATOR = ("is_available()", "current_accelerator()", "current_accelerator(check_available=True)", "device_count()",
               "current_device_index()", "current_device_idx()", "synchronize()", "empty_cache()", "memory_allocated()",
               "max_memory_allocated(0)", "memory_stats()", "reset_peak_memory_stats()", "set_device_index(0)",
               "set_device_idx(0)", "get_device_capability()", "get_memory_info()")


@pytest.mark.parametrize("call", ACCELERATOR)
def test_accelerator_answers_as_torch_without_one(call):
    """PyTorch's examples pick their device with torch.accelerator (mnist, gat: `torch.accelerator.is_available()`):
    it was an AttributeError. Without an accelerator PyTorch answers False, None and 0, and refuses the rest."""
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # the *_idx names' FutureWarnings
            return outcome(lambda: eval(f"lib.accelerator.{call}", {"lib": lib})), [str(w.message) for w in caught]
    assert run(gradscope) == run(torch)


def test_accelerator_device_index_context():
    for lib in (gradscope, torch):
        with lib.accelerator.device_index(None):
            pass
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            with lib.accelerator.device_index(0):
                pass


def test_small_modules_scripts_import_answer_as_torch():
    """torch.random (fork_rng), torch.compiler, torch.utils.hooks, torch.types and torch.autograd.variable were
    ModuleNotFoundErrors under gradscope."""
    import importlib

    seen = []
    for lib in (gradscope, torch):
        random = importlib.import_module(f"{lib.__name__}.random")
        compiler = importlib.import_module(f"{lib.__name__}.compiler")
        hooks = importlib.import_module(f"{lib.__name__}.utils.hooks")
        types = importlib.import_module(f"{lib.__name__}.types")
        variable = importlib.import_module(f"{lib.__name__}.autograd.variable")
        random.manual_seed(3)
        before = lib.rand(2).tolist()
        random.manual_seed(3)
        with random.fork_rng():
            lib.rand(5)  # drawn inside: the stream after the block is the one before it
        with random.fork_rng(enabled=False):
            pass
        after = lib.rand(2).tolist()

        def hook(g):
            return g

        handle = lib.ones(1, requires_grad=True).register_hook(hook)
        seen.append((before == after, random.initial_seed(), compiler.is_compiling(), compiler.is_dynamo_compiling(),
                     compiler.disable(hook)(5), compiler.disable()(hook)(6), isinstance(handle, hooks.RemovableHandle),
                     hooks.unserializable_hook(hook).__torch_unserializable__,
                     isinstance(2.5, types._Number), str(types.Number), variable.Variable is lib.autograd.Variable,
                     str(random.get_rng_state().dtype)))
    assert seen[0] == seen[1]


def test_autograd_profiler_as_torch():
    """torch.autograd.profiler, the profiler's older home (an AttributeError): profile() under its older signature,
    record_function, key_averages().table(); enabled=False binds None, as PyTorch's."""
    seen = []
    for lib in (gradscope, torch):
        model = lib.nn.Linear(3, 2)
        with lib.autograd.profiler.profile(record_shapes=True) as prof:
            with lib.autograd.profiler.record_function("block"):
                model(lib.ones(4, 3)).sum().backward()
        names = {event.key for event in prof.key_averages()}
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5)
        with lib.autograd.profiler.profile(enabled=False) as disabled:
            model(lib.ones(1, 3))
        seen.append(("block" in names, any("addmm" in name for name in names), "Name" in table, disabled))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("name", [d for d in DTYPES if d != "float16"])
def test_dtype_to_complex_and_to_real_as_torch(name):
    for convert in ("to_complex", "to_real"):
        ours, theirs = both(lambda lib, c=convert: getattr(getattr(lib, name), c)())
        assert ours == theirs


def test_version_answers_as_a_cpu_build():
    """torch.version as scripts print it (collect_env style): no CUDA, ROCm or XPU, not a debug build."""
    for lib in (gradscope, torch):
        assert (lib.version.cuda, lib.version.hip, lib.version.xpu, lib.version.debug) == (None, None, None, False)
        assert isinstance(lib.version.git_version, str) and isinstance(lib.version.__version__, str)
    assert gradscope.version.__version__ == gradscope.__version__


@pytest.mark.parametrize("text", ["cpu", "cpu:0", "cuda:1", "cpu:x", "gpu", "cpu:-1", "cuda:0:1", "meta"])
def test_devices_parse_print_and_compare_as_torch(text):
    for read in (repr, str, lambda d: d == text, lambda d: (d.type, d.index), lambda d: d == type(d)("cpu", 0)):
        ours, theirs = both(lambda lib, r=read: r(lib.device(text)))
        assert ours == theirs


def test_a_device_is_a_context_manager():
    with gradscope.device("cpu") as cpu:
        assert gradscope.ones(1).device == cpu
    with pytest.raises(RuntimeError, match="gradscope runs on the CPU only"), gradscope.device("cuda"):
        pass


def test_cpu_backend_modules_scripts_read():
    """torch.backends.mkldnn / mkl / openmp / cpu were AttributeErrors: their flags and blocks work as PyTorch's
    (gradscope answers that it has none of these libraries)."""
    seen = []
    for lib in (gradscope, torch):
        backends = lib.backends
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's oneDNN warns that it has no Intel GPU
            with backends.mkldnn.flags(enabled=False):
                inside = backends.mkldnn.enabled
        with backends.mkl.verbose(backends.mkl.VERBOSE_ON):
            pass
        seen.append((inside, backends.mkldnn.enabled, backends.mkl.VERBOSE_OFF, backends.mkl.VERBOSE_ON,
                     isinstance(backends.mkldnn.is_available(), bool), isinstance(backends.mkl.is_available(), bool),
                     isinstance(backends.openmp.is_available(), bool), isinstance(backends.cpu.get_cpu_capability(),
                                                                                  str)))
    assert seen[0] == seen[1] == [(False, True, 0, 1, True, True, True, True)][0]
    assert not gradscope.backends.mkldnn.is_available() and gradscope.backends.cpu.get_cpu_capability() == "DEFAULT"
