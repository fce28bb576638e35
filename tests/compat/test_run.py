"""`chainrule run`: an unmodified PyTorch script runs with `torch` answered by chainrule."""
from __future__ import annotations

import sys
import textwrap

import pytest

import chainrule
from chainrule import cli
from chainrule.compat import torch_as_chainrule

SCRIPT = """
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.nn.modules.loss import _Loss
import torch.optim.lr_scheduler as sched
from torch.nn.utils.rnn import pad_sequence

torch.manual_seed(0)
x = torch.randn(64, 3)
y = (x.sum(1) > 0).long()
model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(30):
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(); loss.backward(); opt.step()
accuracy = (model(x).argmax(1) == y).float().mean().item()
print(torch.__name__, sys.argv[1:], issubclass(nn.MSELoss, _Loss), round(accuracy, 2))
"""


def run(tmp_path, capsys, source, *args):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    code = cli.main(["run", str(script), *args])
    return code, capsys.readouterr()


def test_a_pytorch_script_runs_unchanged(tmp_path, capsys):
    code, out = run(tmp_path, capsys, SCRIPT, "--lr", "3")
    assert code == 0, out.err
    name, rest = out.out.split(" ", 1)
    assert name == "chainrule" and rest.startswith("['--lr', '3'] True")
    assert float(rest.split()[-1]) >= 0.9


def test_the_hook_is_gone_afterwards(tmp_path, capsys):
    run(tmp_path, capsys, "import torch\n")
    assert "torch" not in sys.modules or sys.modules["torch"] is not chainrule
    assert not any(type(f).__name__ == "_TorchFinder" for f in sys.meta_path)


def test_torchvision_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "standin" not in p])
    code, out = run(tmp_path, capsys, "import torchvision\n")
    assert code == 1
    assert out.err.strip().count("\n") == 0 and "torchvision is not provided" in out.err


def test_a_users_own_torchvision_stand_in_is_imported(tmp_path, capsys):
    (tmp_path / "torchvision.py").write_text("import torch\nNAME = torch.__name__\n")
    code, out = run(tmp_path, capsys, "import torchvision\nprint(torchvision.NAME)\n")
    assert code == 0 and out.out.strip() == "chainrule"


def test_a_missing_torch_module_names_both_paths(tmp_path, capsys):
    code, out = run(tmp_path, capsys, "import torch.no_such_thing\n")
    assert code == 1 and "chainrule has no 'chainrule.no_such_thing'" in out.err


def test_module_paths_are_chainrules_own_modules():
    with torch_as_chainrule():
        import torch.nn.functional
        import torch.serialization
        import torch.utils.data
        assert torch.nn.functional is chainrule.nn.functional
        assert torch.utils.data.DataLoader is chainrule.utils.data.DataLoader
        assert torch.serialization.save is chainrule.save
    assert chainrule.nn.functional.__spec__.name == "chainrule.nn.functional"


def test_script_exit_code_and_missing_script(tmp_path, capsys):
    code, _ = run(tmp_path, capsys, "import sys\nsys.exit(3)\n")
    assert code == 3
    assert cli.main(["run", str(tmp_path / "absent.py")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _real_torch_back():
    yield
    assert not any(type(f).__name__ == "_TorchFinder" for f in sys.meta_path)


def test_torch_nn_modules_paths_hold_every_layer_and_private_bases():
    from chainrule.nn.modules.activation import ELU, ReLU
    from chainrule.nn.modules.batchnorm import _BatchNorm
    from chainrule.nn.modules.container import ParameterList, Sequential
    from chainrule.nn.modules.loss import _Loss, _WeightedLoss
    assert issubclass(chainrule.nn.CrossEntropyLoss, _WeightedLoss)
    assert issubclass(chainrule.nn.MSELoss, _Loss) and issubclass(chainrule.nn.BatchNorm2d, _BatchNorm)
    assert (ELU, ReLU, Sequential, ParameterList) == (chainrule.nn.ELU, chainrule.nn.ReLU,
                                                      chainrule.nn.Sequential,
                                                      chainrule.nn.ParameterList)
