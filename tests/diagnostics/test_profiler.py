"""The profiler (diagnostics/profiler.py): the ops and labelled blocks of a `with` block,
counted and timed, in PyTorch's table."""
import torch

import chainrule as cr


def _profile(m, profile):
    x, y = m.rand(2, 3) + 1, m.rand(2, 3)
    z = m.ones(2, 3, requires_grad=True)
    with profile() as prof:
        for _ in range(10):
            z = (z / x) * y
    return prof


def test_the_table_has_pytorchs_rows_and_layout():
    ours = _profile(cr, cr.autograd.profiler.profile).key_averages()
    theirs = _profile(torch, torch.autograd.profiler.profile).key_averages()
    assert sorted((row.key, row.count) for row in ours) == \
        sorted((row.key, row.count) for row in theirs) == [("aten::div", 10), ("aten::mul", 10)]
    header = ours.table(sort_by="self_cpu_time_total").splitlines()[:3]
    assert header == theirs.table(sort_by="self_cpu_time_total").splitlines()[:3]
    assert ours.table().splitlines()[-1].startswith("Self CPU time total: ")


def test_record_function_rows_exclude_the_ops_inside():
    x = cr.rand(50, 50)
    with cr.profiler.profile(activities=[cr.profiler.ProfilerActivity.CPU]) as prof:
        with cr.profiler.record_function("block"):
            for _ in range(3):
                x = x @ x
    rows = {row.key: row for row in prof.key_averages()}
    assert rows["block"].count == 1 and rows["aten::matmul"].count == 3
    block = rows["block"]
    assert 0 <= block.self_cpu_time_total < block.cpu_time_total
    assert abs(block.cpu_time_total - block.self_cpu_time_total
               - rows["aten::matmul"].cpu_time_total) < 1e-6 * block.cpu_time_total + 1e-3


def test_nothing_is_timed_outside_the_block_or_when_disabled():
    with cr.profiler.profile(enabled=False) as prof:
        cr.ones(2) * 2
    cr.ones(2) + 1
    assert list(prof.key_averages()) == []
