"""rfpflow: vendor-selection RFP cycles as a pluggy workflow.

Plugin authors need only ``from rfpflow import hookimpl``; the hook contract
is :mod:`rfpflow.hookspecs` (documented in docs/hooks.md) and the records the
hooks exchange are in :mod:`rfpflow.model`. Importing rfpflow loads no plugins.
"""

from rfpflow.hookspecs import HOOK_API_VERSION, hookimpl

__version__ = "0.1.0"

__all__ = ["HOOK_API_VERSION", "__version__", "hookimpl"]
