"""Every rule passes on the healthy MLP and fails, naming the right parameter, node or layer with the
right measured value, on the model built to break it; every threshold moves the verdict.

Measured values are compared with gradients computed by the plain engine, without the recorder."""

import math
import runpy

import numpy as np
import pytest
from check_helpers import by_target, failing, line_of, live_gradients, sample, write_script

from gradscope.checks import FAIL, PASS, RULES, SKIP, CheckConfigError, build_config, run_checks

ALL_DEAD = """
    import gradscope as torch
    from gradscope import nn

    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("hidden", nn.Linear(6, 8))
    model.add_module("relu", nn.ReLU())
    model.add_module("out", nn.Linear(8, 1))
    with torch.no_grad():
        model.hidden.bias.fill_(-100.0)  # no unit ever fires
    x = torch.randn(16, 6)


    def loss():
        return model(x).pow(2).mean()
"""

HEALTHY_RELU = """
    import gradscope as torch
    from gradscope import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    x = torch.randn(64, 4)


    def loss():
        return model(x).pow(2).mean()
"""

# gradient 200·w; SGD with lr 1 maps w to -199·w, so the gradient norm grows 199× per step
QUADRATIC = """
    import gradscope as torch

    w = torch.tensor([1.0, -2.0], requires_grad=True)


    def loss():
        return (w * 10).pow(2).sum()


    def optimizer():
        return torch.optim.SGD([w], lr=LR)
"""


def check(script, **flags):
    return run_checks(script, build_config(flag_values=flags))


def norm(array):
    return float(np.linalg.norm(array))


@pytest.mark.parametrize("rule", [rule for rule in RULES if rule not in ("dead-units", "baseline")])  # baseline: a file
def test_every_rule_passes_on_the_healthy_mlp(rule):
    report = check(sample("mlp"), rules=[rule], steps=3 if rule == "exploding" else None)
    assert report.passed and {result.status for result in report.results} == {PASS}


def test_a_rule_with_nothing_to_judge_does_not_pass_vacuously():
    # the MLP has no ReLU: dead-units alone checks nothing, which is an error, not a pass
    with pytest.raises(CheckConfigError, match="nothing was checked: every selected rule skipped .dead-units "
                                               "activations: no ReLU-family activation"):
        check(sample("mlp"), rules=["dead-units"])
    statuses = {(r.rule, r.status) for r in check(sample("mlp"), rules=["dead-units", "finite"]).results}
    assert ("dead-units", SKIP) in statuses and ("finite", PASS) in statuses


def test_finite_fails_on_nan_log_naming_the_log_and_every_poisoned_parameter():
    live = live_gradients("nan_log")
    report = check(sample("nan_log"), rules=["finite"])
    results = by_target(report, "finite")
    assert failing(report, "finite") == {*live, "intermediate gradients"}
    for name, grad in live.items():
        assert results[name].value == np.count_nonzero(~np.isfinite(grad))
    log_line = line_of(sample("nan_log"), "scores.log()")
    graph = results["intermediate gradients"]
    assert (graph.scope, graph.line) == ("model.head", log_line)
    assert "first made by LogBackward0 (log) in model.head at " in graph.message
    assert f"nan_log.py:{log_line}" in graph.message
    assert "its saved self holds zeros" in graph.message
    assert results["model.encoder.weight"].scope == "model.encoder"
    assert "LogBackward0" in results["model.encoder.weight"].message


def test_finite_allow_list_by_scope_and_op():
    allowed_everywhere = check(sample("nan_log"), rules=["finite"], **{"allow-nonfinite": ["model*"]})
    assert allowed_everywhere.passed
    assert all("(allowed)" in r.shown for r in allowed_everywhere.results if r.target != "intermediate gradients")
    only_head = check(sample("nan_log"), rules=["finite"], **{"allow-nonfinite": ["model.head*"]})
    # the encoder is outside the allowed scope: its parameters and its nodes still fail
    assert failing(only_head, "finite") == {"model.encoder.weight", "model.encoder.bias", "intermediate gradients"}
    graph = by_target(only_head, "finite")["intermediate gradients"]
    assert graph.value == 3 and "TanhBackward0 (tanh) in model" in graph.message  # the first node outside
    by_op = check(sample("nan_log"), rules=["finite"], **{"allow-nonfinite": ["log"]})
    # allowing the culprit op does not hide what it poisons downstream
    assert "intermediate gradients" in failing(by_op, "finite")
    assert by_target(by_op, "finite")["intermediate gradients"].value == 7


