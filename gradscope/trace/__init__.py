"""Recording runs into traces, and trace files.

>>> from gradscope.trace import Recorder, save_trace
>>> with Recorder() as rec:
...     model(x).sum().backward()
>>> save_trace(rec.finish(globals()), "run.gstrace")
"""

import sys
import types

from gradscope.autograd.rearrange import trace as _matrix_trace
from gradscope.trace.model import Anomaly, NodeRecord, Parameter, PassRecord, TensorRecord, Trace
from gradscope.trace.recorder import Recorder
from gradscope.trace.script import ScriptError, ScriptRun, run_script
from gradscope.trace.tracefile import TraceFormatError, load_trace, save_trace


class _TracePackage(types.ModuleType):
    """This package, callable as PyTorch's `torch.trace(input)`: the sum of a matrix's diagonal.

    `gradscope.trace` names two things. As a function (`torch.trace`) it is the matrix trace, which
    `import gradscope` binds; as a package it is the debugger's recorder, and importing it rebinds the
    attribute `gradscope.trace` to this module (Python sets a subpackage on its parent). A script
    running with `import torch` aliased to gradscope, or any code after `import gradscope.trace`, would
    then find a module where it expects the function. Making the module callable keeps both meanings
    under one name, whichever was imported first: `gradscope.trace(x)`, `torch.trace(x)` and
    `gradscope.trace.Recorder` all work.
    """

    def __call__(self, input):
        return _matrix_trace(input)


sys.modules[__name__].__class__ = _TracePackage

__all__ = [
    "Anomaly", "NodeRecord", "Parameter", "PassRecord", "Recorder", "ScriptError", "ScriptRun", "TensorRecord",
    "Trace", "TraceFormatError", "load_trace", "run_script", "save_trace",
]
