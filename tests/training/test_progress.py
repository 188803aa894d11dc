"""Progress: live bars on a terminal, one line per step in logs and pipes."""
import io

from recsample._progress import Progress, is_live


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_a_pipe_or_file_is_not_live():
    assert not is_live(io.StringIO())


def test_a_terminal_is_live():
    assert is_live(FakeTerminal())


def test_off_a_terminal_each_step_is_one_plain_line():
    out = io.StringIO()
    with Progress(3, "runs", stream=out) as bar:
        for n in range(3):
            bar.step(f"run {n} done")
    assert out.getvalue().splitlines() == ["runs 1/3: run 0 done", "runs 2/3: run 1 done",
                                           "runs 3/3: run 2 done"]


def test_counting_resumes_from_the_steps_already_done():
    out = io.StringIO()
    Progress(5, "runs", stream=out, initial=3).step("x")
    assert out.getvalue() == "runs 4/5: x\n"


def test_disabled_progress_writes_nothing():
    out = io.StringIO()
    Progress(2, "runs", stream=out, enabled=False).step("x")
    assert out.getvalue() == ""
