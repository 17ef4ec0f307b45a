"""Self-contained inference checkpoints: the network's registry name and arguments beside its weights.

File layout (``torch.save`` of a dict, loadable with ``weights_only=True``)::

    {"format": "denoise-checkpoint/1", "model_config": {"name": ..., **kwargs},
     "state_dict": {...}, "metadata": {...}}

so ``load_checkpoint(path)`` rebuilds the network with ``create_model(**model_config)`` and needs no YAML.
Lightning training checkpoints (``.ckpt`` from ``python -m denoise.train``) load too: their hyper-parameters
hold the same ``model_config`` and their state dict the network under ``net.``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from denoise.models import create_model
from denoise.models.registry import PRETRAINED
from denoise.utils.files import atomic_write_bytes

FORMAT = "denoise-checkpoint/1"
# Shipped default checkpoints, by image channels (trained with `make train`; see checkpoints/README.md).
DEFAULT_CHECKPOINTS = {entry.channels: entry.file for entry in PRETRAINED.values() if not entry.blind}
# The shipped blind models, by channels: used when no noise level is given.
BLIND_CHECKPOINTS = {entry.channels: entry.file for entry in PRETRAINED.values() if entry.blind}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what to do."""


def checkpoint_dir() -> Path:
    """Folder of the shipped checkpoints: ``$DENOISE_CHECKPOINTS`` or ``checkpoints/`` of the source tree."""
    return Path(os.environ.get("DENOISE_CHECKPOINTS", Path(__file__).resolve().parents[1] / "checkpoints"))


def default_checkpoints() -> dict[int, Path]:
    """The shipped checkpoints that exist, by channels; raises CheckpointError when none does."""
    found = {channels: checkpoint_dir() / name for channels, name in DEFAULT_CHECKPOINTS.items()}
    found = {channels: path for channels, path in found.items() if path.is_file()}
    if not found:
        raise CheckpointError(
            f"no trained checkpoint ships in {checkpoint_dir()} yet: pass --checkpoint FILE (a model trained with "
            "`make train`) or use --method bilateral"
        )
    return found


def load_pretrained(name: str, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """The shipped network ``name`` (see ``PRETRAINED``) with its weights, and its metadata."""
    entry = PRETRAINED.get(name)
    path = checkpoint_dir() / entry.file
    if not path.is_file():
        raise CheckpointError(f"{name}: {path} is missing; restore checkpoints/ from the repository")
    model, metadata = load_checkpoint(path, device)
    if model.model_config.get("name") != entry.model:
        raise CheckpointError(f"{path} holds a {model.model_config.get('name')} network, not {entry.model}")
    return model, metadata


def default_blind_checkpoints() -> dict[int, Path]:
    """The shipped blind checkpoints that exist, by channels (possibly none)."""
    found = {channels: checkpoint_dir() / name for channels, name in BLIND_CHECKPOINTS.items()}
    return {channels: path for channels, path in found.items() if path.is_file()}


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **metadata: Any) -> None:
    """Write ``model`` (built by ``create_model``) and ``metadata`` atomically to ``path``."""
    config = getattr(model, "model_config", None)
    if config is None:
        raise ValueError("only models built with denoise.models.create_model can be saved (no model_config)")
    buffer = io.BytesIO()
    payload = {"format": FORMAT, "model_config": config, "state_dict": model.state_dict(), "metadata": metadata}
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _from_lightning(payload: dict) -> dict:
    """A Lightning training checkpoint as an inference checkpoint payload."""
    prefix = "net."
    state = {key[len(prefix) :]: value for key, value in payload["state_dict"].items() if key.startswith(prefix)}
    hyper = {key: value for key, value in payload["hyper_parameters"].items() if not key.startswith("_")}
    metadata = {"global_step": payload.get("global_step"), "epoch": payload.get("epoch"), **hyper}
    record = dict(payload.get("training_record", {}))  # train_seconds and machines, when recorded
    if metadata["global_step"] is not None:  # steps before a warm start count too
        metadata["global_step"] += int(record.pop("step_offset", 0))
    metadata.update(record)
    data = {key: value for key, value in payload.get("datamodule_hyper_parameters", {}).items() if key[0] != "_"}
    if data:
        metadata["data"] = data  # training sets, patches, validation set
    # saved beside the hyperparameters; older training checkpoints kept it among them
    config = payload["model_config"] if "model_config" in payload else metadata.pop("model_config")
    return {"format": FORMAT, "model_config": config, "state_dict": state, "metadata": metadata}


def _is_lightning(payload: object) -> bool:
    """Whether ``payload`` is a Lightning training checkpoint of ``DenoiseLitModule`` (``last.ckpt``)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hyper_parameters"), dict):
        return False
    return "model_config" in payload or "model_config" in payload["hyper_parameters"]


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild the network saved at ``path`` in eval mode on ``device``; returns (model, metadata)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; check the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for damaged or foreign files
        raise CheckpointError(f"checkpoint {path} is corrupt or not a torch file ({type(error).__name__})") from None
    if _is_lightning(payload):
        payload = _from_lightning(payload)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a denoise checkpoint ({FORMAT}); export one with denoise's tools")
    try:
        model = create_model(**payload["model_config"])
        model.load_state_dict(payload["state_dict"])
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"checkpoint {path} does not match its network: {error}") from None
    return model.to(device).eval(), dict(payload.get("metadata", {}))
