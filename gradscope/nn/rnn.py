"""Recurrent layers: RNN, LSTM and GRU (stacked, bidirectional, batch_first, inter-layer dropout,
initial states) and their single-step cells, with PyTorch's parameter names, shapes and init.

Each layer projects the whole input sequence at once (one addmm), then steps through time with the
hidden-to-hidden product only, which is what makes the loop cheap.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import gradscope
from gradscope.autograd import fused_cells
from gradscope.autograd.factories import empty
from gradscope.autograd.functions import tanh, where  # not the namespace's out= taking forms
from gradscope.autograd.tensor import Tensor
from gradscope.nn import functional as F
from gradscope.nn import init
from gradscope.nn.module import Module
from gradscope.nn.parameter import Parameter
from gradscope.nn.utils.rnn import PackedSequence, pad_packed_sequence, repack_like

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _tanh_step(x_proj: Tensor, hidden: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One step of nn.RNN on its input's projection, as ATen's SimpleCell: the state's product, the input's added."""
    return tanh(F.linear(hidden, w_hh, b_hh) + x_proj)


def _relu_step(x_proj: Tensor, hidden: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    return gradscope.relu(F.linear(hidden, w_hh, b_hh) + x_proj)


def _lstm_step(x_proj: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None) -> tuple:
    """One LSTM step on its input's projection, as ATen's LSTMCell: the state's product, the input's added."""
    hidden, cell = state
    return _lstm_gates(F.linear(hidden, w_hh, b_hh) + x_proj, cell, w_hr)


def _lstm_gates(gates: Tensor, cell: Tensor, w_hr: Tensor | None) -> tuple:
    """(h', c') from the summed gates, with ATen's nodes in its order: the gates split (unsafe_chunk:
    UnsafeSplitBackward0), each activated in gate order (i, f, g, o: ATen's in-place sigmoid_/tanh_ record the
    nodes out-of-place ops do), then c' = f·c + i·g and h' = o·tanh c'. With a projection (proj_size > 0) the
    hidden state is W_hr·h'."""
    in_gate, forget_gate, cell_gate, out_gate = gates.unsafe_chunk(4, -1)
    in_gate, forget_gate, cell_gate, out_gate = (in_gate.sigmoid(), forget_gate.sigmoid(), cell_gate.tanh(),
                                                 out_gate.sigmoid())
    cell = forget_gate * cell + in_gate * cell_gate
    hidden = out_gate * cell.tanh()
    return (hidden if w_hr is None else F.linear(hidden, w_hr)), cell


def _gru_step(x_proj: Tensor, hidden: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU step, computed as ATen's GRUCell computes it: the input's projection split, then the state's
    product made and split, and h' = (h - n)·z + n, which is (1 - z)·n + z·h with PyTorch's rounding and nodes."""
    x_reset, x_update, x_new = x_proj.unsafe_chunk(3, -1)
    h_reset, h_update, h_new = F.linear(hidden, w_hh, b_hh).unsafe_chunk(3, -1)
    reset = (h_reset + x_reset).sigmoid()
    update = (h_update + x_update).sigmoid()
    new = (x_new + h_new * reset).tanh()
    return (hidden - new) * update + new


def _unpack(input) -> tuple:
    """(the PackedSequence or None, the (T, B, *) or plain input, the lengths or None)."""
    if not isinstance(input, PackedSequence):
        return None, input, None
    padded, lengths = pad_packed_sequence(input)
    return input, padded, lengths.numpy()


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _step_function(mode: str):
    return _STEPS[mode]


class RNNBase(Module):
    """The stacked, optionally bidirectional recurrence shared by RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                          f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be a positive integer" if isinstance(hidden_size, int)
                             else f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than or equal to 1")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:
                    shapes.update(weight_hr=(proj_size, hidden_size))
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        per_direction = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        weights = [getattr(self, name) for name in self._flat_weights_names]
        return [weights[i:i + per_direction] for i in range(0, len(weights), per_direction)]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    def _weights(self, layer: int, suffix: str) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr), None for those the layer doesn't have."""
        def weight(name: str):
            return getattr(self, f"{name}_l{layer}{suffix}", None)
        return tuple(weight(name) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _run(self, input: Tensor, initial: list, lengths: np.ndarray | None = None) -> tuple[Tensor, list]:
        """The stacked recurrence on (L, N, I) input; `initial` holds each layer-direction's state. With
        `lengths` (packed input), a sequence's state stops changing after its last step, so the final
        states and the reverse direction's start are each sequence's own."""
        step = _step_function(self.mode)
        directions = 2 if self.bidirectional else 1
        finals = []
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, suffix)
                projection = () if w_hr is None else (w_hr,)
                projected = F.linear(layer_input, w_ih, b_ih).unbind(0)  # one node for every step, as PyTorch
                state = initial[layer * directions + direction]
                steps = range(input.shape[0])
                hiddens = [None] * input.shape[0]
                for t in (reversed(steps) if direction else steps):
                    new_state = step(projected[t], state, w_hh, b_hh, *projection)
                    if lengths is None:
                        state = new_state
                    else:
                        running = gradscope.from_numpy((t < lengths)[:, None])
                        state = (tuple(where(running, new, old) for new, old in zip(new_state, state))
                                 if self.mode == "LSTM" else where(running, new_state, state))
                    hiddens[t] = state[0] if self.mode == "LSTM" else state
                outputs.append(gradscope.stack(hiddens))
                finals.append(state)
            layer_input = outputs[0] if directions == 1 else gradscope.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, finals

    def _prepare(self, input: Tensor, hx, packed: bool = False):
        if input.dim() not in (2, 3):
            what = " tensor" if self.mode.startswith("RNN") else ""  # PyTorch's RNN says "tensor", LSTM and GRU don't
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D{what} instead")
        batched = input.dim() == 3
        weight = getattr(self, self._flat_weights_names[0])
        if input.dtype != weight.dtype and not packed:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). Convert "
                             f"input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        # NOTE: PyTorch's order: the input unsqueezed at its batch dim, the states unsqueezed, and then (in ATen) a
        # batch_first input transposed to (L, N, I)
        transposed = self.batch_first and not packed
        if not batched:
            input = input.unsqueeze(0 if transposed else 1)
        batch = input.shape[0 if transposed else 1]
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]}")
        directions = 2 if self.bidirectional else 1
        states = hx if isinstance(hx, tuple) else (hx,)
        prepared = []
        for i, state in enumerate(states):
            # an LSTM's hidden state (hidden[0]) has proj_size features when it projects, its cell hidden_size
            features = self.proj_size if i == 0 and self.proj_size else self.hidden_size
            state_shape = (self.num_layers * directions, batch, features)
            if state is None:
                state = gradscope.zeros(*state_shape, dtype=input.dtype)
            elif not batched:
                if state.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {state.dim()}-D tensor")
                state = state.unsqueeze(1)
            elif state.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {state.dim()}-D tensor")
            if tuple(state.shape) != state_shape:
                which = f"hidden[{i}]" if len(states) == 2 else "hidden"
                raise RuntimeError(f"Expected {which} size {state_shape}, got {list(state.shape)}")
            prepared.append(state)
        return (input.transpose(0, 1) if transposed else input), batched, prepared

    def _finish(self, output: Tensor, batched: bool) -> Tensor:
        if self.batch_first:  # back to (N, L, H) as ATen: RNN and GRU in place (TransposeBackward1), LSTM not
            if self.mode == "LSTM":
                output = output.transpose(0, 1)
            else:
                output.transpose_(0, 1)
            return output if batched else output.squeeze(0)
        return output if batched else output.squeeze(1)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) (or relu), stacked `num_layers` deep.

    >>> rnn = nn.RNN(3, 4, num_layers=2, batch_first=True)
    >>> output, h_n = rnn(gradscope.randn(5, 7, 3))
    >>> output.shape, h_n.shape
    (torch.Size([5, 7, 4]), torch.Size([2, 5, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None):
        packed, input, lengths = _unpack(input)
        input, batched, (hx,) = self._prepare(input, hx, packed is not None)
        output, finals = self._run(input, list(hx.unbind(0)), lengths)
        state = gradscope.stack(finals)  # before a batch_first output's transpose, as ATen
        output = self._finish(output, batched) if packed is None else repack_like(output, packed)
        return output, self._finish_state(state, batched)

    @staticmethod
    def _finish_state(state: Tensor, batched: bool) -> Tensor:
        return state if batched else state.squeeze(1)


class GRU(RNN):
    """Gated recurrent unit layers: reset, update and new gates, PyTorch's gate order (r, z, n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        RNNBase.__init__(self, "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory layers, PyTorch's gate order (i, f, g, o); forward takes and returns
    `(h, c)` states. The graph is ATen's LSTM cell's, step by step, as PyTorch records it with oneDNN off
    (`torch.backends.mkldnn.flags(enabled=False)`); with oneDNN on, PyTorch's CPU LSTM is one
    MkldnnRnnLayerBackward0 node per layer and direction.

    >>> output, (h_n, c_n) = nn.LSTM(3, 4)(gradscope.randn(7, 5, 3))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None):
        packed, input, lengths = _unpack(input)
        input, batched, states = self._prepare(input, (None, None) if hx is None else tuple(hx), packed is not None)
        hidden, cell = states
        output, finals = self._run(input, list(zip(hidden.unbind(0), cell.unbind(0))), lengths)
        # NOTE: the cells' states stacked first, as PyTorch's build (ATen's make_tuple evaluates its arguments last
        # to first)
        c_n = gradscope.stack([c for _, c in finals])
        h_n = gradscope.stack([h for h, _ in finals])
        output = self._finish(output, batched) if packed is None else repack_like(output, packed)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)


class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(gates * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gates * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gates * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(gates * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _check(self, input: Tensor) -> bool:
        dims = input.dim()
        if dims not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {dims}D instead")
        return dims == 2

    def _weights(self) -> tuple:
        """(weight_ih, bias_ih, weight_hh, bias_hh), read from the registry as Linear.forward reads its own: a
        cell's forward runs every step, and `self.weight_ih` first fails the ordinary attribute lookup (an
        AttributeError made and dropped, ~0.4 µs) before __getattr__ finds it. A name the registry lacks (a
        parametrization's property) is read as an attribute."""
        parameters = self._parameters
        return (parameters["weight_ih"] if "weight_ih" in parameters else self.weight_ih,
                parameters["bias_ih"] if "bias_ih" in parameters else self.bias_ih,
                parameters["weight_hh"] if "weight_hh" in parameters else self.weight_hh,
                parameters["bias_hh"] if "bias_hh" in parameters else self.bias_hh)

    def _state(self, state: Tensor | None, input: Tensor, batched: bool) -> Tensor:
        if state is None:
            return gradscope.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        return state if batched else state.unsqueeze(0)


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        # NOTE: one frame per time step (RNNCellBase's _check, _weights and _state inline), in PyTorch's order: the
        # state's product first, then the input's, added into it (ATen's SimpleCell: linear_hh(h).add_(linear_ih(x)))
        dims = input.dim()
        if dims not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {dims}D instead")
        batched = dims == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = gradscope.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        elif not batched:
            hx = hx.unsqueeze(0)
        parameters = self._parameters
        try:  # the parameters' own dict; one moved out of it (a parametrization's property) through getattr
            weight_ih, weight_hh = parameters["weight_ih"], parameters["weight_hh"]
            bias_ih, bias_hh = parameters["bias_ih"], parameters["bias_hh"]
        except KeyError:
            weight_ih, weight_hh, bias_ih, bias_hh = self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        relu = self.nonlinearity != "tanh"
        hidden = fused_cells.rnn_cell(input, hx, weight_ih, weight_hh, bias_ih, bias_hh, relu)
        if hidden is None:  # not its common case: op by op
            pre = F.linear(hx, weight_hh, bias_hh) + F.linear(input, weight_ih, bias_ih)
            hidden = gradscope.relu(pre) if relu else tanh(pre)
        return hidden if batched else hidden.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        batched = self._check(input)
        input = input if batched else input.unsqueeze(0)
        hidden, cell = (None, None) if hx is None else hx
        state = (self._state(hidden, input, batched), self._state(cell, input, batched))
        weight_ih, bias_ih, weight_hh, bias_hh = self._weights()
        # NOTE: the state's product first, then the input's added into it (ATen's LSTMCell)
        hidden, cell = _lstm_gates(F.linear(state[0], weight_hh, bias_hh) + F.linear(input, weight_ih, bias_ih),
                                   state[1], None)
        return (hidden, cell) if batched else (hidden.squeeze(0), cell.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z)·n + z·h."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check(input)
        input = input if batched else input.unsqueeze(0)
        hx = self._state(hx, input, batched)  # NOTE: before the input's product, as PyTorch's (an unsqueeze)
        weight_ih, bias_ih, weight_hh, bias_hh = self._weights()
        hidden = _gru_step(F.linear(input, weight_ih, bias_ih), hx, weight_hh, bias_hh)
        return hidden if batched else hidden.squeeze(0)
