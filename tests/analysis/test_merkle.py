"""The audit stream's Merkle tree: RFC 6962's published vectors, and proofs that verify exactly when they should."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plenary_tally import merkle

# The 8-leaf tree of RFC 6962's test data and its expected roots and proofs, copied (data only) from
# github.com/transparency-dev/merkle, proof/verify_test.go before commit bcba819 (the vectors it
# then moved to testdata/). Their leaf indexes there count from 1; here from 0.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
HASHES = [merkle.leaf_hash(d) for d in LEAVES]


def tree(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_the_empty_tree_and_the_hash_prefixes_are_rfc_6962s():
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root([]) == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_an_events_leaf_is_its_chain_hash_as_raw_bytes():
    chain_hash = "ab" * 32
    assert merkle.event_leaf(chain_hash) == merkle.leaf_hash(bytes.fromhex(chain_hash))
    with pytest.raises(ValueError, match="64 hex digits"):
        merkle.event_leaf("ab" * 31)


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size):
    assert merkle.root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index, size, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert merkle.inclusion_proof(HASHES[:size], index) == expected
    root = bytes.fromhex(ROOTS[size - 1])
    assert merkle.verify_inclusion(HASHES[index], index, size, expected, root)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(old, new, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert merkle.consistency_proof(HASHES[:new], old) == expected
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert merkle.verify_consistency(old, new, old_root, new_root, expected)


def flip(h: bytes, byte: int) -> bytes:
    return h[:byte] + bytes([h[byte] ^ 1]) + h[byte + 1 :]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_inclusion_proof_verifies_and_any_change_fails(data):
    size = data.draw(st.integers(1, 70), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaves = tree(size)
    top = merkle.root(leaves)
    proof = merkle.inclusion_proof(leaves, index)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, top)

    byte = data.draw(st.integers(0, 31), label="byte")
    assert not merkle.verify_inclusion(flip(leaves[index], byte), index, size, proof, top)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof, flip(top, byte))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="at")
        changed = [*proof[:at], flip(proof[at], byte), *proof[at + 1 :]]
        assert not merkle.verify_inclusion(leaves[index], index, size, changed, top)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], top)
    assert not merkle.verify_inclusion(leaves[index], index, size, [*proof, top], top)
    other = data.draw(st.integers(0, size).filter(lambda i: i != index), label="other index")
    assert not merkle.verify_inclusion(leaves[index], other, size, proof, top)
    # A root does not commit to the size alone (65 and 66 leaves can share leaf 0's path shape),
    # so a size that changes the tree's height must fail, as RFC 9162's own tests check.
    assert not merkle.verify_inclusion(leaves[index], index, size * 2, proof, top)
    if index < size // 2:
        assert not merkle.verify_inclusion(leaves[index], index, size // 2, proof, top)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_consistency_proof_verifies_and_any_change_fails(data):
    new = data.draw(st.integers(1, 70), label="new size")
    old = data.draw(st.integers(1, new), label="old size")
    leaves = tree(new)
    old_root, new_root = merkle.root(leaves[:old]), merkle.root(leaves)
    proof = merkle.consistency_proof(leaves, old)
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)

    byte = data.draw(st.integers(0, 31), label="byte")
    assert not merkle.verify_consistency(old, new, flip(old_root, byte), new_root, proof)
    assert not merkle.verify_consistency(old, new, old_root, flip(new_root, byte), proof)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="at")
        changed = [*proof[:at], flip(proof[at], byte), *proof[at + 1 :]]
        assert not merkle.verify_consistency(old, new, old_root, new_root, changed)
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not merkle.verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    for other_old in (old - 1, old + 1):
        if 0 < other_old <= new:
            assert not merkle.verify_consistency(other_old, new, old_root, new_root, proof)
    assert not merkle.verify_consistency(old, new * 2, old_root, new_root, proof)
    if old <= new // 2:
        assert not merkle.verify_consistency(old, new // 2, old_root, new_root, proof)


def test_a_tree_extends_the_empty_tree_and_never_a_larger_one():
    leaves = tree(5)
    top = merkle.root(leaves)
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, top, [])
    assert not merkle.verify_consistency(0, 5, top, top, [])
    assert not merkle.verify_consistency(5, 3, top, top, [])
    with pytest.raises(ValueError):
        merkle.consistency_proof(leaves, 6)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(leaves, 5)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 70), st.integers(0, 70))
def test_a_frontier_extended_in_batches_has_the_whole_trees_root(first, second):
    leaves = tree(first + second)
    frontier = merkle.Frontier()
    frontier.extend(leaves[:first])
    assert frontier.size == first
    assert frontier.root() == merkle.root(leaves[:first])
    kept = merkle.Frontier.from_data(frontier.to_data())
    assert kept == frontier
    kept.extend(leaves[first:])
    assert kept.root() == merkle.root(leaves)


def test_a_frontier_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="3 leaves holds 2 hashes, not 1"):
        merkle.Frontier.from_data({"size": 3, "hashes": ["00" * 32]})
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.Frontier.from_data({"size": 1, "hashes": ["00" * 31]})
    with pytest.raises(ValueError, match="whole number"):
        merkle.Frontier.from_data({"size": "1", "hashes": []})