def test_connected_fails_naming_the_unused_layer():
    report = check(sample("disconnected"), rules=["connected"])
    assert failing(report, "connected") == {"model.aux.weight", "model.aux.bias"}
    result = by_target(report, "connected")["model.aux.weight"]
    assert result.scope == "model.aux" and result.shown == "no gradient"
    assert "model.aux.weight (module model.aux) received no gradient" in result.message
    assert live_gradients("disconnected")["model.aux.weight"] is None


def test_nonzero_fails_on_entirely_zero_gradients(tmp_path):
    script = write_script(tmp_path, "all_dead", ALL_DEAD)
    report = check(script, rules=["nonzero"])
    # no unit fires: the hidden layer and the weights reading the hidden units get exactly zero
    assert failing(report, "nonzero") == {"model.hidden.weight", "model.hidden.bias", "model.out.weight"}
    result = by_target(report, "nonzero")["model.hidden.weight"]
    assert result.value == 0.0 and "has an entirely zero gradient" in result.message
    assert by_target(report, "nonzero")["model.out.bias"].status == PASS


def test_nonzero_threshold_on_mostly_dead_units():
    live = live_gradients("dead_relu")
    assert check(sample("dead_relu"), rules=["nonzero"]).passed
    report = check(sample("dead_relu"), rules=["nonzero"], **{"min-nonzero": 0.5})
    expected = {name for name, grad in live.items() if np.count_nonzero(grad) / grad.size <= 0.5}
    assert failing(report, "nonzero") == expected == {"model.hidden.weight", "model.hidden.bias", "model.out.weight"}
    assert by_target(report, "nonzero")["model.hidden.weight"].value == pytest.approx(4 / 32)


def test_grad_norm_default_bounds_fail_on_exploding_and_vanishing():
    for name, too in (("exploding", lambda n: n > 1e4), ("vanishing", lambda n: n < 1e-7)):
        live = live_gradients(name)
        report = check(sample(name), rules=["grad-norm"])
        assert failing(report, "grad-norm") == {p for p, grad in live.items() if too(norm(grad))}
        for parameter, result in by_target(report, "grad-norm").items():
            assert result.value == pytest.approx(norm(live[parameter]), rel=1e-6)
    result = by_target(check(sample("exploding"), rules=["grad-norm"]), "grad-norm")["model.0.weight"]
    assert result.scope == "model.0" and "breaking '*<=10000'" in result.message


def test_grad_norm_globs_pick_parameters():
    live = live_gradients("mlp")
    report = check(sample("mlp"), rules=["grad-norm"], **{"grad-norm": ["model.fc2.*<=0.5"]})
    assert set(by_target(report, "grad-norm")) == {"model.fc2.weight", "model.fc2.bias"}
    assert norm(live["model.fc2.weight"]) > 0.5 > norm(live["model.fc2.bias"])
    assert failing(report, "grad-norm") == {"model.fc2.weight"}
    with pytest.raises(CheckConfigError, match="'encoder.\\*<=1' matches no parameter"):
        check(sample("mlp"), rules=["grad-norm"], **{"grad-norm": ["encoder.*<=1"]})


def test_grad_norm_of_a_missing_gradient_is_zero():
    report = check(sample("disconnected"), rules=["grad-norm"], **{"grad-norm": ["*>=1e-9"]})
    assert failing(report, "grad-norm") == {"model.aux.weight", "model.aux.bias"}
    assert by_target(report, "grad-norm")["model.aux.bias"].shown == "0 (no gradient)"


def layer_ratio(live):
    layers = {}
    for name, grad in live.items():
        layers.setdefault(name.rpartition(".")[0], []).append(norm(grad) ** 2)
    norms = {layer: math.sqrt(sum(squares)) for layer, squares in layers.items()}
    return min(norms, key=norms.get), min(norms.values()) / max(norms.values())


def test_vanishing_fails_naming_the_first_layer():
    smallest, ratio = layer_ratio(live_gradients("vanishing"))
    (result,) = check(sample("vanishing"), rules=["vanishing"]).results
    assert result.status == FAIL and result.target == "model" and result.scope == smallest == "model.0"
    assert result.value == pytest.approx(ratio, rel=1e-6) and ratio < 1e-15
    assert "layer model.0 (depth 1 of 20; model.0.weight, model.0.bias)" in result.message


def test_vanishing_threshold():
    _, ratio = layer_ratio(live_gradients("mlp"))
    (passing,) = check(sample("mlp"), rules=["vanishing"]).results
    assert passing.value == pytest.approx(ratio, rel=1e-6)
    (failing_result,) = check(sample("mlp"), rules=["vanishing"], **{"min-layer-ratio": 0.9}).results
    assert failing_result.status == FAIL and failing_result.scope == "model.fc1"


