"""Data splits defined by seeds: the same split index gives the same sample on every machine.

A sample (or clip) is a pure function of one integer seed (``humanvid.synth.dataset``),
so a split is just a block of seeds. Each (split, kind) pair owns a block of its own,
and the blocks never overlap, so no test person can ever appear in training:

    ===========  ==========================  ==========================
    split        still samples (index i)     animated clips (index i)
    ===========  ==========================  ==========================
    test         10_000_000 + i              15_000_000 + i
    val          20_000_000 + i              25_000_000 + i
    loose-test   30_000_000 + i              35_000_000 + i
    loose-val    40_000_000 + i              45_000_000 + i
    turn-test    –                           50_000_000 + i
    turn-val     –                           55_000_000 + i
    train        100_000_000 + i             500_000_000 + i
    loose-train  900_000_000 + i             1_300_000_000 + i
    ===========  ==========================  ==========================

with ``0 <= i < capacity`` (5 million for test and val splits, 400 million for
training). Seeds below 10 million are left to unit tests and experiments. Sample
``i`` of a split is written to the folder ``NNNNNN`` = ``i`` zero-padded to six
digits (more digits past 999,999), whatever the seed.

A split belongs to a family, which decides what its seeds draw
(``humanvid.synth.person.make_person`` reads it from the seed with :func:`family_of_seed`):
``standard`` (train / val / test: everyday, mostly close-fitting clothes, random motions),
``loose`` (the same people and motions in clothes that drape away from the body:
``humanvid.synth.loose``) and ``turn`` (clips only: people turning on the spot, walking a
circle or on a turntable, and people who do not turn: ``humanvid.synth.turns``).
Seeds outside every block (unit tests) belong to the standard family.
"""

from __future__ import annotations

from dataclasses import dataclass

SPLITS = ("train", "val", "test", "loose-train", "loose-val", "loose-test", "turn-val", "turn-test")
KINDS = ("samples", "clips")
FAMILIES = ("standard", "loose", "turn")


@dataclass(frozen=True)
class SeedBlock:
    """Seeds ``first`` … ``first + capacity − 1`` of one split and kind."""

    split: str
    kind: str
    first: int
    capacity: int

    @property
    def family(self) -> str:
        """"standard", "loose" or "turn": the part of the split's name before a dash."""
        return self.split.split("-")[0] if "-" in self.split else "standard"

    @property
    def end(self) -> int:
        """One past the last seed."""
        return self.first + self.capacity

    def seed(self, index: int) -> int:
        if not 0 <= index < self.capacity:
            raise ValueError(f"{self.split} {self.kind}: index {index} outside 0 … {self.capacity - 1}")
        return self.first + index

    def index(self, seed: int) -> int:
        if not self.first <= seed < self.end:
            raise ValueError(f"seed {seed} is not in the {self.split} {self.kind} block")
        return seed - self.first


BLOCKS = (
    SeedBlock("test", "samples", 10_000_000, 5_000_000),
    SeedBlock("test", "clips", 15_000_000, 5_000_000),
    SeedBlock("val", "samples", 20_000_000, 5_000_000),
    SeedBlock("val", "clips", 25_000_000, 5_000_000),
    SeedBlock("train", "samples", 100_000_000, 400_000_000),
    SeedBlock("train", "clips", 500_000_000, 400_000_000),
    SeedBlock("loose-test", "samples", 30_000_000, 5_000_000),
    SeedBlock("loose-test", "clips", 35_000_000, 5_000_000),
    SeedBlock("loose-val", "samples", 40_000_000, 5_000_000),
    SeedBlock("loose-val", "clips", 45_000_000, 5_000_000),
    SeedBlock("turn-test", "clips", 50_000_000, 5_000_000),
    SeedBlock("turn-val", "clips", 55_000_000, 5_000_000),
    SeedBlock("loose-train", "samples", 900_000_000, 400_000_000),
    SeedBlock("loose-train", "clips", 1_300_000_000, 400_000_000),
)


def seed_block(split: str, clips: bool = False) -> SeedBlock:
    """The block of seeds of ``split`` (one of :data:`SPLITS`), for stills or for clips."""
    kind = "clips" if clips else "samples"
    for block in BLOCKS:
        if block.split == split and block.kind == kind:
            return block
    if split in SPLITS:
        raise ValueError(f"the {split} split has no {kind}; it has only "
                         f"{', '.join(b.kind for b in BLOCKS if b.split == split)}")
    raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")


def split_seeds(split: str, count: int, start: int = 0, clips: bool = False) -> list[int]:
    """Seeds of samples ``start`` … ``start + count − 1`` of ``split``."""
    block = seed_block(split, clips)
    if count < 0 or start < 0 or start + count > block.capacity:
        raise ValueError(f"{split} {block.kind}: indices {start} … {start + count - 1} "
                         f"outside 0 … {block.capacity - 1}")
    return [block.first + index for index in range(start, start + count)]


def split_of_seed(seed: int) -> SeedBlock | None:
    """The block a seed belongs to, or None for seeds outside every split."""
    for block in BLOCKS:
        if block.first <= seed < block.end:
            return block
    return None


def family_of_seed(seed: int) -> str:
    """The family of the split a seed belongs to; "standard" for seeds outside every split."""
    block = split_of_seed(seed)
    return "standard" if block is None else block.family


def folder_name(index: int) -> str:
    """The folder of sample ``index`` within its split: six digits, zero-padded."""
    return f"{index:06d}"
