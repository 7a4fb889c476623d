"""What this machine offers the run tier: interpreters and the CPU torch wheel."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def find_python(version: str) -> str | None:
    """An installed CPython of this minor version (uv may not download one)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}")):
        return str(candidate)
    return shutil.which(f"python{version}")


def build_torch_index(index: Path) -> str | None:
    """A PEP 503 index of the machine's local torch wheels, or None if it has none.

    Generated projects take torch from the PyTorch CPU index, which these
    machines cannot reach; the tests point that named index here instead.
    """
    wheels_dir = Path(os.environ.get("TORCH_WHEELS_DIR", "/opt/wheels"))
    wheels = sorted(wheels_dir.glob("torch-*.whl"))
    if not wheels:
        return None
    (index / "torch").mkdir(parents=True)
    links = []
    for wheel in wheels:
        (index / "torch" / wheel.name).symlink_to(wheel)
        links.append(f'<a href="{wheel.name}">{wheel.name}</a>')
    (index / "torch" / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    return index.as_uri()
