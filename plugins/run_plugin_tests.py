"""Install each plugin distribution under plugins/ and run its tests (tox -e plugins).

A plugin without tests yet is reported, not failed (pytest exit code 5).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NO_TESTS_COLLECTED = 5


def main() -> int:
    here = Path(__file__).resolve().parent
    packages = sorted(p.parent for p in here.glob("*/pyproject.toml"))
    if not packages:
        print("no plugin distributions under plugins/ yet")
        return 0
    failed = []
    for package in packages:
        print(f"== {package.name}", flush=True)
        # --force-reinstall: a plugin's version rarely changes while it is developed, and pip would keep a
        # stale copy from an earlier run of this env (rfpflow itself is installed by tox, hence --no-deps)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
                        str(package)], check=True)
        code = subprocess.run([sys.executable, "-m", "pytest", "-q", str(package)], cwd=package).returncode
        if code == NO_TESTS_COLLECTED:
            print(f"{package.name}: no tests collected")
        elif code != 0:
            failed.append(package.name)
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
