"""``recsample reproduce STUDY``: the published experiments. Each study's
module in :mod:`recsample.reproduce` adds its own options
(``add_arguments(parser)``) and runs them (``run(args)``); the module is
imported only when its study's options are parsed, so ``recsample --help``
does not load it."""
from __future__ import annotations

import importlib

from ._args import Parser, UsageError

#: study -> (short help, description)
STUDIES = {
    "nbpo": ("NBPO (Yu & Qin, SIGIR 2020) on the authors' Amazon split",
             "Reproduce NBPO (Yu & Qin, SIGIR 2020) with the authors' settings; "
             "implemented in recsample.reproduce.nbpo."),
    "gowalla": ("MF with BPR, sampled softmax and CCL on the LightGCN Gowalla split",
                "Matrix factorisation on the NGCF/LightGCN Gowalla split, settings chosen "
                "on validation carved from train, beside the published rows; implemented "
                "in recsample.reproduce.gowalla."),
}


class _StudyParser(Parser):
    """A study's parser: its module's options are added the first time it
    parses, which happens only when the command line names the study."""

    module = None   # set per study by add_parser

    def parse_known_args(self, args=None, namespace=None):
        if self.module is not None:
            _attach_arguments(self, self.module)
            self.module = None
        return super().parse_known_args(args, namespace)


def add_parser(subparsers):
    p = subparsers.add_parser("reproduce", help="reproduce a paper's experiment (nbpo, gowalla)",
                              description="Reproduce published experiments. `recsample "
                              "reproduce STUDY --help` lists a study's options.")
    studies = p.add_subparsers(dest="study", metavar="STUDY", parser_class=_StudyParser)
    studies.required = True
    for study, (short, long) in STUDIES.items():
        sp = studies.add_parser(study, help=short, description=long)
        sp.module = f"recsample.reproduce.{study}"
        sp.set_defaults(handler=run)
    return p


def _attach_arguments(parser, module_name):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        parser.set_defaults(missing=f"{module_name} is not available in this installation")
        return
    module.add_arguments(parser)
    parser.set_defaults(runner=module.run)


def run(args) -> int:
    missing = getattr(args, "missing", None)
    if missing:
        raise UsageError(missing)
    return int(args.runner(args) or 0)
