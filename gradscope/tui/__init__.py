"""The interactive graph browser (`gradscope browse`): a Textual app over a `Trace`.

>>> from gradscope.tui import make_app
>>> make_app(trace).run()
"""

from gradscope.tui.app import GradscopeApp, make_app

__all__ = ["GradscopeApp", "make_app"]
