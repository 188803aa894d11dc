"""Reproduce NBPO (Yu & Qin, SIGIR 2020) on the authors' Amazon split.

    python examples/reproduce_nbpo.py --path ../shared/data/nbpo-amazon \
        --negatives 3 --out docs/results/nbpo-amazon/neg3

The same as ``recsample reproduce nbpo``; see docs/reproduce_nbpo.md and
``python examples/reproduce_nbpo.py --help``.
"""
import argparse

from recsample.reproduce import nbpo

if __name__ == "__main__":  # guards the worker processes' import
    parser = nbpo.add_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    raise SystemExit(nbpo.run(parser.parse_args()))
