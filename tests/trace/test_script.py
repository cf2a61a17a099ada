"""Model scripts (DESIGN §5) from Python: entry vs __main__ scripts, the script environment, ScriptError."""

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gradscope
from gradscope.trace.script import ScriptError, run_script

GRADSCOPE_DIR = os.path.dirname(os.path.abspath(gradscope.__file__))


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def script_error(path: Path, **options) -> ScriptError:
    with pytest.raises(ScriptError) as error:
        run_script(path, **options)
    assert str(error.value) == error.value.message
    assert GRADSCOPE_DIR not in error.value.details
    return error.value


ENTRY_SCRIPT = """
    import sys
    import gradscope as torch

    w = torch.tensor([1.0, -2.0], requires_grad=True)
    calls = []
    print("importing", sys.argv)

    def loss():
        calls.append(1)
        return (w * w * 3).sum()

    if __name__ == "__main__":
        raise SystemExit("the __main__ block must not run")
"""


def test_entry_script_is_imported_and_its_entry_differentiated(tmp_path, capsys):
    path = write(tmp_path, "entry.py", ENTRY_SCRIPT)
    run = run_script(path)
    assert run.trace.meta["script"] == str(path) and run.trace.meta["entry"] == "loss"
    assert run.namespace["calls"] == [1]
    (record,) = run.trace.passes
    (w,) = [p for p in run.trace.parameters if p.name == "w"]
    np.testing.assert_array_equal(run.trace.parameter_grad(w).values, [6.0, -12.0])
    # the entry can be called again (gradcheck does), on the same globals
    again = run.entry()
    assert again.item() == 15.0 and run.namespace["calls"] == [1, 1]
    captured = capsys.readouterr()
    assert captured.out == ""  # the script's prints go to stderr
    assert f"importing ['{path}']" in captured.err


def test_script_environment_is_restored(tmp_path):
    path = write(tmp_path, "entry.py", ENTRY_SCRIPT)
    argv, syspath, stdout = list(sys.argv), list(sys.path), sys.stdout
    run_script(path)
    assert (sys.argv, sys.path, sys.stdout) == (argv, syspath, stdout)
    write(tmp_path, "fails.py", "import sys\nsys.argv.append('x')\nraise ValueError('late')\n")
    script_error(tmp_path / "fails.py")
    assert (sys.argv, sys.path, sys.stdout) == (argv, syspath, stdout)


def test_main_script_records_every_backward(tmp_path):
    path = write(tmp_path, "loop.py", """
        import gradscope as torch

        w = torch.tensor([1.0, 2.0], requires_grad=True)
        for step in range(3):
            (w * (step + 1)).sum().backward()
        assert __name__ == "__main__"
    """)
    run = run_script(path)
    assert run.entry is None and run.trace.meta["entry"] is None
    assert len(run.trace.passes) == 3
    (w,) = run.trace.parameters
    assert w.name == "w"
    for index, expected in enumerate(([1, 1], [3, 3], [6, 6])):  # .grad accumulates 1, 2, 3
        np.testing.assert_array_equal(run.trace.parameter_grad(w, index).values, expected)


def test_custom_entry_and_options(tmp_path):
    path = write(tmp_path, "custom.py", """
        import gradscope as torch

        w = torch.ones(10, requires_grad=True)

        def objective():
            return (w * 2).sum()
    """)
    run = run_script(path, entry="objective", keep_values=3)
    assert run.trace.meta["entry"] == "objective"
    (w,) = run.trace.parameters
    grad = run.trace.parameter_grad(w)
    assert not grad.has_values and grad.stats.norm == pytest.approx(2 * np.sqrt(10))


def test_sibling_module_import(tmp_path):
    write(tmp_path, "helpers_a.py", "FACTOR = 5.0\n")
    path = write(tmp_path, "model.py", """
        import gradscope as torch
        from helpers_a import FACTOR

        w = torch.ones(2, requires_grad=True)

        def loss():
            return (w * FACTOR).sum()
    """)
    (w,) = run_script(path).trace.parameters
    assert w.value.values.tolist() == [1.0, 1.0]


