"""The browser's two themes: the terminal's own colours, and a monochrome one for NO_COLOR.

Both use ANSI colour names, so the browser follows the terminal's palette (dark or light). The focused
cursor is reverse video (readable in any palette, and the only mark left without colour); the cursor of
a pane without focus stays visible: grey in colour, underlined without.
"""

from __future__ import annotations

import dataclasses

from textual.theme import BUILTIN_THEMES, Theme

_ANSI = BUILTIN_THEMES["ansi-dark"]


def _variant(name: str, **variables: str) -> Theme:
    """Textual's ANSI theme with some of its variables replaced."""
    return dataclasses.replace(_ANSI, name=name, variables={**_ANSI.variables, **variables})


THEME = _variant(
    "gradscope",
    **{"block-cursor-foreground": "ansi_default", "block-cursor-background": "ansi_default",
       "block-cursor-text-style": "bold reverse",
       "block-cursor-blurred-foreground": "ansi_default", "block-cursor-blurred-background": "ansi_bright_black",
       "block-cursor-blurred-text-style": "none",
       "border-blurred": "ansi_default"})

MONOCHROME_THEME = _variant(
    "gradscope-monochrome",
    **{"block-cursor-foreground": "ansi_default", "block-cursor-background": "ansi_default",
       "block-cursor-text-style": "bold reverse",
       "block-cursor-blurred-foreground": "ansi_default", "block-cursor-blurred-background": "ansi_default",
       "block-cursor-blurred-text-style": "underline",
       "border-blurred": "ansi_default"})

THEMES = (THEME, MONOCHROME_THEME)
