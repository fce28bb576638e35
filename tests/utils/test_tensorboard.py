"""SummaryWriter.add_graph (chainrule/utils/tensorboard.py): a chainrule model's ops as the
graph TensorBoard shows (the introyt TensorBoard tutorial), read back from the event file."""
import struct

import numpy
import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("tensorboardX")
from tensorboardX.proto import event_pb2  # noqa: E402

from chainrule.utils.tensorboard import SummaryWriter  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(cr.relu(self.fc1(x)))


def _events(folder):
    """Every Event of the folder's event files (TFRecords: length, crc, data, crc)."""
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        while data:
            (length,) = struct.unpack("<Q", data[:8])
            yield event_pb2.Event.FromString(data[12:12 + length])
            data = data[12 + length + 4:]


def test_add_graph_writes_each_op_scoped_by_its_module(tmp_path):
    model, x = Net(), cr.randn(5, 4)
    before = model(x).numpy()
    writer = SummaryWriter(str(tmp_path))
    writer.add_graph(model, x)
    writer.close()
    graphs = [e.graph_def for e in _events(tmp_path) if e.graph_def]
    assert len(graphs) == 1
    from tensorboardX.proto.graph_pb2 import GraphDef
    nodes = {n.name: n for n in GraphDef.FromString(graphs[0]).node}
    first = nodes["Net/Linear[fc1]/aten::linear_0"]
    assert first.op == "aten::linear"
    assert list(first.input) == ["input/input.0", "Net/fc1.weight", "Net/fc1.bias"]
    assert [d.size for d in first.attr["_output_shapes"].list.shape[0].dim] == [5, 3]
    assert list(nodes["Net/aten::relu_1"].input) == ["Net/Linear[fc1]/aten::linear_0"]
    assert list(nodes["output/output.0"].input) == ["Net/Linear[fc2]/aten::linear_2"]
    # the model is as it was: same output, no hooks left behind
    numpy.testing.assert_array_equal(model(x).numpy(), before)
    assert all(not any((m._hooks or {}).values()) for m in model.modules())


def test_the_tutorials_other_writers_take_chainrule_tensors(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    writer.add_image("grid", cr.rand(3, 8, 8))
    features = cr.rand(10, 6)
    writer.add_embedding(features, metadata=[str(i) for i in range(10)],
                         label_img=cr.rand(10, 1, 4, 4))
    writer.close()
    assert any(e.summary.value and e.summary.value[0].tag == "grid" for e in _events(tmp_path))
    assert list(tmp_path.rglob("projector_config.pbtxt"))