def dead_fraction(name):
    namespace = runpy.run_path(str(sample(name)), run_name="dead_fraction")
    hidden = namespace["model"].hidden if name == "dead_relu" else namespace["model"][0]
    x = namespace["x"].numpy()
    before = x @ hidden.weight.detach().numpy().T + hidden.bias.detach().numpy()
    return float(np.mean(~(before > 0).any(axis=0)))


def test_dead_units_fails_on_dead_relu_naming_the_feeding_layer():
    report = check(sample("dead_relu"), rules=["dead-units"])
    (result,) = report.results
    assert result.status == FAIL and result.target == "model.relu (relu)"
    assert result.value == pytest.approx(dead_fraction("dead_relu")) == 28 / 32
    assert "fed by model.hidden (model.hidden.weight, model.hidden.bias)" in result.message
    assert "dead units: 4, 5, 6" in result.message
    assert check(sample("dead_relu"), rules=["dead-units"], **{"max-dead-fraction": 0.9}).passed


def test_dead_units_passes_on_a_healthy_relu_network(tmp_path):
    script = write_script(tmp_path, "healthy_relu", HEALTHY_RELU)
    (result,) = check(script, rules=["dead-units"]).results
    assert result.status == PASS and result.target == "model.1 (relu)"
    namespace = runpy.run_path(str(script))
    first = namespace["model"][0]
    before = namespace["x"].numpy() @ first.weight.detach().numpy().T + first.bias.detach().numpy()
    assert result.value == pytest.approx(float(np.mean(~(before > 0).any(axis=0))))


def test_dead_units_counts_leaky_relu_units_stuck_on_the_leak(tmp_path):
    script = write_script(tmp_path, "leaky", """
        import gradscope as torch
        from gradscope import nn

        layer = nn.Linear(3, 4)
        with torch.no_grad():
            layer.weight.zero_()
            layer.bias.copy_(torch.tensor([1.0, -1.0, -2.0, 0.5]))
        x = torch.randn(5, 3)


        def loss():
            return nn.functional.leaky_relu(layer(x), 0.1).sum()
    """)
    (result,) = check(script, rules=["dead-units"]).results
    assert result.value == 0.5 and result.status == PASS and "2 of 4 units" in result.shown


@pytest.mark.parametrize("shape", [(1, 3), (3,)], ids=["batch of 1", "1-d output"])
def test_dead_units_skips_when_each_unit_has_one_sample(tmp_path, shape):
    # a ReLU unit off on a single input isn't dead: half of them are, by chance, at initialisation
    script = write_script(tmp_path, "one_sample", f"""
        import gradscope as torch
        from gradscope import nn

        layer = nn.Linear(3, 64)
        x = torch.randn{shape}


        def loss():
            return nn.functional.relu(layer(x)).sum()
    """)
    with pytest.raises(CheckConfigError, match="every selected rule skipped"):
        check(script, rules=["dead-units"])
    (result,) = [r for r in check(script, rules=["dead-units", "finite"]).results if r.rule == "dead-units"]
    assert result.status == SKIP and f"one sample per unit ({'1-d output' if len(shape) == 1 else 'batch of 1'})" \
        in result.message


def test_gradcheck_fails_on_bad_backward_naming_the_custom_function():
    (result,) = check(sample("bad_backward"), rules=["gradcheck"]).results
    assert result.status == FAIL and result.target == "loss()"
    assert "culprit: ScaledSoftplusBackward (op ScaledSoftplus)" in result.message
    assert result.scope == "model" and result.line == line_of(sample("bad_backward"), "ScaledSoftplus.apply(")
    assert "worst element model.fc1." in result.message
    # the backward forgets a factor beta = 2: analytical is half the numerical
    assert result.value > 0
    assert check(sample("bad_backward"), rules=["gradcheck"], **{"gradcheck-atol": 1.0, "gradcheck-rtol": 1.0}).passed


def test_exploding_across_steps(tmp_path):
    diverging = write_script(tmp_path, "diverging", QUADRATIC.replace("LR", "1.0"))
    (result,) = check(diverging, steps=3, rules=["exploding"]).results
    assert result.status == FAIL and result.step == 2
    assert result.value == pytest.approx(199.0 ** 2)
    assert "the largest gradient there is w's" in result.message
    assert check(diverging, steps=3, rules=["exploding"], **{"max-growth": 1e5}).passed
    converging = write_script(tmp_path, "converging", QUADRATIC.replace("LR", "0.001"))
    (result,) = check(converging, steps=3, rules=["exploding"]).results
    assert result.status == PASS and result.value == pytest.approx(0.8)


