"""stylecam.heap: large blocks are reused instead of faulted in again, and memory goes back on exit."""

from __future__ import annotations

import resource

import pytest
import torch

from stylecam import heap

pytestmark = pytest.mark.skipif(not heap.available(), reason="needs Linux with glibc")

BLOCK = 48 * 1024 * 1024  # above glibc's largest dynamic mmap threshold (32 MiB)
PAGES = BLOCK // 4096


def _faults_per_block(repeats: int) -> list[int]:
    """Minor page faults of each of ``repeats`` cycles of an optimisation-like step: a conv's
    forward and backward on a (1, 3, 1024, 1024) image, whose activations are 4 BLOCKs."""
    conv = torch.nn.Conv2d(3, 12, 3, padding=1)
    image = torch.rand(1, 3, 1024, 1024)
    out = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        x = image.clone().requires_grad_(True)
        conv(x).relu().square().mean().backward()
        del x
        out.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return out


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def test_inside_freed_activations_are_reused_instead_of_faulted_in_again():
    outside = _faults_per_block(6)
    with heap.retained_heap():
        inside = _faults_per_block(6)
    # every cycle after the first: the same allocations; glibc maps the large ones afresh each
    # time, the retained heap reuses them (the odd cycle still grows it a little: fragmentation)
    assert min(outside[1:]) > 2 * PAGES, outside
    assert sum(inside[1:]) < sum(outside[1:]) / 4, (inside, outside)


def test_exit_gives_the_memory_back_and_nesting_restores_only_at_the_last_exit():
    outside = sum(_faults_per_block(6)[1:])
    with heap.retained_heap():
        with heap.retained_heap():
            _faults_per_block(2)
        # the outer one still holds the settings
        assert sum(_faults_per_block(6)[1:]) < outside / 4
        blocks = [torch.ones(BLOCK, dtype=torch.uint8) for _ in range(4)]
        del blocks
        still_retained = _resident_bytes()
    released = _resident_bytes()
    assert still_retained - released > 2 * BLOCK
    # glibc's own behaviour is back: every cycle faults large blocks in afresh (inside the retained
    # heap a settled cycle faults none). How many depends on glibc's dynamic mmap threshold, which
    # earlier frees in the same process raise: alone 7-10 blocks a cycle, once under the full suite 1.
    assert min(_faults_per_block(3)[1:]) > PAGES // 2
