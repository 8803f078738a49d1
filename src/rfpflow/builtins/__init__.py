"""rfpflow's default behaviour, as ordinary plugins on the public hooks.

Every hook here is marked ``trylast``: an installed plugin implementing the
same hook (or registering the same name) takes precedence. A consultant can
read these modules as worked examples of the hook contract.
"""
