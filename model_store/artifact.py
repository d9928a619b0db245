"""The on-disk model format: one directory per model holding three files.

- ``weights.npz``: arrays named by :func:`config.weight_names`, stored as float16 (half the
  size; no optimizer state) and computed with as float32. Training rounds its final weights
  to float16 before measuring the held-out loss, so the card's figure is the stored model's.
- ``charset.json``: the ordered character list
- ``card.json``: the model card (name, base, corpus stats, hyperparameters, held-out loss,
  training time, library versions, created-at) and SHA-256 checksums of the other two files

Directories are written by :mod:`model_store.store`, which stages them and renames them into
place, so a half-written model is never visible. Loading checks everything and names the model
in any error.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .charset import Charset
from .config import NetworkConfig, weight_names, weight_shapes
from .errors import ArtifactError

FORMAT_VERSION = 1
STORAGE_DTYPE = np.float16
WEIGHTS_FILE = "weights.npz"
CHARSET_FILE = "charset.json"
CARD_FILE = "card.json"


@dataclass
class ModelArtifact:
    name: str
    config: NetworkConfig
    charset: Charset
    weights: dict[str, np.ndarray]
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def heldout_loss(self) -> float | None:
        return self.card.get("heldout_loss_nats")


def storage_rounded(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The weights as they will be after a save and load (float16 precision, float32 type)."""
    return {k: np.asarray(v).astype(STORAGE_DTYPE).astype(np.float32) for k, v in weights.items()}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_artifact(directory: Path, artifact: ModelArtifact) -> None:
    """Write the three files into ``directory`` (which should be a staging directory)."""
    directory.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    names = weight_names(artifact.config)
    arrays = {n: np.asarray(artifact.weights[n], dtype=STORAGE_DTYPE) for n in names}
    np.savez(buf, **arrays)
    weights_bytes = buf.getvalue()
    charset_bytes = artifact.charset.to_json().encode()
    card = dict(artifact.card)
    card.update(
        format_version=FORMAT_VERSION,
        name=artifact.name,
        network=artifact.config.to_dict(),
        checksums={WEIGHTS_FILE: _sha256(weights_bytes), CHARSET_FILE: _sha256(charset_bytes)},
    )
    artifact.card = card
    for fname, data in (
        (WEIGHTS_FILE, weights_bytes),
        (CHARSET_FILE, charset_bytes),
        (CARD_FILE, json.dumps(card, indent=2, ensure_ascii=False).encode()),
    ):
        with open(directory / fname, "wb") as fh:
            fh.write(data)
            fh.flush()


def read_card(directory: Path, name: str | None = None) -> dict[str, Any]:
    """Read and check just the model card (cheap: for listings)."""
    label = name or directory.name
    try:
        data = (directory / CARD_FILE).read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"model '{label}' is incomplete: {CARD_FILE} is missing") from None
    return _card(data, label)


def _card(data: bytes, label: str) -> dict[str, Any]:
    try:
        card = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ArtifactError(
            f"model '{label}' is corrupted: {CARD_FILE} is not valid JSON"
        ) from None
    if not isinstance(card, dict) or card.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"model '{label}' has an unknown format version")
    return card


def load_artifact(directory: Path, name: str | None = None) -> ModelArtifact:
    """Load and validate a model directory, raising :class:`ArtifactError` naming the model."""
    directory = Path(directory)
    label = name or directory.name
    files: dict[str, bytes] = {}
    for fname in (CARD_FILE, WEIGHTS_FILE, CHARSET_FILE):
        try:
            files[fname] = (directory / fname).read_bytes()
        except FileNotFoundError:
            raise ArtifactError(f"model '{label}' is incomplete: {fname} is missing") from None
    return decode_artifact(files, label)


def decode_artifact(files: Mapping[str, bytes], label: str) -> ModelArtifact:
    """Check and decode a model's files held in memory (card, weights, charset), e.g. a
    trained result fetched from the job queue, raising :class:`ArtifactError`."""
    for fname in (CARD_FILE, WEIGHTS_FILE, CHARSET_FILE):
        if fname not in files:
            raise ArtifactError(f"model '{label}' is incomplete: {fname} is missing")
    card = _card(files[CARD_FILE], label)
    checksums = card.get("checksums", {})
    for fname in (WEIGHTS_FILE, CHARSET_FILE):
        if _sha256(files[fname]) != checksums.get(fname):
            raise ArtifactError(
                f"model '{label}' is corrupted: {fname} does not match its checksum"
            )
    try:
        config = NetworkConfig.from_dict(card["network"])
        charset = Charset.from_json(files[CHARSET_FILE].decode("utf-8"))
        with np.load(io.BytesIO(files[WEIGHTS_FILE]), allow_pickle=False) as npz:
            weights = {k: npz[k].astype(np.float32) for k in npz.files}
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise ArtifactError(f"model '{label}' is corrupted: {exc}") from None
    if len(charset) != config.vocab_size:
        raise ArtifactError(f"model '{label}' is corrupted: charset size != vocab size")
    for wname, shape in weight_shapes(config).items():
        got = weights.get(wname)
        if got is None or got.shape != shape:
            raise ArtifactError(f"model '{label}' is corrupted: weight '{wname}' has wrong shape")
    return ModelArtifact(card.get("name", label), config, charset, weights, card)
