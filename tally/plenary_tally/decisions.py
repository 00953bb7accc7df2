"""The decisions on the record and the objections to them, checked against the audit log and the bundle's run.

Two checks of `--verify` (docs/tally-format.md, "What `--verify` checks"):

- `DecisionLog` follows the ballot's stream: `decision.recorded` (only once the ballot has closed, citing a run
  at or after the closing and before the decision), `objection.lodged` (on a decision that stands) and
  `objection.answered` (once, on an objection lodged); `against` then compares `ballot.json`'s `decisions`,
  with their objections, to what the log recorded, field by field.
- `check_runs`: every decision that stands cites this bundle's run, the one whose input digest is the digest
  of the bundle's own `ballot.json` and `votes.csv` (`digest.input_digest`): it read exactly these votes, so
  its outcomes are `outcomes.json`'s. A decision revised later rested on the run of its time, and is not.
"""

from collections.abc import Callable
from typing import Any

from .ballot import Ballot
from .digest import input_digest
from .files import BundleError, parse_time
from .formats import AUDIT_FILE, BALLOT_FILE
from .model import Cell
from .vocabulary import Action

ACTIONS = (Action.DECISION_RECORDED, Action.OBJECTION_LODGED, Action.OBJECTION_ANSWERED)
DECISION_FIELDS = ("number", "component", "outcome", "statement", "run", "supersedes", "recorded_at")
OBJECTION_FIELDS = ("decision", "reasoning", "lodged_at", "answer", "answer_reason", "answered_at")


def _short(digest: str) -> str:
    return f"{digest[:8]}…{digest[-4:]}" if len(digest) > 12 else digest


def _what(payload: dict) -> str:
    return f"component {payload['component']}" if payload.get("component") else "whole ballot"


def _instant(text: Any) -> Any:
    try:
        return parse_time(text) if isinstance(text, str) else text
    except ValueError:
        return text


