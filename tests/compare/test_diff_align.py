"""The op alignment under `gradscope diff`: a shortest edit script between two runs' op sequences (so one
op inserted anywhere is one difference), checked against a brute-force longest common subsequence."""

from hypothesis import given, settings
from hypothesis import strategies as st

from gradscope.compare.align import matching_runs


def _lcs_length(a, b) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    return table[0][0]


def _check_runs(a, b, runs) -> int:
    """The runs are in order, disjoint and really equal; returns how many elements they pair."""
    i_end = j_end = 0
    for i, j, size in runs:
        assert size > 0 and i >= i_end and j >= j_end
        assert list(a[i:i + size]) == list(b[j:j + size])
        i_end, j_end = i + size, j + size
    return sum(size for *_, size in runs)


sequences = st.lists(st.sampled_from("abc"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(a=sequences, b=sequences)
def test_the_runs_are_a_longest_common_subsequence(a, b):
    assert _check_runs(a, b, matching_runs(a, b)) == _lcs_length(a, b)


@settings(max_examples=100, deadline=None)
@given(a=sequences, b=sequences)
def test_past_the_edit_limit_the_runs_still_pair_equal_ops_in_order(a, b):
    assert _check_runs(a, b, matching_runs(a, b, max_edits=1)) <= _lcs_length(a, b)
