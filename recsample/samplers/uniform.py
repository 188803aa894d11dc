"""Uniform negatives: j ~ U(items \\ I_u), the sampler of the BPR paper
(Rendle et al., UAI 2009)."""
from collections import namedtuple

import numpy as np

from .._rng import peek_float
from ..core.hooks import draw, implements, peek
from ..core.positives import uniform_negative
from .base import Sampler

UniformState = namedtuple("UniformState", [])
UniformState.blind = True  # draw reads only pos, u and rng: drawn one pair ahead


@implements(draw, UniformState)
def _draw_uniform(state, pos, u, i, U, V, rng):
    return uniform_negative(pos, u, rng)


@implements(peek, UniformState)
def _peek_uniform(state, pos, rng):
    # uniform_negative's first proposal (rows denser than half the catalogue
    # draw differently; the guess is then only a wasted load)
    return np.int64(peek_float(rng) * pos.n_items)


class Uniform(Sampler):
    """Every item the user has not interacted with is equally likely."""

    name = "uniform"

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        return UniformState()
