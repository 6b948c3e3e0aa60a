"""The recall index's signatures as arrays, and the side file that holds them: what a look-up needs, read in one call.

recall-index.json holds every entry whole (program, parameters, residuals). A look-up compares only
fixed-length parts of each: per view the pHash bits and hue histogram of its references and best
renders, its task text's words, its score. Those are kept as arrays beside the index in
recall-index.npz, written (temp name + rename) whenever the index is, with each entry's byte range
in the index, so the one entry a look-up returns is parsed alone. A fresh process so reads one
small file instead of parsing and validating the whole index.

The side file names the index it was made from (a token written at the head of the index, and the
index's size): one that is missing, unreadable, of another version or made from another index is
not used (load_side returns None), and the store makes it again from the index.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from harness.image_signature import HUE_BINS, ImageSignature

__all__ = ["SignatureMatrix", "encode_index", "index_token", "words", "SIDE_VERSION"]

SIDE_VERSION = 1
KINDS = ("reference_signatures", "render_signatures")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of with and or on in to is it its at by for from as that this".split())
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_TOKEN = re.compile(rb'^\{"version": \d+, "token": "([0-9a-f]{32})"')


def words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1)


def encode_index(version: int, raw: list[dict[str, Any]]) -> tuple[bytes, str, np.ndarray]:
    """The index file's bytes (valid JSON, one entry a line), its new token, and each entry's byte range in it."""
    token = uuid.uuid4().hex
    head = f'{{"version": {version}, "token": "{token}", "entries": [\n'.encode("ascii")
    parts = [json.dumps(r).encode("ascii") for r in raw]  # ensure_ascii: one character, one byte
    offsets = np.zeros((len(parts), 2), dtype=np.int64)
    position = len(head)
    for i, part in enumerate(parts):
        offsets[i] = (position, position + len(part))
        position += len(part) + 2  # the ",\n" between entries
    return head + b",\n".join(parts) + b"\n]}\n", token, offsets


def index_token(path: Path) -> str | None:
    """The token at the head of an index file; None for an index written otherwise (or unreadable)."""
    try:
        with path.open("rb") as f:
            found = _TOKEN.match(f.read(80))
    except OSError:
        return None
    return found.group(1).decode("ascii") if found else None


class SignatureMatrix:
    """One row per index entry: its signatures per view, its words, its score, where it sits in the index."""

    def __init__(self, run_ids: list[str], scores: np.ndarray, has_code: np.ndarray, vocabulary: list[str],
                 word_matrix: np.ndarray, views: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                 offsets: np.ndarray) -> None:
        n = len(run_ids)
        if (scores.shape != (n,) or has_code.shape != (n,) or word_matrix.shape != (n, len(vocabulary))
                or offsets.shape != (n, 2)):
            raise ValueError("signature arrays of unequal lengths")
        for key, (present, hashes, colours) in views.items():
            if (present.shape != (n,) or hashes.shape != (n, 8) or hashes.dtype != np.uint8
                    or colours.shape != (n, HUE_BINS + 1)):
                raise ValueError(f"{key}: signature arrays of another shape")
        self.run_ids, self.scores, self.has_code, self.offsets = run_ids, scores, has_code, offsets
        self.vocabulary = {w: i for i, w in enumerate(vocabulary)}
        self.word_matrix = word_matrix.astype(np.float32)
        self.word_counts = self.word_matrix.sum(axis=1)
        self.views = views

    @classmethod
    def from_entries(cls, raw: list[dict[str, Any]], offsets: np.ndarray) -> SignatureMatrix:
        """From the index's entries as JSON values (validated only when one is asked for)."""
        texts = [words(str(r["task_text"])) for r in raw]
        vocabulary = sorted(set().union(*texts))
        index = {w: i for i, w in enumerate(vocabulary)}
        word_matrix = np.zeros((len(raw), len(vocabulary)), dtype=bool)
        for row, ws in enumerate(texts):
            word_matrix[row, [index[w] for w in ws]] = True
        scores = np.array([np.nan if r.get("score") is None else float(r["score"]) for r in raw], dtype=np.float32)
        views: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for kind in KINDS:
            for view in sorted({v for r in raw for v in r.get(kind) or {}}):
                sigs = [(r.get(kind) or {}).get(view) for r in raw]
                present = np.array([s is not None for s in sigs], bool)
                hashes = np.array([int(s["phash"], 16) if s else 0 for s in sigs], dtype=np.uint64)
                colours = np.array([s["colour"] if s else [0.0] * (HUE_BINS + 1) for s in sigs], dtype=np.float32)
                if colours.shape != (len(raw), HUE_BINS + 1):
                    raise ValueError(f"{kind}.{view}: colour histograms of another length")
                views[f"{kind}:{view}"] = (present, hashes.view(np.uint8).reshape(-1, 8), colours)
        return cls([str(r["run_id"]) for r in raw], scores, np.array([bool(r.get("code")) for r in raw], bool),
                   vocabulary, word_matrix, views, offsets)

    def __len__(self) -> int:
        return len(self.run_ids)

    def eligible(self, min_score: float) -> np.ndarray:
        """Rows that may be recalled: a program, and a best score of at least `min_score`."""
        return self.has_code & ~np.isnan(self.scores) & (np.nan_to_num(self.scores, nan=-1.0) >= min_score)

    def visual(self, query: dict[str, ImageSignature]) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the mean over shared views of the best match (its references or its best renders),
        and how many views were shared."""
        total = np.zeros(len(self), dtype=np.float32)
        count = np.zeros(len(self), dtype=np.int32)
        for view, sig in query.items():
            best = np.full(len(self), -1.0, dtype=np.float32)
            q_hash = np.array([int(sig.phash, 16)], dtype=np.uint64).view(np.uint8)
            q_colour = np.array(sig.colour, dtype=np.float32)
            for kind in KINDS:
                if f"{kind}:{view}" not in self.views:
                    continue
                present, hashes, colours = self.views[f"{kind}:{view}"]
                bits = _POPCOUNT[hashes ^ q_hash].sum(axis=1)
                shape = np.clip(1.0 - bits / 32.0, 0.0, 1.0)
                colour = np.minimum(colours, q_colour).sum(axis=1)
                best = np.where(present, np.maximum(best, 0.5 * shape + 0.5 * colour), best)
            seen = best >= 0
            total += np.where(seen, best, 0.0)
            count += seen
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), count

    def text(self, query: frozenset[str]) -> np.ndarray:
        """Per entry, the Jaccard overlap of its task text's words with `query`."""
        known = [self.vocabulary[w] for w in query if w in self.vocabulary]
        shared = self.word_matrix[:, known].sum(axis=1)
        union = self.word_counts + len(query) - shared
        return np.where(union > 0, shared / np.maximum(union, 1), 0.0)

    def side_bytes(self, token: str, index_size: int) -> bytes:
        """The side file (an uncompressed .npz): the arrays, and a JSON header naming the index they came from."""
        header = {"version": SIDE_VERSION, "token": token, "index_size": index_size, "run_ids": self.run_ids,
                  "vocabulary": sorted(self.vocabulary, key=self.vocabulary.__getitem__), "views": sorted(self.views)}
        arrays = {"header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
                  "scores": self.scores, "has_code": self.has_code, "offsets": self.offsets,
                  "words": self.word_matrix.astype(bool)}
        keys, n = sorted(self.views), len(self)  # one array per part, every view stacked: few members to read
        for part, (name, shape, dtype) in enumerate((("present", (n,), bool), ("hashes", (n, 8), np.uint8),
                                                     ("colours", (n, HUE_BINS + 1), np.float32))):
            arrays[name] = np.stack([self.views[k][part] for k in keys]) if keys else np.zeros((0, *shape), dtype)
        out = io.BytesIO()
        np.savez(out, **arrays)
        return out.getvalue()

    @classmethod
    def load_side(cls, path: Path, token: str | None, index_size: int) -> SignatureMatrix | None:
        """The side file's matrix when it was made from this index (its token and size); None otherwise."""
        try:
            with np.load(path, allow_pickle=False) as side:
                header = json.loads(side["header"].tobytes())
                if (header.get("version") != SIDE_VERSION or token is None or header.get("token") != token
                        or header.get("index_size") != index_size):
                    return None
                present, hashes, colours = side["present"], side["hashes"], side["colours"]
                if not len(present) == len(hashes) == len(colours) == len(header["views"]):
                    return None
                views = {key: (present[i], hashes[i], colours[i]) for i, key in enumerate(header["views"])}
                return cls(list(header["run_ids"]), side["scores"], side["has_code"], list(header["vocabulary"]),
                           side["words"], views, side["offsets"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
            return None
