"""rfpflow: vendor-selection RFP cycles as a pluggy workflow.

Plugin authors need only ``from rfpflow import hookimpl``; the hook contract
is :mod:`rfpflow.hookspecs` (documented in docs/hooks.md) and the records the
hooks exchange are in :mod:`rfpflow.model`. Importing rfpflow loads no plugins.

The package keeps the core at the top level (``model``, ``definition``, ``hookspecs``,
``plugins``, ``registry``, ``workflow``, ``cli``) and one subpackage per subsystem:
:mod:`rfpflow.spreadsheets`, :mod:`rfpflow.documents`, :mod:`rfpflow.store`, and
:mod:`rfpflow.builtins` (the default rules, plugins on the same hooks a consultant uses).
"""

from rfpflow import _moved
from rfpflow.hookspecs import HOOK_API_VERSION, hookimpl

_moved.install()  # the modules that moved into subpackages keep their old names for a while

__version__ = "0.1.0"

__all__ = ["HOOK_API_VERSION", "__version__", "hookimpl"]
