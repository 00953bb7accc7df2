"""The votes pages' URLs and what a test reads off them; how to ask and read any page is in tests/client.py.

PERSONAS are the visitors every who-gets-what test walks through, anonymous first: `oscar` organizes another
definition, the others are described in tests/conftest.py.
"""

import re

from django.urls import reverse

from audit.models import AuditEvent
from tests.client import table_rows
from tests.factories import ComponentFactory, MembershipFactory
from votes import services

PERSONAS = [None, "carol", "dave", "bob", "alice", "oscar", "olga"]
MEMBERS = ["dave", "bob", "alice"]  # of a group enrolled in the ballot
NOT_ORGANIZERS = ["carol", "dave", "bob", "alice", "oscar"]
NOT_MEMBERS = ["carol", "oscar", "olga"]


def url(name: str, *args) -> str:
    return reverse(f"votes:{name}", args=args)


def ballot_url(name: str, *args, key: str = "components") -> str:
    return url(name, "osd", key, *args)


def grid_options(response) -> dict[str, list[str]]:
    """Each cell of the vote grid by id, with the choice keys its select offers ("" is “no vote”)."""
    cells = re.findall(r'<td id="(cell-[\w-]+)"(.*?)</td>', response.content.decode(), re.S)
    return {cell_id: re.findall(r'<option value="([^"]*)"', body) for cell_id, body in cells}


def cell(component: str = "code", criterion: str = "use", choice: str = "required", **fields) -> dict:
    return {"component": component, "criterion": criterion, "choice": choice, **fields}


def rows(prefix: str, *rows: dict | tuple) -> dict:
    """The ballot form's rows of criteria (`rows("criteria", ("use", "Use"))`) or choices (dicts), as posted."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        fields = dict(zip(("key", "label"), row, strict=True)) if isinstance(row, tuple) else row
        for name, value in fields.items():
            if value is not False:
                data[f"{prefix}-{i}-{name}"] = "on" if value is True else str(value)
    return data


def ballot_rows(criteria: list[tuple], choices: list[dict]) -> dict:
    return rows("criteria", *criteria) | rows("choices", *choices)


def actions(after: int = 0) -> list[str]:
    """The audit log's actions in order, or only those after the first `after` events."""
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)[after:])


def roll_call(client, **query) -> list[tuple[str, str, str, str]]:
    """(voter, component/criterion, group, choice) of each row the roll call shows for the query."""
    response = client.get(ballot_url("roll-call"), query)
    assert response.status_code == 200
    rows = table_rows(response, "roll-call")
    if rows == [["No vote matches."]]:
        return []
    return [(row[2], f"{row[0]}/{row[1]}", row[3], row[4]) for row in rows]


def assert_same_queries_when_the_data_grows(client, path, grow, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as small:
        assert client.get(path).status_code == 200
    grow()
    with django_assert_max_num_queries(limit) as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small), "\n".join(q["sql"] for q in large.captured_queries)


def more_votes(ballot, group, n: int) -> None:
    """n more components, and n more members of `group` who vote on each of them for two criteria."""
    criteria = list(ballot.criteria.all()[:2])
    components = [ComponentFactory(version=ballot.version, category="Model") for _ in range(n)]
    voters = [MembershipFactory(group=group).user for _ in range(n)]
    for voter in voters:
        for component in components:
            for criterion in criteria:
                services.cast_vote(
                    ballot=ballot,
                    voter=voter,
                    component=component,
                    criterion=criterion,
                    choice=ballot.choices.get(key="required"),
                )
