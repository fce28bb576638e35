"""One BLAS thread for the small products of recurrent step loops (kernels/threads.py)."""
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from chainrule.kernels.threads import (  # noqa: E402
    OPENBLAS_ALONE,
    SMALL_PRODUCT,
    _blas_libraries,
    blas_threads_for,
    one_blas_thread,
)


def blas_threads() -> list[int]:
    """The thread counts of the BLAS libraries chainrule sets: those loaded when it first
    looked (NumPy's; a BLAS that another library, such as torch, loads later is not
    NumPy's and keeps its own setting)."""
    return [lib.get_num_threads() for lib in _blas_libraries()]


@pytest.fixture
def two_threads():
    """The BLAS on two threads for the test (as a 2-core machine has it), restored after."""
    if not blas_threads():
        pytest.skip("no BLAS that threadpoolctl knows")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        if max(blas_threads()) < 2:
            pytest.skip("this BLAS runs on one thread only")
        yield


def test_one_blas_thread_inside_and_restored_after(two_threads):
    with one_blas_thread():
        assert blas_threads() == [1] * len(blas_threads())
    assert max(blas_threads()) == 2


def test_restored_after_an_error(two_threads):
    with pytest.raises(ValueError), one_blas_thread():
        raise ValueError("inside")
    assert max(blas_threads()) == 2


def test_small_products_get_one_thread_large_ones_keep_theirs(two_threads):
    with blas_threads_for(97 * 51 * 204):  # one LSTMCell step of time_sequence_prediction
        assert max(blas_threads()) == 1
    with blas_threads_for(SMALL_PRODUCT):
        assert max(blas_threads()) == 2


def test_no_switch_where_openblas_uses_one_thread_by_itself(two_threads):
    with blas_threads_for(OPENBLAS_ALONE):  # e.g. W5's 32×64·64×128
        assert max(blas_threads()) == 2


def test_usable_as_a_decorator(two_threads):
    @one_blas_thread()
    def inside():
        return max(blas_threads())
    assert inside() == 1
    assert max(blas_threads()) == 2


def test_set_num_threads_sets_the_blas_as_pytorch_sets_its_own(two_threads):
    import chainrule as cr
    from chainrule.kernels import threads
    before = threads._requested["threads"]
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1 and blas_threads() == [1] * len(blas_threads())
        cr.set_num_threads(2)
        assert cr.get_num_threads() == 2 and max(blas_threads()) == 2
        for wrong, message in [(0, "positive integer"), (-3, "positive integer"),
                               (2.0, "expects an int, but got float"),
                               (True, "expects an int, but got bool")]:
            with pytest.raises(RuntimeError, match=message):
                cr.set_num_threads(wrong)
        assert cr.get_num_threads() == 2
    finally:
        threads._requested["threads"] = before
