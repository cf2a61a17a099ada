"""Conv, pooling, normalisation, embedding, dropout, shape and activation layers against PyTorch:
repr, parameter names and shapes, state_dict keys, outputs and every gradient in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
from module_oracle import run_both, twin

import gradscope
import gradscope.nn as gnn


@pytest.fixture(autouse=True)
def _seed():
    gradscope.manual_seed(0)


def _randn(*shape):
    return lambda torch: (torch.randn(*shape, dtype=torch.float64, requires_grad=True),)


LAYERS = {
    "conv1d": (lambda nn: nn.Conv1d(2, 4, 3), _randn(2, 2, 7)),
    "conv1d strided padded": (lambda nn: nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2), _randn(2, 2, 9)),
    "conv1d same reflect": (lambda nn: nn.Conv1d(2, 2, 4, padding="same", padding_mode="reflect", bias=False),
                            _randn(1, 2, 8)),
    "conv1d circular": (lambda nn: nn.Conv1d(2, 2, 3, padding=1, padding_mode="circular"), _randn(1, 2, 6)),
    "conv2d": (lambda nn: nn.Conv2d(2, 3, 3, padding=1), _randn(2, 2, 5, 4)),
    "conv2d groups": (lambda nn: nn.Conv2d(4, 6, (2, 3), stride=(2, 1), groups=2), _randn(1, 4, 6, 5)),
    "conv2d replicate": (lambda nn: nn.Conv2d(1, 2, 3, padding=(1, 2), padding_mode="replicate"), _randn(1, 1, 4, 4)),
    "conv2d same": (lambda nn: nn.Conv2d(2, 2, (2, 3), padding="same", dilation=(1, 2)), _randn(1, 2, 5, 6)),
    "conv2d valid": (lambda nn: nn.Conv2d(2, 2, 3, padding="valid"), _randn(1, 2, 5, 5)),
    "conv2d unbatched": (lambda nn: nn.Conv2d(2, 3, 2), _randn(2, 4, 4)),
    "conv_transpose1d": (lambda nn: nn.ConvTranspose1d(2, 4, 3, stride=2, output_padding=1), _randn(2, 2, 5)),
    "conv_transpose2d": (lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, groups=2, bias=False),
                         _randn(1, 4, 3, 3)),
    "conv3d": (lambda nn: nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=(1, 0, 1)), _randn(2, 2, 3, 5, 4)),
    "conv3d groups dilated": (lambda nn: nn.Conv3d(4, 2, 2, dilation=2, groups=2, bias=False), _randn(1, 4, 5, 5, 5)),
    "conv3d same circular": (lambda nn: nn.Conv3d(1, 2, 3, padding="same", padding_mode="circular"),
                             _randn(1, 1, 3, 4, 3)),
    "conv3d reflect unbatched": (lambda nn: nn.Conv3d(2, 2, 2, padding=1, padding_mode="reflect"), _randn(2, 3, 3, 3)),
    "conv_transpose3d": (lambda nn: nn.ConvTranspose3d(2, 4, (2, 3, 2), stride=2, padding=(0, 1, 0),
                                                       output_padding=(1, 0, 0), groups=2), _randn(1, 2, 2, 3, 2)),
    "maxpool3d": (lambda nn: nn.MaxPool3d((2, 3, 2), stride=(1, 2, 2), padding=1, ceil_mode=True),
                  _randn(2, 2, 3, 5, 4)),
    "maxpool3d dilated indices": (lambda nn: nn.MaxPool3d(2, stride=1, dilation=(1, 2, 1), return_indices=True),
                                  _randn(1, 2, 3, 4, 3)),
    "avgpool3d": (lambda nn: nn.AvgPool3d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
                  _randn(1, 2, 4, 5, 5)),
    "avgpool3d divisor unbatched": (lambda nn: nn.AvgPool3d((1, 2, 2), divisor_override=3), _randn(2, 3, 4, 4)),
    "adaptive_avgpool3d": (lambda nn: nn.AdaptiveAvgPool3d((2, None, 3)), _randn(1, 2, 5, 3, 4)),
    "adaptive_maxpool3d": (lambda nn: nn.AdaptiveMaxPool3d((2, 3, 2), return_indices=True), _randn(2, 2, 5, 4, 3)),
    "batchnorm3d eval": (lambda nn: nn.BatchNorm3d(2).eval(), _randn(2, 2, 2, 3, 2)),
    "instancenorm3d": (lambda nn: nn.InstanceNorm3d(2, affine=True), _randn(2, 2, 3, 2, 3)),
    "instancenorm3d tracking unbatched": (lambda nn: nn.InstanceNorm3d(2, track_running_stats=True),
                                          _randn(2, 3, 2, 3)),
    "dropout3d eval": (lambda nn: nn.Dropout3d(0.5).eval(), _randn(1, 2, 2, 2, 2)),
    "constant_pad3d": (lambda nn: nn.ConstantPad3d((1, 0, 2, 1, 0, 1), -1.0), _randn(1, 2, 2, 2, 3)),
    "zero_pad3d": (lambda nn: nn.ZeroPad3d(1), _randn(1, 2, 2, 2, 2)),
    "reflection_pad3d": (lambda nn: nn.ReflectionPad3d((1, 1, 0, 1, 1, 0)), _randn(1, 2, 2, 3, 3)),
    "replication_pad3d": (lambda nn: nn.ReplicationPad3d(1), _randn(1, 1, 2, 2, 3)),
    "circular_pad3d": (lambda nn: nn.CircularPad3d((1, 0, 0, 1, 1, 1)), _randn(1, 1, 2, 2, 3)),
    "pixel_shuffle": (lambda nn: nn.PixelShuffle(2), _randn(2, 8, 2, 3)),
    "pixel_unshuffle": (lambda nn: nn.PixelUnshuffle(3), _randn(1, 2, 3, 6)),
    "channel_shuffle": (lambda nn: nn.ChannelShuffle(2), _randn(2, 4, 3)),
    "local_response_norm": (lambda nn: nn.LocalResponseNorm(3, k=2.0), _randn(2, 5, 3, 2)),
    "lppool1d": (lambda nn: nn.LPPool1d(2, 3, stride=1), _randn(2, 3, 6)),
    "lppool2d": (lambda nn: nn.LPPool2d(1, 2), _randn(1, 2, 4, 4)),
    "lppool3d": (lambda nn: nn.LPPool3d(2, (1, 2, 2), ceil_mode=True), _randn(1, 2, 2, 3, 3)),
    "alpha_dropout eval": (lambda nn: nn.AlphaDropout(0.2).eval(), _randn(2, 3)),
    "feature_alpha_dropout eval": (lambda nn: nn.FeatureAlphaDropout().eval(), _randn(2, 3, 2)),
    "maxpool1d": (lambda nn: nn.MaxPool1d(3, stride=2, padding=1), _randn(2, 3, 8)),
    "maxpool2d": (lambda nn: nn.MaxPool2d(2, ceil_mode=True), _randn(2, 2, 5, 5)),
    "maxpool2d indices": (lambda nn: nn.MaxPool2d(2, return_indices=True), _randn(1, 2, 4, 4)),
    "avgpool1d": (lambda nn: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), _randn(2, 3, 8)),
    "avgpool2d": (lambda nn: nn.AvgPool2d((2, 3), padding=1, divisor_override=4), _randn(1, 2, 5, 6)),
    "adaptive_avgpool1d": (lambda nn: nn.AdaptiveAvgPool1d(3), _randn(2, 3, 7)),
    "adaptive_avgpool2d": (lambda nn: nn.AdaptiveAvgPool2d((2, None)), _randn(1, 2, 5, 4)),
    "adaptive_maxpool2d": (lambda nn: nn.AdaptiveMaxPool2d(2), _randn(1, 2, 5, 4)),
    "upsample nearest": (lambda nn: nn.Upsample(scale_factor=2), _randn(1, 2, 3, 3)),
    "upsample bilinear": (lambda nn: nn.Upsample(size=(5, 4), mode="bilinear", align_corners=True), _randn(1, 2, 3, 3)),
    "layernorm": (lambda nn: nn.LayerNorm(4), _randn(2, 3, 4)),
    "layernorm no bias": (lambda nn: nn.LayerNorm((3, 4), eps=1e-3, bias=False), _randn(2, 3, 4)),
    "layernorm plain": (lambda nn: nn.LayerNorm(4, elementwise_affine=False), _randn(2, 4)),
    "rmsnorm": (lambda nn: nn.RMSNorm([3, 4]), _randn(2, 3, 4)),
    "rmsnorm eps": (lambda nn: nn.RMSNorm(4, eps=1e-3), _randn(2, 4)),
    "groupnorm": (lambda nn: nn.GroupNorm(2, 4), _randn(2, 4, 3)),
    "instancenorm1d": (lambda nn: nn.InstanceNorm1d(3), _randn(2, 3, 5)),
    "instancenorm2d unbatched": (lambda nn: nn.InstanceNorm2d(3, affine=True), _randn(3, 4, 4)),
    "bilinear": (lambda nn: nn.Bilinear(3, 2, 4),
                 lambda torch: (torch.randn(5, 3, dtype=torch.float64, requires_grad=True),
                                torch.randn(5, 2, dtype=torch.float64, requires_grad=True))),
    "flatten": (lambda nn: nn.Flatten(), _randn(2, 3, 4)),
    "unflatten": (lambda nn: nn.Unflatten(-1, (2, 2)), _randn(2, 3, 4)),
    "identity": (lambda nn: nn.Identity(3, unused=True), _randn(2, 3)),
    "dropout eval": (lambda nn: nn.Dropout(0.5).eval(), _randn(2, 3)),
    "prelu": (lambda nn: nn.PReLU(3, init=0.1), _randn(2, 3, 4)),
    "constant_pad1d": (lambda nn: nn.ConstantPad1d((1, 2), 1.5), _randn(2, 3, 4)),
    "zero_pad2d": (lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), _randn(1, 2, 3, 3)),
    "reflection_pad1d": (lambda nn: nn.ReflectionPad1d(2), _randn(2, 3, 4)),
    "reflection_pad2d": (lambda nn: nn.ReflectionPad2d((1, 2, 0, 1)), _randn(1, 2, 3, 4)),
    "replication_pad2d": (lambda nn: nn.ReplicationPad2d(1), _randn(1, 2, 3, 3)),
    "circular_pad1d": (lambda nn: nn.CircularPad1d((2, 1)), _randn(2, 3, 4)),
    "unfold": (lambda nn: nn.Unfold(2, padding=1, stride=2), _randn(1, 2, 4, 5)),
    "fold": (lambda nn: nn.Fold((4, 5), 2), _randn(1, 8, 12)),
    "softmax2d": (lambda nn: nn.Softmax2d(), _randn(2, 3, 2, 2)),
    "upsampling nearest": (lambda nn: nn.UpsamplingNearest2d(scale_factor=2), _randn(1, 2, 2, 3)),
    "upsampling bilinear": (lambda nn: nn.UpsamplingBilinear2d(size=(3, 5)), _randn(1, 2, 2, 3)),
}

ACTIVATIONS = {
    "relu": lambda nn: nn.ReLU(), "relu6": lambda nn: nn.ReLU6(), "elu": lambda nn: nn.ELU(alpha=0.5),
    "celu": lambda nn: nn.CELU(alpha=2.0), "selu": lambda nn: nn.SELU(), "gelu tanh": lambda nn: nn.GELU("tanh"),
    "silu": lambda nn: nn.SiLU(), "mish": lambda nn: nn.Mish(), "hardtanh": lambda nn: nn.Hardtanh(-0.5, 2.0),
    "hardsigmoid": lambda nn: nn.Hardsigmoid(), "hardswish": lambda nn: nn.Hardswish(),
    "leaky_relu": lambda nn: nn.LeakyReLU(0.2), "threshold": lambda nn: nn.Threshold(0.1, 20.0),
    "sigmoid": lambda nn: nn.Sigmoid(), "tanh": lambda nn: nn.Tanh(), "logsigmoid": lambda nn: nn.LogSigmoid(),
    "softplus": lambda nn: nn.Softplus(beta=2.0, threshold=5.0), "softsign": lambda nn: nn.Softsign(),
    "tanhshrink": lambda nn: nn.Tanhshrink(), "glu": lambda nn: nn.GLU(1), "softmax": lambda nn: nn.Softmax(1),
    "log_softmax": lambda nn: nn.LogSoftmax(-1), "softmin": lambda nn: nn.Softmin(0),
    "hardshrink": lambda nn: nn.Hardshrink(0.3), "softshrink": lambda nn: nn.Softshrink(),
}


@pytest.mark.parametrize("case", LAYERS, ids=str)
def test_layer_matches_torch(case):
    make, inputs = LAYERS[case]
    ours, theirs = twin(make)
    run_both(ours, theirs, inputs)


@pytest.mark.parametrize("case", ACTIVATIONS, ids=str)
def test_activation_module_matches_torch(case):
    ours, theirs = twin(ACTIVATIONS[case])
    run_both(ours, theirs, _randn(3, 4))


def test_conv_transpose_output_size_matches_torch():
    ours, theirs = twin(lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2))
    torch = pytest.importorskip("torch")
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    expected = theirs(x, output_size=[10, 9])
    np.testing.assert_allclose(ours(gradscope.tensor(x.numpy()), output_size=[10, 9]).detach().numpy(),
                               expected.detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(gradscope.tensor(x.numpy()), output_size=[12, 12])


@pytest.mark.parametrize("make", [
    lambda nn: nn.BatchNorm1d(3),
    lambda nn: nn.BatchNorm1d(3, momentum=None),
    lambda nn: nn.BatchNorm2d(2, affine=False, eps=1e-3),
    lambda nn: nn.BatchNorm2d(2, track_running_stats=False),
    lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=0.3),
    lambda nn: nn.BatchNorm3d(2),
    lambda nn: nn.InstanceNorm3d(2, affine=True, track_running_stats=True),
], ids=["bn1d", "bn1d cumulative", "bn2d plain", "bn2d untracked", "instancenorm tracked", "bn3d",
        "instancenorm3d tracked"])
def test_batch_norm_training_then_eval_matches_torch(make):
    ours, theirs = twin(make)
    name = type(ours).__name__.lower()
    shape = (4, 3, 5) if "1d" in name else (2, 2, 3, 2, 3) if "3d" in name else (3, 2, 4, 4)
    run_both(ours, theirs, _randn(*shape), calls=3)
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, _randn(*shape))


def test_batch_norm_state_dict_keys_and_errors():
    bn = gnn.BatchNorm1d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == gradscope.int64
    assert list(gnn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(gradscope.ones(2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        gnn.BatchNorm2d(3)(gradscope.ones(2, 3, 2))
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        gnn.BatchNorm3d(3)(gradscope.ones(2, 3, 2, 2))


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"max_norm": 1.0}, {"scale_grad_by_freq": True}],
                         ids=str)
def test_embedding_matches_torch(kwargs):
    ours, theirs = twin(lambda nn: nn.Embedding(6, 3, **kwargs))
    run_both(ours, theirs, lambda torch: (torch.tensor([[0, 1, 1], [5, 2, 1]]),))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["offsets", "2d", "last offset", "padding"])
def test_embedding_bag_matches_torch(mode, layout):
    kwargs = {"include_last_offset": True} if layout == "last offset" else {}
    if layout == "padding":
        kwargs["padding_idx"] = 2
    ours, theirs = twin(lambda nn: nn.EmbeddingBag(6, 3, mode=mode, **kwargs))
    if layout == "2d":
        inputs = lambda torch: (torch.tensor([[0, 2, 2], [5, 1, 3]]),)  # noqa: E731
    elif layout == "last offset":
        inputs = lambda torch: (torch.tensor([1, 2, 4, 5, 0]), torch.tensor([0, 2, 2, 5]))  # noqa: E731
    else:
        inputs = lambda torch: (torch.tensor([1, 2, 4, 5, 2, 2]), torch.tensor([0, 2, 2, 4]))  # noqa: E731
    run_both(ours, theirs, inputs)


def test_embedding_bag_per_sample_weights_matches_torch():
    ours, theirs = twin(lambda nn: nn.EmbeddingBag(6, 3, mode="sum"))
    run_both(ours, theirs, lambda torch: (torch.tensor([1, 2, 4, 5]), torch.tensor([0, 3]),
                                          torch.rand(4, dtype=torch.float64, requires_grad=True)))


def test_embedding_init_and_from_pretrained():
    table = gnn.Embedding(50, 4, padding_idx=-1)
    assert table.padding_idx == 49
    assert np.all(table.weight.detach().numpy()[49] == 0)
    assert 0.5 < table.weight.detach().numpy()[:49].std() < 1.5
    frozen = gnn.Embedding.from_pretrained(gradscope.eye(3))
    assert not frozen.weight.requires_grad and repr(frozen) == "Embedding(3, 3)"


@pytest.mark.parametrize("make, fan_in", [
    (lambda: gnn.Conv2d(4, 6, 3, groups=2), 2 * 9),
    (lambda: gnn.Conv1d(3, 5, 4), 3 * 4),
    (lambda: gnn.ConvTranspose2d(4, 6, 2), 6 * 4),
    (lambda: gnn.Bilinear(5, 2, 3), 5),
], ids=["conv2d", "conv1d", "conv_transpose2d", "bilinear"])
def test_default_init_is_bounded_by_fan_in(make, fan_in):
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for param in layer.parameters():
        values = param.detach().numpy()
        assert np.all(np.abs(values) <= bound + 1e-7)
        assert values.std() > bound / 4


def test_dropout_layers_train_and_eval():
    x = gradscope.ones(4, 3, 5, 5)
    for layer in (gnn.Dropout(0.5), gnn.Dropout1d(0.5), gnn.Dropout2d(0.5)):
        sample = x[:, :, :, 0] if isinstance(layer, gnn.Dropout1d) else x
        out = layer(sample).numpy()
        assert set(np.unique(out)) <= {0.0, 2.0}
        assert layer.eval()(sample) is sample or np.all(layer(sample).numpy() == 1)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        gnn.Dropout(1.5)


def test_embedding_bag_from_pretrained_and_get_buffer():
    bag = gnn.EmbeddingBag.from_pretrained(gradscope.eye(3), mode="sum")
    assert not bag.weight.requires_grad and repr(bag) == "EmbeddingBag(3, 3, mode='sum')"
    np.testing.assert_array_equal(bag(gradscope.tensor([[0, 2]])).numpy(), [[1.0, 0.0, 1.0]])
    model = gnn.Sequential(gnn.BatchNorm1d(2))
    assert model.get_buffer("0.running_var") is model[0].running_var
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        model.get_buffer("0.weight")