class DecisionLog:
    """The decisions and objections as the ballot's audit log records them, event by event."""

    def __init__(self) -> None:
        self.closed_seq: int | None = None
        self.decisions: dict[int, dict] = {}  # by number, with `recorded_by`, `line`, `objections` (subjects)
        self.objections: dict[str, dict] = {}  # by subject, with `member`, `answered_by`, `line`
        self.problems: list[BundleError] = []

    def apply(self, line: int, event: dict, fail: Callable[[str], BundleError]) -> None:
        """Follow one event of the stream (any event: the closing is noted, decisions and objections kept)."""
        action, payload = event["action"], event["payload"]
        if action == Action.BALLOT_CLOSED and self.closed_seq is None:
            self.closed_seq = event["seq"]
        if action not in ACTIONS:
            return
        fields = DECISION_FIELDS if action == Action.DECISION_RECORDED else OBJECTION_FIELDS
        lacking = [f for f in fields if f not in payload]
        if lacking:
            raise fail(f"its payload lacks {', '.join(lacking)}")
        if action == Action.DECISION_RECORDED:
            self._decision(line, event, fail)
        elif action == Action.OBJECTION_LODGED:
            decision = self.decisions.get(payload["decision"])
            if decision is None:
                raise fail(f"objects to decision {payload['decision']!r}, which was never recorded")
            if decision["superseded"]:
                self._problem(line, action, f"objects to decision {decision['number']}, which had been revised")
            self.objections[event["subject"]] = payload | {"member": event["actor"], "answered_by": None, "line": line}
            decision["objections"].append(event["subject"])
        else:
            lodged = self.objections.get(event["subject"])
            if lodged is None:
                raise fail(f"answers {event['subject']}, which was never lodged")
            if lodged["answer"] is not None:
                self._problem(line, action, f"answers {event['subject']} a second time")
            if payload.get("answer") not in ("upheld", "overruled"):
                self._problem(line, action, f"answers {payload.get('answer')!r}, not upheld or overruled")
            self.objections[event["subject"]] = lodged | payload | {"answered_by": event["actor"], "line": line}

    def _decision(self, line: int, event: dict, fail: Callable[[str], BundleError]) -> None:
        action, payload, seq = event["action"], event["payload"], event["seq"]
        number, run = payload["number"], payload["run"]
        if number != len(self.decisions) + 1:
            raise fail(f"records decision {number!r}; the next one is {len(self.decisions) + 1}")
        if not isinstance(run, dict) or not isinstance(run.get("audit_seq"), int):
            raise fail("cites no run: its `run` is not {audit_seq, input_digest}")
        if self.closed_seq is None:
            self._problem(line, action, "records a decision on a ballot that has not closed")
        elif not self.closed_seq <= run["audit_seq"] < seq:
            self._problem(
                line,
                action,
                f"cites the run at audit position {run['audit_seq']}, which is not between the closing "
                f"({self.closed_seq}) and the decision ({seq})",
            )
        revised = payload["supersedes"]
        if revised is not None:
            earlier = self.decisions.get(revised)
            if earlier is None or earlier["superseded"] or earlier["component"] != payload["component"]:
                message = f"supersedes decision {revised!r}, which is not one standing on the same {_what(payload)}"
                self._problem(line, action, message)
            else:
                earlier["superseded"] = True
        elif any(d["component"] == payload["component"] and not d["superseded"] for d in self.decisions.values()):
            self._problem(line, action, f"records a second decision on {_what(payload)}, superseding none")
        self.decisions[number] = payload | {
            "recorded_by": event["actor"],
            "line": line,
            "objections": [],
            "superseded": False,
        }

    def _problem(self, line: int, action: str, message: str) -> None:
        self.problems.append(BundleError(AUDIT_FILE, line, f"{action}: {message}"))

    def against(self, ballot: Ballot, at: Callable[[int], str]) -> list[BundleError]:
        """ballot.json's decisions and objections, field by field, against those the log recorded."""
        problems = list(self.problems)
        listed = {d.number: (i, d) for i, d in enumerate(ballot.decisions)}
        for number in sorted(self.decisions.keys() - listed.keys()):
            line = self.decisions[number]["line"]
            message = f"decisions: decision {number}, recorded in the log ({at(line)}), is missing"
            problems.append(BundleError(BALLOT_FILE, None, message))
        for number, (i, decision) in listed.items():
            path = f"decisions[{i}]"
            logged = self.decisions.get(number)
            if logged is None:
                message = f"{path}: decision {number} is not recorded in the audit log"
                problems.append(BundleError(BALLOT_FILE, None, message))
                continue
            run = logged["run"]
            fields = (
                ("component", decision.component, logged["component"]),
                ("outcome", decision.outcome, logged["outcome"]),
                ("statement", decision.statement, logged["statement"]),
                ("run.audit_seq", decision.audit_seq, run.get("audit_seq")),
                ("run.input_digest", decision.input_digest, run.get("input_digest")),
                ("supersedes", decision.supersedes, logged["supersedes"]),
                ("recorded_by", decision.recorded_by, logged["recorded_by"]),
                ("recorded_at", decision.recorded_at, _instant(logged["recorded_at"])),
            )
            problems += [
                BundleError(BALLOT_FILE, None, f"{path}.{name} differs from the decision.recorded event "
                            f"({at(logged['line'])}): {mine!r} in the file, {theirs!r} in the log")
                for name, mine, theirs in fields
                if mine != theirs
            ]  # fmt: skip
            problems += self._objections_against(path, decision, logged, at)
        return problems

    def _objections_against(self, path: str, decision, logged: dict, at: Callable[[int], str]) -> list[BundleError]:
        recorded = [self.objections[subject] for subject in logged["objections"]]
        problems = []
        if len(recorded) != len(decision.objections):
            message = (f"{path}.objections: {len(decision.objections)} in the file, the log records "
                       f"{len(recorded)} to decision {decision.number}")  # fmt: skip
            problems.append(BundleError(BALLOT_FILE, None, message))
        for j, (objection, event) in enumerate(zip(decision.objections, recorded, strict=False)):
            fields = (
                ("member", objection.member, event["member"]),
                ("reasoning", objection.reasoning, event["reasoning"]),
                ("lodged_at", objection.lodged_at, _instant(event["lodged_at"])),
                ("answer", objection.answer, event["answer"]),
                ("answer_reason", objection.answer_reason, event["answer_reason"]),
                ("answered_by", objection.answered_by, event["answered_by"]),
                ("answered_at", objection.answered_at, _instant(event["answered_at"])),
            )
            problems += [
                BundleError(BALLOT_FILE, None, f"{path}.objections[{j}].{name} differs from the objection's "
                            f"events ({at(event['line'])}): {mine!r} in the file, {theirs!r} in the log")
                for name, mine, theirs in fields
                if mine != theirs
            ]  # fmt: skip
        return problems


def check_runs(ballot: Ballot, cells: list[Cell]) -> tuple[list[BundleError], str]:
    """Each decision that stands cites this bundle's run; and what held, for the report's line."""
    digest = input_digest(ballot.spec, cells)
    standing = {d.number for d in ballot.current_decisions}
    problems = []
    for i, decision in enumerate(ballot.decisions):
        if decision.number in standing and decision.input_digest != digest:
            on = f"on {decision.component}" if decision.component else "on the ballot"
            message = (
                f"decisions[{i}].run.input_digest: decision {decision.number} ({on}) cites the run at audit position "
                f"{decision.audit_seq} with input digest {_short(decision.input_digest)}, but this bundle's "
                f"ballot.json and votes.csv give {_short(digest)}: the decision rests on another run, not this "
                "bundle's outcomes"
            )
            problems.append(BundleError(BALLOT_FILE, None, message))
    held = (
        f"{len(ballot.decisions)} on the record, {len(standing)} standing, each citing this bundle's run "
        f"(input digest {_short(digest)}); the log records them and their objections"
    )
    return problems, held
