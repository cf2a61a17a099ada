"""Training scripts written the way PyTorch's examples and tutorials write them (a GAN with two optimizers and
`detach`, a VAE with the reparameterisation trick and a DataLoader, a DQN update with a target network, masked
assignment and `clip_grad_value_`, a GRU encoder-decoder with Bahdanau attention and teacher forcing, a checkpoint
saved and resumed (model, AdamW, StepLR and RNG state through torch.save/torch.load), an argparse script with a
DataLoader over dict samples with workers, persistent workers and OneCycleLR; and six of PyTorch's examples made small:
LSTMCells trained by LBFGS, REINFORCE with Categorical, super-resolution with PixelShuffle, a word language model with
tied weights and with a Transformer, fast neural style; and a text classifier over packed sequences with attention
masks, checkpointing and a weighted sampler, a vision transformer with trunc_normal_ init and a warmup
schedule, the spatial transformer tutorial's affine_grid/grid_sample network, the knowledge distillation tutorial
(KL with temperature, CosineEmbeddingLoss), and SimCLR's NT-Xent with a U-Net (ConvTranspose2d, Dice, an EMA through
swa_utils), and a nanoGPT-style character model (SDPA and an explicit causal mask, weight tying, AdamW groups,
top-k generation with multinomial), and the char-RNN name classifier with a RealNVP flow over MultivariateNormal),
each
run unchanged twice: with PyTorch, and with `import torch` resolving to gradscope. What they print must agree:
every loss line as printed, to float32 accumulation order, the final tensors to float32 accumulation error (the GAN's
30 Adam steps through batch norm drift in the fourth decimal)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPTS = Path(__file__).resolve().parent / "data" / "outsider"
ON_GRADSCOPE = ("import runpy, sys; from gradscope.trace.torch_alias import TorchAlias; "
                "sys.meta_path.insert(0, TorchAlias()); sys.argv = sys.argv[1:]; "
                "runpy.run_path(sys.argv[0], run_name='__main__')")
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _run(script: Path, on_gradscope: bool) -> list[str]:
    command = [sys.executable, "-c", ON_GRADSCOPE, str(script)] if on_gradscope else [sys.executable, str(script)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=script.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def _same_as_printed(x: str, y: str) -> bool:
    """Two printed numbers that differ by no more than float32 accumulation order (which differs between CPUs: on an
    AMD EPYC host the spatial transformer's second-epoch loss prints 2.326518 against PyTorch's 2.326523, ~20 of
    float32's last places) plus one step of the printed precision (round(v, 4) can land either side of a digit)."""
    a, b = float(x), float(y)
    decimals = max(len(s.split(".")[1].split("e")[0]) for s in (x, y))
    step = 0.0 if "e" in x + y else 10.0 ** -decimals
    return abs(a - b) <= 1e-5 * max(abs(a), abs(b)) + step


@pytest.mark.parametrize("name", ["gan", "vae", "dqn", "seq2seq", "checkpoint_resume", "dataloader_argparse",
                                  "time_sequence_prediction", "reinforce", "super_resolution", "word_language_model",
                                  "transformer_language_model", "fast_neural_style", "text_classifier",
                                  "vision_transformer", "spatial_transformer", "knowledge_distillation",
                                  "contrastive_unet", "nano_gpt", "char_rnn_flow"])
def test_the_script_prints_what_it_prints_under_pytorch(name):
    theirs = _run(SCRIPTS / f"{name}.py", on_gradscope=False)
    ours = _run(SCRIPTS / f"{name}.py", on_gradscope=True)
    assert len(ours) == len(theirs), (ours, theirs)
    losses = [(a, b) for a, b in zip(ours, theirs, strict=True) if "tensor" not in a and "tensor" not in b
              and not a.startswith(" ")]
    assert len(losses) >= 3
    for a, b in losses:
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b), (a, b)
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
            assert _same_as_printed(x, y), (a, b)
    tensors = [(a, b) for a, b in zip(ours, theirs, strict=True) if (a, b) not in losses]
    for a, b in tensors:
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b)  # the same layout: shape, grad_fn, requires_grad
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
            assert abs(float(x) - float(y)) <= 2e-3, (a, b)
