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
