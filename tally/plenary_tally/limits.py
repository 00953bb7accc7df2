"""How much of a bundle the reader accepts (docs/tally-format.md, "Limits"): one place for every bound.

A bundle comes from anyone, so reading it must stay within bounded memory and time whatever it
holds. A zip's members are checked against these before any of them is read (their declared
sizes, which the zip reader never reads past); a directory's files when opened; and lines and
JSON documents while they are read. A bundle of a million votes is well within every bound
(docs/performance.md): its votes.csv is 100 to 150 MB, its audit.jsonl about 600 MB.
"""

from . import formats

MiB = 1 << 20

STREAMED_FILES = (formats.VOTES_FILE, formats.AUDIT_FILE)  # read line by line, in flat memory
MAX_STREAMED_BYTES = 2048 * MiB  # each of the streamed files, uncompressed: a few million votes
MAX_FILE_BYTES = 32 * MiB  # any other file (ballot.json, outcomes.json, manifest.json, …), read whole
MAX_RATIO = 100  # uncompressed size / compressed size of a zip member; real bundles compress 5 to 30 times
RATIO_FROM = 1 * MiB  # the ratio is checked for members larger than this (a small file may compress any amount)
MAX_LINE_BYTES = {formats.VOTES_FILE: 1 * MiB, formats.AUDIT_FILE: 16 * MiB}  # its line end included
MAX_JSON_DEPTH = 64  # arrays and objects nested in one another; bundles nest fewer than 10
MIN_INT, MAX_INT = -(2**63), 2**63 - 1  # a JSON integer is a signed 64-bit integer
ZIP_METHODS = (0, 8)  # a zip member is stored or deflated


def max_bytes(name: str) -> int:
    """The largest uncompressed size a file of the bundle may have."""
    return MAX_STREAMED_BYTES if name in STREAMED_FILES else MAX_FILE_BYTES
