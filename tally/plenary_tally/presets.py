"""The decision rules of real bodies, as a ballot states them: criteria, a choice scale and a methodology.

The new-ballot form starts from one of these (`?preset=<key>`), the tests build ballots from them and check
their outcomes at each boundary of the published wording, and docs/analysis.md works through each.
"""

from typing import Any

IESG_SCALE = [
    {"key": "yes", "label": "Yes", "value": 1},
    {"key": "no-objection", "label": "No Objection", "value": 1},
    {"key": "discuss", "label": "DISCUSS", "value": -1, "blocking": True, "requires_rationale": True},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "recuse", "label": "Recuse", "value": 0},
]
IESG_LABELS = {"pass": "Approved", "fail": "Not approved", "blocked": "DISCUSS holds", "none": "No positions"}

PRESETS: dict[str, dict[str, Any]] = {
    "osi-mean-bands": {
        "title": "OSI 2024 rubric (mean-bands)",
        "wording": "A component's score is the sum of its votes over Use, Study, Modify and Share; its outcome is "
        "the first band whose multiple of the mean score μ it reaches.",
        "criteria": [["use", "Use"], ["study", "Study"], ["modify", "Modify"], ["share", "Share"]],
        "choices": [
            {"key": "required", "label": "Required", "value": 1},
            {"key": "abstain", "label": "Abstain", "value": 0},
            {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
        ],
        "methodology": {
            "rule": "mean-bands",
            "bands": [
                {"min": 2.0, "label": "Yes"},
                {"min": 1.5, "label": "Lean yes"},
                {"min": 1.0, "label": "Maybe"},
                {"min": 0.5, "label": "Lean no"},
            ],
            "otherwise": "No",
        },
    },
    "iesg-standards": {
        "title": "IESG, standards-track document",
        "wording": "Approved with Yes or No Objection positions from two thirds of the area directors who have "
        "not recused themselves, and no standing DISCUSS (which carries its reason).",
        "criteria": [["approve", "Approve"]],
        "choices": IESG_SCALE,
        "methodology": {
            "rule": "majority",
            "threshold": "2/3",
            "base": "eligible",
            "for": ["yes", "no-objection"],
            "recuse": "recuse",
            "labels": IESG_LABELS,
        },
    },
    "iesg-informational": {
        "title": "IESG, informational document",
        "wording": "Approved with one Yes position and no standing DISCUSS.",
        "criteria": [["approve", "Approve"]],
        "choices": IESG_SCALE,
        "methodology": {
            "rule": "majority",
            "at_least": 1,
            "for": ["yes"],
            "recuse": "recuse",
            "labels": IESG_LABELS,
        },
    },
    "cabf-ballot": {
        "title": "CA/Browser Forum ballot",
        "wording": "Passes when at least two thirds of the certificate issuers' votes and more than half of the "
        "browsers' votes are Yes, abstentions left out of both ratios but counted toward the quorum, with at "
        "least one Yes in each class. Enrol the two classes as groups keyed issuers and browsers, and set the "
        "quorum to the Forum's current figure.",
        "criteria": [["adopt", "Adopt"]],
        "choices": [
            {"key": "yes", "label": "Yes", "value": 1},
            {"key": "no", "label": "No", "value": -1},
            {"key": "abstain", "label": "Abstain", "value": 0},
        ],
        "methodology": {
            "rule": "majority",
            "groups": {
                "issuers": {"threshold": "2/3", "base": "cast", "at_least": 1},
                "browsers": {"threshold": "1/2", "strict": True, "base": "cast", "at_least": 1},
            },
            "quorum": {"count": 6, "abstentions": True},
            "labels": {"pass": "Passes", "fail": "Fails", "blocked": "Blocked", "none": "No votes"},
        },
    },
}
