"""Negative samplers. Each lives in its own file and plugs into every trainer.

``get_sampler("dns")`` or ``get_sampler(DNS(candidates=32))`` gives an
instance; names are those in :data:`SAMPLERS`.
"""
import difflib

from .. import registry as _registry
from .base import Sampler
from .uniform import Uniform
from .popularity import Popularity
from .dns import DNS
from .nbpo import NBPO
from .warp import WARP
from .aobpr import AOBPR
from .srns import SRNS
from .importance import Importance
from .kos import KOS

#: name -> class, in the order of :data:`recsample.registry.SAMPLERS`
SAMPLERS = {name: _registry.load("sampler", name) for name in _registry.SAMPLERS}

__all__ = ["Sampler", "Uniform", "Popularity", "DNS", "NBPO", "WARP", "AOBPR", "SRNS",
           "Importance", "KOS", "SAMPLERS", "get_sampler"]


def get_sampler(sampler, loss=None) -> Sampler:
    """A sampler instance from a name (case-insensitive) or an instance.

    A name with ``loss`` (a trainer's ``loss``, such as "ccl") is built with
    the arguments the sampler's ``loss_arguments`` gives for that loss, and
    with its constructor's defaults otherwise; an instance is returned as it
    is."""
    if isinstance(sampler, Sampler):
        return sampler
    if isinstance(sampler, str):
        key = sampler.strip().lower()
        if key in SAMPLERS:
            cls = SAMPLERS[key]
            return cls(**cls.loss_arguments.get(loss, {}))
        close = difflib.get_close_matches(key, SAMPLERS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown sampler {sampler!r}: expected one of {sorted(SAMPLERS)}{hint}")
    raise TypeError(f"sampler must be a name or a recsample.samplers.Sampler, got "
                    f"{type(sampler).__name__}")
