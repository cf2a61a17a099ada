"""Spec §4: grad modes — no_grad / enable_grad / set_grad_enabled (context manager, decorator with and without
parentheses, plain call), inference mode and its errors, and thread-locality."""

from __future__ import annotations

import threading

import gradscope as gs

INFERENCE_INPLACE = (
    "RuntimeError: Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to "
    "get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details."
)
INFERENCE_SAVED = (
    "RuntimeError: Inference tensors cannot be saved for backward. Please do not use Tensors created in inference "
    "mode in computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and "
    "use it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`."
)


def test_no_grad_records_nothing(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            y = x * 2
            leaf = torch.zeros(2, requires_grad=True)
            x.add_(1)
        print(y.requires_grad, y.is_leaf, y.grad_fn, leaf.requires_grad, x._version, x)
        """,
        stdout="False True None True 1 tensor([2., 2.], requires_grad=True)\n",
    )


def test_no_grad_and_enable_grad_as_decorators_with_and_without_parentheses(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)

        @torch.no_grad
        def bare():
            return x * 2

        @torch.no_grad()
        def called():
            return x * 2

        @torch.enable_grad
        def enabled():
            return x * 2

        @torch.enable_grad()
        def enabled_called():
            return x * 2

        print(bare().requires_grad, called().requires_grad, bare.__name__, called.__name__)
        with torch.no_grad():
            print(enabled().requires_grad, enabled_called().requires_grad)
        print(torch.is_grad_enabled())
        """,
        stdout="False False bare called\nTrue True\nTrue\n",
    )


def test_enable_grad_nested_in_no_grad_and_backward_under_no_grad(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            with torch.enable_grad():
                y = x * 2
            print(y.requires_grad, torch.is_grad_enabled())
            (x * 2).sum().backward()
        """,
        stdout="True False\n",
        error="RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn",
    )


def test_set_grad_enabled_as_call_and_context_manager(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        torch.set_grad_enabled(False)
        print(torch.is_grad_enabled(), (x * 2).requires_grad)
        torch.set_grad_enabled(True)
        with torch.set_grad_enabled(False):
            print(torch.is_grad_enabled())
        print(torch.is_grad_enabled())
        with torch.no_grad():
            with torch.set_grad_enabled(True):
                print((x * 2).requires_grad)
        """,
        stdout="False False\nFalse\nTrue\nTrue\n",
    )


def test_grad_mode_is_restored_after_an_exception(oracle):
    oracle.check(
        """
        try:
            with torch.no_grad():
                raise KeyError("boom")
        except KeyError:
            pass
        print(torch.is_grad_enabled())
        """,
        stdout="True\n",
    )


def test_inference_mode_context_and_decorators(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)

        @torch.inference_mode()
        def called():
            return torch.ones(2)

        @torch.inference_mode
        def bare():
            return torch.ones(2)

        print(called().is_inference(), bare().is_inference(), torch.is_inference_mode_enabled())
        with torch.inference_mode():
            i = torch.ones(2)
            print(torch.is_inference_mode_enabled(), torch.is_grad_enabled(), (x * 2).requires_grad)
            with torch.inference_mode(False):
                print(torch.is_inference_mode_enabled())
        print(i.is_inference(), i.clone().is_inference(), (i * 2).is_inference(), i * 2)
        """,
        stdout="True True False\nTrue False False\nFalse\nTrue False False tensor([2., 2.])\n",
    )


def test_in_place_on_a_normal_tensor_inside_inference_mode_bumps_the_version(oracle):
    oracle.check(
        """
        w = torch.ones(2)
        with torch.inference_mode():
            w.add_(1)
        print(w._version, w)
        """,
        stdout="1 tensor([2., 2.])\n",
    )


def test_inference_tensor_errors(oracle):
    oracle.check("with torch.inference_mode():\n    i = torch.ones(2)\ni.add_(1)", error=INFERENCE_INPLACE)
    oracle.check(
        "with torch.inference_mode():\n    i = torch.ones(2)\ni.requires_grad = True",
        error="RuntimeError: Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.",
    )
    oracle.check(
        """
        with torch.inference_mode():
            i = torch.ones(2)
        x = torch.ones(2, requires_grad=True)
        print((i + x).requires_grad)
        (i * x).sum()
        """,
        stdout="True\n",
        error=INFERENCE_SAVED,
    )


def test_thread_started_under_no_grad_sees_grad_enabled(oracle):
    oracle.check(
        """
        import threading
        seen = []
        with torch.no_grad(), torch.inference_mode():
            worker = threading.Thread(
                target=lambda: seen.append((torch.is_grad_enabled(), torch.is_inference_mode_enabled())))
            worker.start()
            worker.join()
        print(seen)
        """,
        stdout="[(True, False)]\n",
    )


def test_grad_mode_changes_in_a_thread_do_not_leak_out():
    x = gs.ones(2, requires_grad=True)
    inside, leaving = threading.Event(), threading.Event()
    seen = []

    def work():
        gs.set_grad_enabled(False)
        seen.append((x * 2).requires_grad)
        inside.set()
        leaving.wait(5)

    worker = threading.Thread(target=work)
    worker.start()
    inside.wait(5)
    seen.append((gs.is_grad_enabled(), (x * 2).requires_grad))
    leaving.set()
    worker.join()
    assert seen == [False, (True, True)]


# §10 acceptance checks ------------------------------------------------------------------------------------------
def test_check_22_no_grad_forms(oracle):
    oracle.check(
        """
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            y = x * 2
            with torch.enable_grad():
                e = x * 2
        print(y.requires_grad, y.is_leaf, e.requires_grad)

        @torch.no_grad
        def bare():
            return x * 2

        @torch.no_grad()
        def called():
            return x * 2

        print(bare().requires_grad, called().requires_grad)
        """,
        stdout="False True True\nFalse False\n",
    )


def test_check_23_new_thread_under_no_grad_has_grad_enabled(oracle):
    oracle.check(
        """
        import threading
        seen = []
        with torch.no_grad():
            t = threading.Thread(target=lambda: seen.append(torch.is_grad_enabled()))
            t.start()
            t.join()
        print(seen)
        """,
        stdout="[True]\n",
    )


def test_check_24_inference_tensor_errors(oracle):
    oracle.check("with torch.inference_mode():\n    i = torch.ones(2)\ni.add_(1)", error=INFERENCE_INPLACE)
    oracle.check(
        "with torch.inference_mode():\n    i = torch.ones(2)\nx = torch.ones(2, requires_grad=True)\n(i * x).sum()",
        error=INFERENCE_SAVED,
    )
