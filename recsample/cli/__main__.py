"""``python -m recsample.cli``, as ``python -m recsample``."""
from . import main

if __name__ == "__main__":
    raise SystemExit(main())
