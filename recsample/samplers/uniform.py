"""Uniform negatives: j ~ U(items \\ I_u), the sampler of the BPR paper
(Rendle et al., UAI 2009)."""
from collections import namedtuple

from .base import Sampler, draw, implements, uniform_negative

UniformState = namedtuple("UniformState", [])
UniformState.blind = True  # draw reads only pos, u and rng: drawn one pair ahead


@implements(draw, UniformState)
def _draw_uniform(state, pos, u, i, U, V, rng):
    return uniform_negative(pos, u, rng)


class Uniform(Sampler):
    """Every item the user has not interacted with is equally likely."""

    name = "uniform"

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        return UniformState()
