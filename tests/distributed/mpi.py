"""Starting MPI jobs from the tests: `mpirun` from the environment that runs pytest."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("mpi4py", reason="the MPI tests need mpi4py and Open MPI: "
                    "pip install 'chainrule[mpi]'")

MPIRUN = shutil.which("mpirun", path=os.path.dirname(sys.executable) + os.pathsep
                      + os.environ.get("PATH", ""))
if MPIRUN is None:
    pytest.skip("the MPI tests need mpirun: pip install 'chainrule[mpi]'", allow_module_level=True)

# as root (containers, CI) Open MPI refuses to start unless told twice
ENVIRONMENT = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def mpirun(n: int, *command: str, timeout: float = 120, cwd=None, wait=True):
    """Run `command` on n ranks; the finished process (or the running one, wait=False)."""
    args = [MPIRUN, "-n", str(n), "--oversubscribe", *command]
    env = {**os.environ, **ENVIRONMENT}
    if not wait:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=cwd)
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
