"""Model cards: the Use line carries the sampling chosen on validation."""

import copy

from rollflow.training.cards import card_markdown
from rollflow.training.shipped import read_model_card


def test_the_use_line_asks_for_symmetry_members_when_they_were_chosen():
    meta = read_model_card("kf32-rolling-k1")
    for chosen in (False, True):
        changed = copy.deepcopy(meta)
        changed["card"]["symmetry_members"] = chosen
        use = next(line for line in card_markdown(changed).splitlines()
                   if line.startswith("- **Use:**"))
        assert use.endswith("--symmetry-members`") is chosen, use


def _use_line(meta):
    return next(line for line in card_markdown(meta).splitlines()
                if line.startswith("- **Use:**"))


def test_the_use_line_asks_for_bf16_only_when_bf16_was_chosen():
    meta = read_model_card("kf32-rolling-k1")
    for precision in ("float32", "bfloat16"):
        changed = copy.deepcopy(meta)
        changed["card"]["precision"] = precision
        assert (" --bf16" in _use_line(changed)) is (precision == "bfloat16")


def test_an_earlier_issue_14_card_in_the_history_shows_its_test_readings():
    """An earlier card with `test_readings` (no `test_T08_ensemble_mean`) printed "T₀.₈ nan"."""
    meta = copy.deepcopy(read_model_card("kf32-rolling-k1"))
    readings = [{"members": m, "precision": "float32", "T08": [3.0 + m / 10, 2.9, 3.9],
                 "calls_per_frame_all_members": m, "seconds_per_time_unit_all_members": m,
                 "break_even_time_units": 1.0} for m in (1, 8)]
    meta["card"]["history"] = [{"step": 6000, "test_readings": readings, "test_store": "S"}]
    history = next(line for line in card_markdown(meta).splitlines()
                   if line.startswith("- **History"))
    assert "nan" not in history
    assert "3.10 single member" in history and "3.80 [2.90, 3.90] 8-member mean" in history


def test_a_blended_model_names_its_two_parts_instead_of_an_ema():
    meta = copy.deepcopy(read_model_card("kf32-rolling-k1"))
    meta["card"]["blend"] = {"a": "kf32-rolling-k1", "b": "runs/x/crps_r20", "weight": 0.5}
    meta["card"].pop("ema_decay", None)
    text = card_markdown(meta)
    assert "(1 − 0.5)·θ_A + 0.5·θ_B of A = `kf32-rolling-k1` and B = `runs/x/crps_r20`" in text
    assert "EMA decay" not in text and "train128" not in text
