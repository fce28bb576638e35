"""The device API as PyTorch has it, on a machine without an accelerator (these tests
assume no GPU is visible to CuPy; they skip where one is)."""
import pytest
import torch

import chainrule as cr

no_gpu = pytest.mark.skipif(cr.cuda.is_available(), reason="a GPU is visible")


@pytest.mark.parametrize("name", ["cpu", "cuda", "cuda:0", "cuda:1", "mps", "meta"])
def test_device_prints_and_compares_as_torch(name):
    ours, theirs = cr.device(name), torch.device(name)
    assert (str(ours), repr(ours), ours.type, ours.index) == \
        (str(theirs), repr(theirs), theirs.type, theirs.index)
    assert ours == cr.device(name) and hash(ours) == hash(cr.device(name))
    assert ours == name  # and equal to its own name (chainrule's code compares with strings)


def test_device_with_index_and_from_device():
    assert cr.device("cuda", 1) == cr.device("cuda:1") != cr.device("cuda")
    assert cr.device(cr.device("cpu")) == "cpu"
    assert {cr.device("cpu"), cr.device("cpu")} == {cr.device("cpu")}


@pytest.mark.parametrize("bad", ["gpu", "tpu", "cuda:x"])
def test_unknown_device_names_are_one_line_runtime_errors(bad):
    with pytest.raises(RuntimeError) as caught:
        cr.device(bad)
    with pytest.raises(RuntimeError):
        torch.device(bad)
    assert "\n" not in str(caught.value) and bad in str(caught.value)


def test_tensor_device_and_factory_device_argument():
    cpu = cr.device("cpu")
    for t in (cr.zeros(2, device=cpu), cr.ones(2, device="cpu"), cr.randn(2, device=cpu),
              cr.tensor([1.0], device=cpu), cr.arange(3, device="cpu")):
        assert t.device == cpu and isinstance(t.device, cr.device)
    x = cr.ones(2)
    assert x.to(cpu) is x and x.to(cpu, cr.float64).dtype == cr.float64
    assert x.to(device=cpu, dtype=cr.float64).dtype == cr.float64
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64


def test_module_to_accepts_torch_forms():
    layer = cr.nn.Linear(2, 3)
    assert layer.to(cr.device("cpu")) is layer
    layer.to("cpu", cr.float64)
    assert layer.weight.dtype == cr.float64 and layer.weight.device == "cpu"


@no_gpu
def test_accelerator_questions_answer_truthfully_without_gpu():
    assert cr.cuda.is_available() is False and cr.cuda.device_count() == 0
    assert cr.backends.mps.is_available() is False
    assert cr.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is None
    cr.cuda.manual_seed(0)  # nothing to seed: no error, as PyTorch
    cr.backends.cudnn.benchmark = True  # a flag programs set


@no_gpu
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "mps"])
def test_asking_for_an_absent_device_is_one_line(name):
    for make in (lambda: cr.zeros(2, device=name), lambda: cr.ones(2).to(name),
                 lambda: cr.nn.Linear(2, 2).to(name)):
        with pytest.raises(RuntimeError) as caught:
            make()
        assert "not available" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(RuntimeError, match="not available"):
        cr.ones(2).cuda()


def test_the_usual_boilerplate_runs():
    device = cr.device("cuda" if cr.cuda.is_available() else
                       "mps" if cr.backends.mps.is_available() else "cpu")
    model = cr.nn.Linear(3, 1).to(device)
    x = cr.randn(4, 3).to(device)
    assert model(x).device == device


def test_default_device():
    assert cr.get_default_device() == "cpu"
    cr.set_default_device("cpu")
    try:
        assert cr.zeros(1).device == "cpu"
    finally:
        cr.set_default_device(None)
    assert cr.get_default_device() == "cpu"


def test_torch_cuda_amp_is_a_module_path():
    from chainrule.cuda.amp import GradScaler, autocast

    assert GradScaler is cr.amp.GradScaler and autocast is cr.autocast
