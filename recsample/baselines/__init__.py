"""Reference models to place sampled matrix factorisation against: most
popular, EASE (Steck, WWW 2019) and implicit's ALS. Same interface as the
trainers: ``fit(train)`` returns self, ``recommend(users, k, exclude)``, and
``rs.evaluate(model, test, train=train)``; each declares a ``search_space``
so ``rs.tune`` tunes it as it tunes a trainer."""
from .base import Baseline
from .popular import MostPopular
from .ease import EASE, ease_bytes
from .als import ALS

#: command-line and ``rs.tune`` names
BASELINES = {cls.name: cls for cls in (MostPopular, EASE, ALS)}

__all__ = ["Baseline", "MostPopular", "EASE", "ALS", "BASELINES", "ease_bytes"]
