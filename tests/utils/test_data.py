"""chainrule.utils.data against torch.utils.data: the same batches, lengths and errors."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
import chainrule.utils.data as cud


def as_numpy(batch):
    """A batch's structure with every tensor turned into a NumPy array."""
    if isinstance(batch, (cr.Tensor, torch.Tensor)):
        return batch.numpy()
    if isinstance(batch, dict):
        return {k: as_numpy(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(as_numpy(v) for v in batch) if not hasattr(batch, "_fields") \
            else tuple(as_numpy(v) for v in batch)
    return batch


def assert_same(ours, theirs):
    assert type(as_numpy(ours)) is type(as_numpy(theirs)) or hasattr(ours, "_fields")
    a, b = as_numpy(ours), as_numpy(theirs)
    if isinstance(b, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            assert_same(ours[k], theirs[k])
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(ours, theirs):
            assert_same(x, y)
    else:
        assert a == b


Point = collections.namedtuple("Point", "x y")
EXAMPLES = {
    "floats": [1.5, 2.5, 3.0],
    "ints": [1, 2, 3],
    "bools": [True, False, True],
    "strings": ["a", "bb", "c"],
    "arrays": [np.arange(4.0).reshape(2, 2) + i for i in range(3)],
    "numpy scalars": [np.float32(i) for i in range(3)],
    "tuples": [(np.ones(2, np.float32) * i, i) for i in range(3)],
    "dicts": [{"image": np.full(3, i, np.int64), "label": float(i)} for i in range(3)],
    "named tuples": [Point(i, float(i)) for i in range(3)],
    "nested": [{"pair": [i, (i * 0.5, "s")]} for i in range(3)],
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_default_collate_matches_torch(name):
    batch = EXAMPLES[name]
    ours = cud.default_collate(batch)
    theirs = tud.default_collate(batch)
    assert_same(ours, theirs)
    if name == "named tuples":
        assert type(ours) is Point


def test_default_collate_stacks_tensors():
    rows = [np.random.default_rng(i).standard_normal((2, 3)).astype(np.float32)
            for i in range(4)]
    ours = cud.default_collate([cr.tensor(r) for r in rows])
    theirs = tud.default_collate([torch.tensor(r) for r in rows])
    assert_same(ours, theirs)


def test_default_collate_refuses_unequal_lists():
    with pytest.raises(RuntimeError, match="equal size"):
        cud.default_collate([[1, 2], [3]])


def test_default_convert_matches_torch():
    example = {"x": np.ones(3), "y": (np.zeros(2), 4)}
    assert_same(cud.default_convert(example), tud.default_convert(example))


class Squares(cud.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], np.float32), "y": i}


class TorchSquares(tud.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], np.float32), "y": i}


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=4, num_workers=2)])
def test_unshuffled_batches_match_torch(kwargs):
    ours = list(cud.DataLoader(Squares(), **kwargs))
    theirs = list(tud.DataLoader(TorchSquares(), **kwargs))
    assert len(ours) == len(theirs) == len(cud.DataLoader(Squares(), **kwargs))
    for a, b in zip(ours, theirs):
        assert_same(a, b)


def test_tensor_dataset_batches_match_torch():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    ours = list(cud.DataLoader(cud.TensorDataset(cr.tensor(x), cr.tensor(y)), batch_size=4))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                 batch_size=4))
    for a, b in zip(ours, theirs):
        assert_same(a, b)


def test_shuffle_visits_every_example_once_per_epoch():
    loader = cud.DataLoader(cud.TensorDataset(cr.arange(50)), batch_size=8, shuffle=True)
    epochs = [np.concatenate([b.numpy() for (b,) in loader]) for _ in range(2)]
    for seen in epochs:
        assert sorted(seen.tolist()) == list(range(50))
    assert epochs[0].tolist() != epochs[1].tolist()


def test_seeded_loader_repeats_its_order():
    def order(seed):
        loader = cud.DataLoader(cud.TensorDataset(cr.arange(30)), batch_size=30,
                                shuffle=True, seed=seed)
        return [next(iter(loader))[0].numpy().tolist() for _ in range(2)]
    assert order(3) == order(3) and order(3)[0] != order(3)[1]


