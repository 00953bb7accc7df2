"""Outcomes in words: the scenario names, the summary line of each component, why k, the results CSV's rows."""

import pytest

from plenary_tally import words
from tests.analysis.conftest import BANDS_KEYS, MAJORITY_KEYS, bands_outcomes, majority_outcomes

GROUPS = {"alpha": "Alpha", "beta": "Beta Commons"}
BANDS_VALUES = {"required": 1, "abstain": 0, "not-necessary": -1}
BANDS_PARTS = {"datasets": ("data-a", "data-b"), "everything": ("code", "data-a")}
MAJORITY_VALUES = {"yes": 1, "abstain": 0, "no": -1, "veto": -1}


@pytest.mark.parametrize(
    "key, title",
    [
        ("all", "As cast"),
        ("without-disputed", "Without the disputed votes"),
        ("without-disputed@baseline", "Without the disputed votes, with the thresholds as cast"),
        ("without-restricted", "Without the restricted (grant-only) votes"),
        ("without-restricted@baseline", "Without the restricted (grant-only) votes, with the thresholds as cast"),
        ("without-conflicts", "Without the votes over a declared conflict of interest"),
        ("without-group:beta", "Without Beta Commons"),
        ("without-group:alpha@baseline", "Without Alpha, with the thresholds as cast"),
        ("only-group:beta", "Beta Commons alone"),
        ("only-group:gamma", "gamma alone"),  # a group the names do not know keeps its key
        ("without-quorum", "without-quorum"),  # a scenario of a later version keeps its key
    ],
)
def test_a_scenario_is_named_in_words(key, title):
    assert words.scenario_title(key, GROUPS) == title


def test_a_phrase_says_how_many_votes_the_scenario_leaves_out():
    assert words.scenario_phrase("without-disputed", GROUPS, 32) == "without the 32 disputed votes"
    assert words.scenario_phrase("without-disputed", GROUPS, 1) == "without the 1 disputed vote"
    assert words.scenario_phrase("without-group:beta", GROUPS, 10) == "without Beta Commons’s 10 votes"
    assert words.scenario_phrase("only-group:alpha@baseline", GROUPS, 10) == (
        "with Alpha alone, with the thresholds as cast"
    )


def summary_of(data, keys, values, parts=None) -> dict[str, dict]:
    titles = {key: key.replace("-", " ").capitalize() for key in keys}
    rows = words.summary(data, titles=titles, group_names=GROUPS, values=values, parts=parts)
    return {row["key"]: row for row in rows}


def test_the_summary_tells_each_outcome_with_its_votes_and_what_flips_it_in_words():
    # Ballot A: data-a scores 3 with μ = 4 (Lean no); without its one disputed vote (−1) it scores 4, which
    # reaches μ as cast (Maybe), but not μ recomputed without that vote, 17/4 (still Lean no).
    rows = summary_of(bands_outcomes(), BANDS_KEYS, BANDS_VALUES, BANDS_PARTS)

    data_a = rows["data-a"]
    assert data_a["text"].startswith(
        "Data a: Lean no (5 votes) — 1 vote changed would change its band; Maybe without the 1 disputed vote, "
        "with the thresholds as cast; "
    )
    assert {"scenario": "without-disputed@baseline", "outcome": "Maybe"} | {
        "phrase": "without the 1 disputed vote, with the thresholds as cast"
    } in data_a["flips"]
    # a scenario and its @baseline twin flipping alike are said once
    assert "No without Alpha’s 11 votes, whether or not the thresholds move with them" in data_a["text"]
    assert "without-group" not in data_a["text"] and "@baseline" not in data_a["text"]


def test_an_unvoted_component_says_no_votes_yet_not_its_score():
    rows = summary_of(bands_outcomes(), BANDS_KEYS, BANDS_VALUES, BANDS_PARTS)

    assert rows["docs"]["state"] == words.NO_VOTES
    assert rows["docs"]["text"] == "Docs: No votes yet, which scores 0: No"
    assert rows["datasets"]["state"] is None  # its parts were voted on


def test_under_majority_abstentions_alone_and_no_votes_are_told_apart():
    rows = summary_of(majority_outcomes(), MAJORITY_KEYS, MAJORITY_VALUES, {"ab": ("a", "b")})

    assert rows["d"]["text"] == "D: Only abstentions (3 votes)"
    assert rows["e"]["text"] == "E: No votes yet"
    assert rows["b"]["text"].startswith(
        "B: Fails (6 votes) — needs 6 more in favour, or 3 fewer against; Passes without the 3 disputed votes; "
    )
    assert "None" not in "".join(row["text"] for row in rows.values())


def test_a_components_needs_sentence_follows_its_outcome():
    data = majority_outcomes()
    scenarios = [dict(data["scenarios"][0])] + data["scenarios"][1:]
    scenarios[0]["components"] = [
        c | {"needs": "needs 2 more in favour"} if c["key"] == "b" else c for c in scenarios[0]["components"]
    ]
    rows = summary_of(data | {"scenarios": scenarios}, MAJORITY_KEYS, MAJORITY_VALUES)

    assert rows["b"]["needs"] == "needs 2 more in favour"
    assert rows["b"]["text"].startswith("B: Fails (6 votes) — needs 2 more in favour; Passes without")


def test_why_k_says_where_k_comes_from_and_what_the_silhouettes_say():
    chosen = {"k": 2, "silhouette": {"2": 0.52, "3": 0.55, "6": 0.62}}
    best = {"k": 3, "silhouette": {"2": 0.52, "3": 0.75}}

    assert words.k_explanation(chosen).startswith("k = 2 was chosen because the ballot’s clustering settings fix it")
    assert "k = 6 would separate these scores more cleanly (0.62)" in words.k_explanation(chosen)
    assert "it is also the k whose clusters separate best (silhouette 0.75)" in words.k_explanation(best)
    assert "Note: only 1 distinct scores" in words.k_explanation({"k": 2, "note": "only 1 distinct scores: 1 clusters"})


def test_the_csv_has_one_row_per_scenario_and_component_in_words_and_keys():
    data = majority_outcomes()
    rows = words.results_rows(data, {"a": "Alpha code"}, GROUPS)

    assert len(rows) == len(data["scenarios"]) * len(MAJORITY_KEYS)
    assert rows[0] == ("all", "As cast", "a", "Alpha code", "Passes", 0.8, 1, 7)
    e = next(r for r in rows if r[0] == "all" and r[2] == "e")
    assert e == ("all", "As cast", "e", "e", "No votes", "", "", 0)  # no share to give: an empty cell
    assert ("without-disputed", "Without the disputed votes") in {r[:2] for r in rows}
