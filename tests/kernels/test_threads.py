"""One BLAS thread for the small products of recurrent step loops (kernels/threads.py)."""
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from chainrule.kernels.threads import (  # noqa: E402
    OPENBLAS_ALONE,
    SMALL_PRODUCT,
    blas_threads_for,
    one_blas_thread,
)


def blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == "blas"]


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
