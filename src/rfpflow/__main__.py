"""``python -m rfpflow``: the same as the ``rfpflow`` command."""

from rfpflow.cli import main

raise SystemExit(main())
