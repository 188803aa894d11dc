"""Explicit, splittable random streams for compiled kernels.

Each parallel block of work gets its own stream derived from (seed, epoch,
block), so a run depends on the seed and not on how threads were scheduled.
The state is a one-element uint64 array that the kernels advance in place;
the generator is splitmix64 (Steele, Lea & Flood, OOPSLA 2014), which is fast,
passes BigCrush and needs one word of state.

The functions are left to LLVM to inline (they are small; their arguments
are scalars and the state array, which in the trainers lives in the stack
frame without an owner, so a call takes no reference count) rather than
inlined into numba's IR: IR inlining at each of their many call sites made
the trainer's compilation about a fifth slower (63 s -> 48 s for its first
specialisation). An epoch's time did not change measurably (movielens-small,
seven samplers and BPO, three alternating rounds) and the factors of the
fits checked are bit-identical. :func:`frame_stream` is the exception: the
state it returns lives in the caller's stack frame, so it must be inlined there.
"""
import numpy as np
from numba import njit, types

from ._intrinsics import frame_array

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True)
def next_u64(state):
    """Advance ``state`` (uint64[1]) and return 64 random bits."""
    state[0] += _GOLDEN
    return _mix(state[0])


@njit(cache=True)
def next_float(state):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return np.float64(next_u64(state) >> _S11) * _INV53


@njit(cache=True)
def peek_float(state):
    """The float the next :func:`next_float` will return, without advancing
    ``state``."""
    return np.float64(_mix(state[0] + _GOLDEN) >> _S11) * _INV53


@njit(cache=True)
def peek_float_at(state, k):
    """The float the k-th next :func:`next_float` (k >= 1) will return, without
    advancing ``state``: a splitmix state moves by one constant per draw."""
    return np.float64(_mix(state[0] + np.uint64(k) * _GOLDEN) >> _S11) * _INV53


@njit(cache=True)
def next_int(state, n):
    """Uniform integer in [0, n) for 0 < n < 2**53."""
    return np.int64(next_float(state) * n)


@njit(cache=True)
def stream(seed, epoch, block):
    """A fresh state for (seed, epoch, block): three rounds of mixing keep nearby
    tuples far apart."""
    s = np.empty(1, dtype=np.uint64)
    z = _mix(np.uint64(seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(epoch) * _MIX1 + _GOLDEN))
    z = _mix(z ^ (np.uint64(block) * _MIX2 + _GOLDEN))
    s[0] = z
    return s


#: uint64[1] in the caller's frame (see recsample._intrinsics.frame_array)
frame_word = frame_array(types.uint64, 1)


@njit(inline="always")
def frame_stream(seed, epoch, block):
    """:func:`stream` in the caller's stack frame, for the trainers' block
    loops. Only for use inside compiled kernels (it is inlined there); the
    returned state is valid until that kernel returns."""
    s = frame_word()
    z = _mix(np.uint64(seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(epoch) * _MIX1 + _GOLDEN))
    z = _mix(z ^ (np.uint64(block) * _MIX2 + _GOLDEN))
    s[0] = z
    return s
