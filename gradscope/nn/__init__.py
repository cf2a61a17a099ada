"""torch.nn for gradscope: Module, Parameter, layers, containers, losses, functional and init.

>>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
>>> loss = nn.MSELoss()(model(gradscope.randn(8, 4)), gradscope.zeros(8, 1))
>>> loss.backward()
"""

from gradscope._lazy import lazy_exports as _lazy_exports
from gradscope.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from gradscope.nn.module import Module
from gradscope.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

# Module, Parameter and the containers are what every model (and the recorder) needs; the layers, losses,
# functional, init and utils load on first use (functional alone is 25 modules).
__getattr__, __dir__ = _lazy_exports(
    __name__, globals(),
    submodules=("_functional", "activation", "adaptive", "attention", "common_types", "compiled", "conv",
                "cross_map_lrn", "distance", "dropout", "functional", "init", "lazy", "linear", "loss", "modules",
                "normalization", "padding", "parallel", "pooling", "rnn", "shuffle", "sparse", "transformer", "utils"),
    names={
        "gradscope.nn._functional.linear_cross_entropy": ("LinearCrossEntropyOptions",),
        "gradscope.nn.activation": ("CELU", "ELU", "GELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish",
                                    "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "ReLU",
                                    "ReLU6", "RReLU", "Sigmoid", "SiLU", "Softmax", "Softmax2d", "Softmin",
                                    "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold"),
        "gradscope.nn.adaptive": ("AdaptiveLogSoftmaxWithLoss",),
        "gradscope.nn.attention": ("MultiheadAttention",),
        "gradscope.nn.conv": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
        "gradscope.nn.cross_map_lrn": ("CrossMapLRN2d",),
        "gradscope.nn.distance": ("CosineSimilarity", "PairwiseDistance"),
        "gradscope.nn.dropout": ("AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                 "FeatureAlphaDropout"),
        "gradscope.nn.lazy": ("LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
                              "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
                              "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear"),
        "gradscope.nn.linear": ("Bilinear", "Flatten", "Fold", "Identity", "Linear", "Unflatten", "Unfold"),
        "gradscope.nn.loss": ("BCELoss", "BCEWithLogitsLoss", "CosineEmbeddingLoss", "CrossEntropyLoss", "CTCLoss",
                              "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss",
                              "LinearCrossEntropyLoss", "MarginRankingLoss", "MSELoss", "MultiLabelMarginLoss",
                              "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss", "NLLLoss2d",
                              "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss",
                              "TripletMarginWithDistanceLoss"),
        "gradscope.nn.normalization": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d",
                                       "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "LocalResponseNorm",
                                       "RMSNorm", "SyncBatchNorm"),
        "gradscope.nn.padding": ("CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
                                 "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
                                 "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d",
                                 "ZeroPad2d", "ZeroPad3d"),
        "gradscope.nn.parallel": ("DataParallel",),
        "gradscope.nn.pooling": ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
                                 "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
                                 "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
                                 "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
                                 "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"),
        "gradscope.nn.rnn": ("GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"),
        "gradscope.nn.shuffle": ("ChannelShuffle", "PixelShuffle", "PixelUnshuffle"),
        "gradscope.nn.sparse": ("Embedding", "EmbeddingBag"),
        "gradscope.nn.transformer": ("Transformer", "TransformerDecoder", "TransformerDecoderLayer",
                                     "TransformerEncoder", "TransformerEncoderLayer"),
    },
)

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveLogSoftmaxWithLoss", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d", "AlphaDropout", "AvgPool1d", "AvgPool2d", "AvgPool3d", "BCELoss", "BCEWithLogitsLoss",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Bilinear", "Buffer", "CELU", "CTCLoss", "ChannelShuffle",
    "CircularPad1d",
    "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "CosineEmbeddingLoss", "CosineSimilarity",
    "CrossEntropyLoss", "CrossMapLRN2d", "DataParallel", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU",
    "Embedding",
    "EmbeddingBag", "FeatureAlphaDropout", "Flatten", "Fold", "FractionalMaxPool2d", "FractionalMaxPool3d", "GELU",
    "GLU", "GRU", "GRUCell", "GaussianNLLLoss",
    "GroupNorm", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "HingeEmbeddingLoss", "HuberLoss", "Identity",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "KLDivLoss", "L1Loss", "LPPool1d", "LPPool2d", "LPPool3d",
    "LSTM", "LSTMCell", "LayerNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d",
    "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear", "LeakyReLU", "Linear",
    "LinearCrossEntropyLoss", "LinearCrossEntropyOptions",
    "LocalResponseNorm", "LogSigmoid", "LogSoftmax", "MSELoss", "MarginRankingLoss", "MaxPool1d", "MaxPool2d",
    "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Mish", "Module", "ModuleDict", "ModuleList",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
    "MultiheadAttention",
    "NLLLoss", "NLLLoss2d", "PReLU", "PairwiseDistance", "Parameter", "ParameterDict", "ParameterList", "PixelShuffle",
    "PixelUnshuffle", "PoissonNLLLoss", "RMSNorm", "RNN", "RNNBase", "RNNCell", "RNNCellBase", "ReLU", "ReLU6", "RReLU",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "SELU", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "SoftMarginLoss", "Softmax", "Softmax2d", "Softmin",
    "Softplus", "Softshrink", "Softsign", "SyncBatchNorm", "Tanh", "Tanhshrink", "Threshold", "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss", "Unflatten",
    "Unfold", "UninitializedBuffer", "UninitializedParameter", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "functional", "init", "utils"
]
