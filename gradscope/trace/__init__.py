"""Recording runs into traces, and trace files.

>>> from gradscope.trace import Recorder, save_trace
>>> with Recorder() as rec:
...     model(x).sum().backward()
>>> save_trace(rec.finish(globals()), "run.gstrace")
"""

from gradscope.trace.model import Anomaly, NodeRecord, Parameter, PassRecord, TensorRecord, Trace
from gradscope.trace.recorder import Recorder
from gradscope.trace.script import ScriptError, ScriptRun, run_script
from gradscope.trace.tracefile import TraceFormatError, load_trace, save_trace

__all__ = [
    "Anomaly", "NodeRecord", "Parameter", "PassRecord", "Recorder", "ScriptError", "ScriptRun", "TensorRecord",
    "Trace", "TraceFormatError", "load_trace", "run_script", "save_trace",
]
