"""The Merkle tree of an audit stream, as RFC 6962 and RFC 9162 §2.1 define it: no Django.

Each audit event is one leaf; its leaf data is the 32 raw bytes of its chain hash
(`event_leaf`), which already covers every field of the event. A signed checkpoint
(`checkpoints.py`) names a stream's tree size and root; an inclusion proof shows one event
is in that tree, a consistency proof that a larger tree extends a smaller one, so an
observer holding an older checkpoint can tell an append from a rewritten history.

Functions that take `leaves` take leaf hashes (`leaf_hash` already applied), in order.
Trees are computed level by level, never by a recursion per leaf: a root over 1,000,000
leaves takes about a second. A proof hashes each node it needs once.
"""

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF_LENGTH = 128  # a tree of 2**64 leaves needs at most 2 * 64 hashes in a proof


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def event_leaf(event_hash_hex: str) -> bytes:
    """The leaf hash of an audit event: its chain hash's 32 bytes, hashed as a leaf."""
    data = bytes.fromhex(event_hash_hex)
    if len(data) != HASH_SIZE:
        raise ValueError(f"an event hash is 64 hex digits, not {len(event_hash_hex)} characters")
    return leaf_hash(data)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """The root of leaves[lo:hi], level by level: pairing left to right and carrying an odd last
    node up gives the same tree as RFC 6962's split at the largest power of two."""
    if hi <= lo:
        return EMPTY_ROOT
    level = list(leaves[lo:hi])
    sha256 = hashlib.sha256
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    return _subtree_root(leaves, 0, len(leaves))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of all `leaves` (RFC 9162 §2.1.3.1), leaf upwards."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)} leaves")
    lo, hi, siblings = 0, len(leaves), []
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            siblings.append(_subtree_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_subtree_root(leaves, lo, lo + k))
            lo += k
    return siblings[::-1]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof that the tree of all `leaves` extends its first `old_size` (RFC 9162 §2.1.4.1)."""
    new_size = len(leaves)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"a tree of {new_size} leaves cannot extend one of {old_size}")
    if old_size in (0, new_size):
        return []
    lo, hi, m, whole, proof, siblings = 0, new_size, old_size, True, [], []
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            siblings.append(_subtree_root(leaves, lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_subtree_root(leaves, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(_subtree_root(leaves, lo, hi))
    return proof + siblings[::-1]


def _well_formed(proof: Sequence[bytes], *hashes: bytes) -> bool:
    return len(proof) <= MAX_PROOF_LENGTH and all(
        isinstance(h, bytes) and len(h) == HASH_SIZE for h in (*proof, *hashes)
    )


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` in the tree of `size` with `root`?"""
    if not _well_formed(proof, leaf, root) or not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does `proof` show the tree (new_size, new_root) extends (old_size, old_root)?

    Equal sizes hold with an empty proof and equal roots; every tree extends the empty one."""
    if not _well_formed(proof, old_root, new_root) or not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


class Frontier:
    """The compact range of an append-only tree: the roots of its perfect subtrees, left to right.

    Their sizes are the binary digits of `size`, largest first, so a batch of events extends
    the tree, and gives its new root, without reading the stream's earlier events."""

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hashes = list(hashes)
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves holds {size.bit_count()} hashes, not {len(hashes)}")
        if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"each frontier hash is {HASH_SIZE} bytes")
        self.size = size
        self.hashes = hashes

    def append(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        merges = self.size
        while merges & 1:
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            merges >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r

    def to_data(self) -> dict[str, Any]:
        return {"size": self.size, "hashes": [h.hex() for h in self.hashes]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Frontier":
        size, hashes = data.get("size"), data.get("hashes")
        if not isinstance(size, int) or isinstance(size, bool) or not isinstance(hashes, list):
            raise ValueError('a frontier is {"size": a whole number, "hashes": [hex, ...]}')
        try:
            return cls(size, [bytes.fromhex(h) for h in hashes])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"this frontier does not hold: {exc}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frontier) and (self.size, self.hashes) == (other.size, other.hashes)

    def __repr__(self) -> str:
        return f"Frontier(size={self.size})"