def test_scripts_in_different_directories_get_their_own_siblings(tmp_path):
    paths = []
    for name in ("first", "second"):
        write(tmp_path / name, "helper.py", f"NAME = {name!r}\n")
        paths.append(write(tmp_path / name, "model.py", """
            import gradscope as torch
            from helper import NAME

            w = torch.ones(1, requires_grad=True)

            def loss():
                return w.sum()
        """))
    assert [run_script(path).namespace["NAME"] for path in paths] == ["first", "second"]


# ---------------------------------------------------------------------------------------- errors
def test_missing_and_directory(tmp_path):
    assert script_error(tmp_path / "nope.py").message == f"{tmp_path / 'nope.py'}: no such file"
    assert "is a directory" in script_error(tmp_path).message


def test_syntax_error(tmp_path):
    path = write(tmp_path, "broken.py", """
        x = 1
        def loss(:
            return x
    """)
    error = script_error(path)
    assert error.message == f"{path}: syntax error at line 2"
    assert "SyntaxError" in error.details and "def loss(:" in error.details
    assert "ast.py" not in error.details  # the parser's own frames tell the user nothing


def test_exception_at_import_keeps_only_the_scripts_frames(tmp_path):
    path = write(tmp_path, "explodes.py", """
        import gradscope as torch

        x = torch.ones(2, 3)
        y = x @ x
    """)
    error = script_error(path)
    assert error.message == f"{path}: the script raised RuntimeError"
    assert f'File "{path}", line 4, in <module>' in error.details
    assert error.details.splitlines()[0] == "Traceback (most recent call last):"
    assert error.details.splitlines()[-1].startswith("RuntimeError: ")
    assert "runpy" not in error.details


def test_exception_in_the_entry(tmp_path):
    path = write(tmp_path, "entry_fails.py", """
        def loss():
            return 1 / 0
    """)
    error = script_error(path)
    assert error.message == f"{path}: loss() raised ZeroDivisionError"
    assert f'File "{path}", line 2, in loss' in error.details


def test_backward_failure(tmp_path):
    path = write(tmp_path, "bad_grad.py", """
        import gradscope as torch

        class Wrong(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return torch.ones(5)

        w = torch.ones(3, requires_grad=True)

        def loss():
            return Wrong.apply(w).sum()
    """)
    error = script_error(path)
    assert error.message == f"{path}: backward through loss() failed"
    assert "WrongBackward returned an invalid gradient at index 0" in error.details


@pytest.mark.parametrize(("body", "message"), [
    ("return 3.0", "loss() must return a scalar tensor, got float"),
    ("return torch.ones(2, 2, requires_grad=True) + 1", "got shape [2, 2]"),
    ("return torch.ones(3).sum()", "nothing requires grad"),
])
def test_bad_entry_results(tmp_path, body, message):
    path = write(tmp_path, "result.py", f"""
        import gradscope as torch

        def loss():
            {body}
    """)
    assert message in script_error(path).message


def test_missing_entry(tmp_path):
    path = write(tmp_path, "plain.py", "def loss():\n    pass\n")
    assert script_error(path, entry="nope").message == f"{path}: the script defines no function nope()"


def test_no_backward(tmp_path):
    path = write(tmp_path, "idle.py", "import gradscope as torch\nx = torch.ones(2, requires_grad=True) * 2\n")
    assert "no backward happened" in script_error(path).message


def test_exit_status(tmp_path):
    write(tmp_path, "quits.py", "import sys\nsys.exit(3)\n")
    assert script_error(tmp_path / "quits.py").message.endswith("the script exited with status 3 at line 2")
    path = write(tmp_path, "quits_cleanly.py", """
        import sys
        import gradscope as torch

        (torch.ones(1, requires_grad=True) * 2).sum().backward()
        sys.exit(0)
    """)
    assert len(run_script(path).trace.passes) == 1


def test_keyboard_interrupt_is_not_swallowed(tmp_path):
    path = write(tmp_path, "interrupted.py", "raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        run_script(path)
