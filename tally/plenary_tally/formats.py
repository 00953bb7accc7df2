"""What a tally bundle's files are and hold, stated once (docs/tally-format.md).

The server's exporter (`analysis/bundles.py`) writes what this module names; this package's readers
check a bundle against it. Changing a value here changes the format: bump its version with it.
"""

TALLY = "plenary-tally/1"  # manifest.json's `format`: the bundle as a whole
BALLOT = "plenary-ballot/1"  # ballot.json's `format`
OUTCOMES = "plenary-outcomes/1"  # outcomes.json's `format`

# The files of a bundle (manifest.json last, with the SHA-256 of every other)
BALLOT_FILE = "ballot.json"
VOTES_FILE = "votes.csv"
AUDIT_FILE = "audit.jsonl"
OUTCOMES_FILE = "outcomes.json"
DATAPACKAGE_FILE = "datapackage.json"
MANIFEST_FILE = "manifest.json"
CHECKPOINT_FILE = (
    "checkpoint.txt"  # optional: the log's signed checkpoint of audit.jsonl; manifest.json's `log_key` checks it
)

VOTE_FIELDS = (  # votes.csv's columns, in order, as datapackage.json describes them
    {"name": "voter", "type": "string", "description": "The member's public handle."},
    {"name": "working_group", "type": "string", "description": "The key of the group the vote is cast for."},
    {"name": "component", "type": "string", "description": "A leaf component key from ballot.json."},
    {"name": "criterion", "type": "string", "description": "A criterion key from ballot.json."},
    {"name": "choice", "type": "string", "description": "A choice key from ballot.json."},
    {"name": "value", "type": "integer", "description": "The choice's value."},
    {"name": "cast_at", "type": "datetime", "description": "When the vote was cast, ISO 8601."},
    {"name": "rationale", "type": "string", "description": "The voter's reason, free text."},
    {"name": "disputed", "type": "boolean", "description": "Whether an open or upheld dispute covers the vote."},
)
VOTE_COLUMNS = tuple(field["name"] for field in VOTE_FIELDS)  # votes.csv's header
CARRY_FIELDS = (  # two more columns, last, in the votes.csv of a ballot that carries votes (ballot.json's `carry`)
    {"name": "carried", "type": "boolean", "description": "Carried from the previous ballot, not yet confirmed."},
    {"name": "outdated", "type": "boolean", "description": "Carried onto a component whose text changed."},
)
CARRY_COLUMNS = VOTE_COLUMNS + tuple(field["name"] for field in CARRY_FIELDS)