def test_exploding_needs_two_steps():
    with pytest.raises(CheckConfigError, match="exploding rule compares training steps: run with --steps 2"):
        check(sample("mlp"), rules=["exploding"])
    # a script run as __main__ gives one step per backward: td_lambda performs five
    (result,) = check(sample("td_lambda"), rules=["exploding"]).results
    assert result.status == PASS and result.step in (1, 2, 3, 4)


def test_exploding_names_the_first_parameter_gone_non_finite():
    report = check(sample("exploding"), steps=2)
    (result,) = by_target(report, "exploding").values()
    assert result.status == FAIL and math.isnan(result.value) and result.step == 1
    assert "turned non-finite at step 1" in result.message and result.scope == "model.0"
    assert "exploding" in report.rules  # the default rules include it from two steps on


def test_rules_apply_at_every_step_and_report_the_first_failing_step(tmp_path):
    # the weights blow up after the first step, so finite passes at step 0 and fails at step 1
    report = check(sample("exploding"), steps=3, rules=["finite"])
    result = by_target(report, "finite")["model.0.weight"]
    assert result.status == FAIL and result.step == 1
    assert check(sample("exploding"), rules=["finite"]).passed


def test_default_rules_and_exit_status_of_every_breaking_sample():
    expected = {"mlp": set(), "disconnected": {"connected", "nonzero", "grad-norm"},
                "nan_log": {"finite", "grad-norm"}, "dead_relu": {"dead-units"},
                "vanishing": {"grad-norm", "vanishing"}, "exploding": {"grad-norm"}}
    for name, rules in expected.items():
        report = check(sample(name))
        assert {result.rule for result in report.failures} == rules, name
        assert "gradcheck" not in report.rules and "exploding" not in report.rules


# two models a script trains in turn, as a distillation tutorial does (the teacher, then the student), and a
# GAN's two steps: each pass trains one model; `frozen` is a layer of the student that a bug left out
TWO_MODELS = """
    import gradscope as torch
    from gradscope import nn

    torch.manual_seed(0)
    x = torch.randn(8, 4)
    teacher = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))


    class Student(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.frozen = nn.Linear(4, 1), nn.Linear(3, 3)

        def forward(self, x):
            return self.body(x)


    student = Student()
    for model in (teacher, student, teacher):
        for step in range(2):
            model(x).pow(2).mean().backward()
            model.zero_grad()
"""

GAN_STEPS = """
    import gradscope as torch
    from gradscope import nn

    torch.manual_seed(0)
    netG = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    netD = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    for step in range(2):
        fake = netG(torch.randn(8, 2))
        netD(fake.detach()).mean().backward()  # the discriminator's step: the generator sits it out
        netD(fake).mean().backward()  # the generator's step goes through the discriminator
"""


def test_a_model_that_sat_a_pass_out_is_not_disconnected(tmp_path):
    """Per pass, the rules that ask for a gradient look at the models that pass trained (a model is the first
    part of its parameters' names): the teacher in the student's passes is not a disconnected layer, but the
    student's own unused layer still is."""
    report = check(write_script(tmp_path, "two_models", TWO_MODELS), rules=["connected", "nonzero"])
    assert failing(report, "connected") == {"student.frozen.weight", "student.frozen.bias"}
    assert failing(report, "nonzero") == {"student.frozen.weight", "student.frozen.bias"}
    failed_steps = {result.step for result in report.results if result.failed}
    assert failed_steps and failed_steps <= {2, 3}  # only in the student's passes
    report = check(write_script(tmp_path, "gan_steps", GAN_STEPS), rules=["connected", "nonzero"])
    assert report.passed, [result.message for result in report.results if result.failed]


def test_a_model_no_gradient_reached_at_all_is_still_disconnected(tmp_path):
    """When no model got a gradient in a pass, every parameter is expected (the loss never reached the model)."""
    script = write_script(tmp_path, "detached", """
        import gradscope as torch
        from gradscope import nn

        model = nn.Linear(3, 1)
        x = torch.randn(4, 3, requires_grad=True)
        (model(x).detach() * x).sum().backward()
    """)
    assert failing(check(script, rules=["connected"]), "connected") == {"model.weight", "model.bias"}


def test_a_pass_about_a_tensor_of_the_scripts_own_expects_no_model(tmp_path):
    """The spatial transformer tutorial ends with a gradient of the affine matrix alone: the model sat it out."""
    script = write_script(tmp_path, "theta", """
        import gradscope as torch
        from gradscope import nn

        model = nn.Linear(3, 1)
        x = torch.randn(4, 3)
        model(x).sum().backward()
        theta = torch.randn(2, 3, requires_grad=True)
        (theta * 2).sum().backward()
    """)
    assert check(script, rules=["connected", "nonzero"]).passed
