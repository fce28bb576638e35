"""torch.multiprocessing (chainrule/multiprocessing.py): tensors and models shared between
processes as PyTorch shares them, and `chainrule run` programs whose spawned processes
import torch as chainrule (pytorch/examples mnist_hogwild)."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy
import pytest
import torch as real_torch

import chainrule
import chainrule.multiprocessing as mp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_share_memory_moves_the_numbers_and_keeps_them():
    for m in (chainrule, real_torch):
        x = m.arange(6.0).reshape(2, 3)
        assert not x.is_shared()
        assert x.share_memory_() is x and x.is_shared()
        assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    model = chainrule.nn.Linear(3, 2)
    weight = model.weight.detach().numpy().copy()
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    assert numpy.array_equal(model.weight.detach().numpy(), weight)


def test_the_module_has_the_standard_librarys_names_and_pytorchs_spawn():
    import multiprocessing
    assert mp.Process is multiprocessing.Process and mp.Queue is multiprocessing.Queue
    assert {"spawn", "start_processes", "set_start_method", "get_context"} <= set(dir(mp))
    assert {"spawn", "set_start_method", "Process"} <= set(dir(real_torch.multiprocessing))


def test_a_device_pickles():
    for where in (chainrule.device("cpu"), chainrule.device("cuda", 1)):
        assert pickle.loads(pickle.dumps(where)) == where


def _train_in_place(model, rows):
    """What a Hogwild worker does: an optimizer step on the shared parameters."""
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.5)
    loss = model(chainrule.ones(rows, 3)).sum()
    loss.backward()
    optimizer.step()


def test_a_spawned_process_updates_the_shared_model_in_place():
    chainrule.manual_seed(0)
    model = chainrule.nn.Linear(3, 1).share_memory()
    before = model.weight.detach().numpy().copy()
    process = mp.get_context("spawn").Process(target=_train_in_place, args=(model, 2))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    # dL/dw = rows · 1 for every weight: one step moves each by -0.5 · 2
    assert numpy.allclose(model.weight.detach().numpy(), before - 1.0)


def _put_the_sum(queue, tensor):
    queue.put(tensor.sum().item())
    tensor.add_(1)  # in place, so the sender's tensor changes too


def test_tensors_sent_to_a_process_are_shared_not_copied():
    x = chainrule.zeros(4)
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_put_the_sum, args=(queue, x))
    process.start()
    assert queue.get(timeout=60) == 0.0
    process.join(60)
    assert x.is_shared() and x.tolist() == [1.0, 1.0, 1.0, 1.0]


def _fail_on_one(index):
    if index == 1:
        raise SystemExit(3)


def test_spawn_runs_nprocs_and_reports_a_failed_one():
    with pytest.raises(mp.ProcessExitedException, match="process 1 terminated with exit code 3"):
        mp.spawn(_fail_on_one, nprocs=2)


PROGRAM = """
import torch
import torch.multiprocessing as mp

def work(rank, shared, queue):
    shared[rank] = 10 + rank
    queue.put((rank, torch.__name__))

if __name__ == "__main__":
    mp.set_start_method("spawn", force=True)
    shared = torch.zeros(3).share_memory_()
    queue = mp.Queue()
    processes = [mp.Process(target=work, args=(rank, shared, queue)) for rank in range(2)]
    for p in processes:
        p.start()
    names = sorted(queue.get(timeout=60) for _ in processes)
    for p in processes:
        p.join()
    print(torch.__name__, names, shared.tolist())
"""


@pytest.mark.parametrize("framework", ["chainrule", "torch"])
def test_under_chainrule_run_spawned_processes_import_torch_as_chainrule(tmp_path, framework):
    script = tmp_path / "hogwild.py"
    script.write_text(textwrap.dedent(PROGRAM))
    command = ([sys.executable, str(script)] if framework == "torch" else
               [sys.executable, "-c", "import sys; from chainrule.cli import main; "
                "sys.exit(main())", "run", str(script)])
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    name = framework
    assert done.stdout.strip() == f"{name} [(0, '{name}'), (1, '{name}')] [10.0, 11.0, 0.0]"
