"""Reference models to place sampled matrix factorisation against: most
popular, EASE (Steck, WWW 2019) and implicit's ALS. Same interface as the
trainers: ``fit(train)`` returns self, ``recommend(users, k, exclude)``, and
``rs.evaluate(model, test, train=train)``; each declares a ``search_space``
so ``rs.tune`` tunes it as it tunes a trainer."""
from .base import Baseline
from .popular import MostPopular
from .ease import EASE, ease_bytes
from .als import ALS
from .. import registry as _registry

#: command-line and ``rs.tune`` names
BASELINES = {name: _registry.load("baseline", name) for name in _registry.BASELINES}

__all__ = ["Baseline", "MostPopular", "EASE", "ALS", "BASELINES", "ease_bytes"]
