"""kernels/shared.py: arrays in a shared-memory file that another mapping of the same
file sees change, and the file removed once the array that made it is freed."""
import gc
import os

import numpy

from chainrule.kernels import shared


def test_a_shared_copy_holds_the_numbers_and_is_seen_through_another_mapping():
    original = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    copy = shared.shared_copy(original)
    path = shared.shared_path(copy)
    assert path is not None and numpy.array_equal(copy, original)
    other = shared.attach(path, copy.dtype.str, copy.shape)
    other[1, 2] = -1.0
    copy[0, 0] += 10
    assert copy[1, 2] == -1.0 and other[0, 0] == 10.0
    assert shared.shared_copy(copy) is copy


def test_only_whole_shared_arrays_have_a_path():
    copy = shared.shared_copy(numpy.ones(4))
    assert shared.shared_path(copy[1:]) is None and shared.shared_path(copy + 1) is None
    assert shared.shared_path(numpy.ones(4)) is None
    empty = shared.shared_copy(numpy.ones((0, 3)))
    assert empty.shape == (0, 3) and shared.shared_path(empty) is None


def test_the_file_goes_when_the_array_that_made_it_is_freed():
    copy = shared.shared_copy(numpy.ones(3))
    path = shared.shared_path(copy)
    assert os.path.exists(path)
    del copy
    gc.collect()
    assert not os.path.exists(path)
