"""`cr.version`, PyTorch's `torch.version`."""
import chainrule as cr


def test_torch_version_module_answers_as_a_cpu_build():
    assert cr.version.__version__ == cr.__version__
    assert cr.version.cuda is None if not cr.cuda.is_available() else \
        cr.version.cuda.count(".") == 1
    assert cr.version.hip is None
