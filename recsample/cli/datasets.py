"""``recsample datasets``: the known data sets, whether each loads offline,
its size and its source."""
from __future__ import annotations


def add_parser(subparsers):
    p = subparsers.add_parser(
        "datasets", help="list the known data sets and whether they load offline",
        description="List the known data sets: whether each loads offline now "
        "(no download, no --path), its size and its source.")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    from ..datasets import available
    from ._format import aligned_columns
    table = available().reset_index()
    table["offline"] = table["offline"].map({True: "yes", False: "no"})
    numeric = ("users", "items", "interactions")
    for col in numeric:
        table[col] = table[col].map(lambda v: "" if v is None or str(v) == "<NA>" else f"{v:,}")
    cols = ["name", "offline", *numeric, "description"]
    print(aligned_columns(table[cols], right=numeric))
    print("\noffline = loads now without a download or --path; sizes are the published ones.")
    return 0