def test_sampler_and_batch_sampler_are_used():
    data = cud.TensorDataset(cr.arange(10))
    loader = cud.DataLoader(data, batch_size=2, sampler=[9, 8, 7, 6])
    assert [b.numpy().tolist() for (b,) in loader] == [[9, 8], [7, 6]]
    loader = cud.DataLoader(data, batch_sampler=[[0, 5], [1]])
    assert [b.numpy().tolist() for (b,) in loader] == [[0, 5], [1]]
    assert len(loader) == 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(shuffle=True, sampler=[0]), "mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(timeout=-1), "timeout option should be non-negative"),
])
def test_argument_errors_match_torch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tud.DataLoader(tud.TensorDataset(torch.arange(3)), **kwargs)
    with pytest.raises(ValueError, match=message):
        cud.DataLoader(cud.TensorDataset(cr.arange(3)), **kwargs)


def test_worker_arguments_work_in_process():
    seen = []

    def init(worker_id):
        info = cud.get_worker_info()
        seen.append((worker_id, info.id, info.num_workers))

    loader = cud.DataLoader(Squares(), batch_size=2, num_workers=3, worker_init_fn=init,
                            pin_memory=True, prefetch_factor=2, persistent_workers=True,
                            timeout=5, generator=cr.Generator())
    assert len(list(loader)) == 5
    assert seen == [(0, 0, 3), (1, 1, 3), (2, 2, 3)]
    assert cud.get_worker_info() is None


class Stream(cud.IterableDataset):
    """Yields 0..n-1, split between workers by get_worker_info as PyTorch's docs show."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = cud.get_worker_info() or tud.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    __iter__ = Stream.__iter__


@pytest.mark.parametrize("workers", [0, 2])
def test_iterable_dataset_with_workers_matches_torch(workers):
    ours = [b.numpy().tolist() for b in cud.DataLoader(Stream(11), batch_size=3,
                                                      num_workers=workers)]
    theirs = [b.numpy().tolist() for b in tud.DataLoader(TorchStream(11), batch_size=3,
                                                        num_workers=workers)]
    assert ours == theirs


def test_concat_chain_stack_and_subset():
    a, b = cud.TensorDataset(cr.arange(3)), cud.TensorDataset(cr.arange(10, 14))
    both = a + b
    assert isinstance(both, cud.ConcatDataset) and len(both) == 7
    assert both.cumulative_sizes == [3, 7]
    assert [both[i][0].item() for i in (0, 2, 3, 6, -1)] == [0, 2, 10, 13, 13]
    chained = Stream(2) + Stream(3)
    assert list(chained) == [0, 1, 0, 1, 2]
    stacked = cud.StackDataset(a, a)
    assert stacked[1][1][0].item() == 1
    named = cud.StackDataset(x=a, y=a)
    assert set(named[2]) == {"x", "y"}
    with pytest.raises(ValueError, match="differ in length"):
        cud.StackDataset(a, b)
    assert cud.Subset(b, [3, 0])[0][0].item() == 13


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5]])
def test_random_split_sizes_match_torch(lengths):
    ours = cud.random_split(cud.TensorDataset(cr.arange(10)), lengths)
    theirs = tud.random_split(tud.TensorDataset(torch.arange(10)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    indices = sorted(i for s in ours for i in s.indices)
    assert indices == list(range(10))


def test_random_split_with_a_generator_repeats():
    def split():
        gen = cr.Generator().manual_seed(0)
        return cud.random_split(range(10), [5, 5], generator=gen)[0].indices
    assert split() == split()


def test_samplers():
    assert list(cud.SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert sorted(cud.RandomSampler(range(6))) == list(range(6))
    drawn = list(cud.RandomSampler(range(3), replacement=True, num_samples=20))
    assert len(drawn) == 20 and set(drawn) <= {0, 1, 2}
    assert len(list(cud.RandomSampler(range(4), num_samples=10))) == 10
    assert sorted(cud.SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    weighted = list(cud.WeightedRandomSampler([0.0, 1.0, 0.0], 8))
    assert weighted == [1] * 8
    assert sorted(cud.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False)) == [0, 1, 2, 3]
    batches = cud.BatchSampler(cud.SequentialSampler(range(7)), 3, drop_last=False)
    assert list(batches) == list(tud.BatchSampler(tud.SequentialSampler(range(7)), 3, False))
    assert len(batches) == 3
    assert len(cud.BatchSampler(range(7), 3, drop_last=True)) == 2


def test_attribute_paths():
    assert cr.utils.data.DataLoader is cud.DataLoader
    assert cr.data.DataLoader is cud.DataLoader
    from chainrule.utils.data.dataloader import DataLoader  # noqa: F401
    from chainrule.utils.data.sampler import Sampler  # noqa: F401
