"""Driver stages: run in their own order, only the chosen, an interrupt exits 130."""

import pytest

from rollflow.stages import announcer, run_stages


def test_chosen_stages_run_in_plan_order_and_interrupts_exit_130(capsys):
    ran = []
    actions = {"a": lambda: ran.append("a"), "b": lambda: ran.append("b"),
               "c": lambda: ran.append("c")}
    say = announcer("test")
    assert run_stages(actions, ["c", "a"], say) == 0 and ran == ["a", "c"]
    assert "[test] stage a" in capsys.readouterr().err

    def interrupted():
        raise KeyboardInterrupt

    ran.clear()
    assert run_stages({"a": lambda: ran.append("a"), "b": interrupted,
                       "c": lambda: ran.append("c")}, "abc", say) == 130
    assert ran == ["a"] and "resume" in capsys.readouterr().err
    with pytest.raises(KeyError, match="unknown stages"):
        run_stages(actions, ["a", "z"], say)
    assert ran == ["a"]                          # nothing ran before the refusal
