"""Structured pruning: warm-start a narrower UNet from a trained wider one.

The inverse of :mod:`denoise.models.growth`. Each level of the narrow network keeps the wide network's most
salient channels, those whose producing filters and consuming weights are largest together, and copies their
weights. The result computes an approximation of the wide network's function (exactly it, where the channels
left out carry nothing) that training then recovers from, far sooner than from a random start.

Channel groups of a plain UNet body (``blocks_per_level`` 1, ``maxpool`` downsampling), level ``i`` of ``L + 1``:

- ``encoders[i].conv1`` out (inside the block) and ``encoders[i].conv2`` out (the skip; also the next level's
  input through the max-pool, or for the last level the input of ``ups[L - 1]``);
- ``ups[i]`` out (the first half of ``decoders[i].conv1``'s input);
- ``decoders[i].conv1`` out (inside) and ``decoders[i].conv2`` out (the input of ``ups[i - 1]``, or for level 0
  the refine blocks' and the head's);
- each refine block's ``conv1`` out (inside the block).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn


class PruningError(ValueError):
    """The target network is not a narrower copy of the source network."""


PRUNABLE = {"name": "unet", "blocks_per_level": 1, "downsample": "maxpool"}  # the designs pruning knows
NARROWED = ("widths",)  # the only setting the target may change


@dataclass
class _Use:
    """One weight that reads or writes a channel group: its state-dict prefix, the tensor axis the group is on,
    and the offset of the group along that axis (a concatenated input holds two groups)."""

    prefix: str
    axis: int
    offset: int = 0


@dataclass
class _Group:
    """A set of channels that must be kept or dropped together."""

    width: int  # in the wide network
    narrow: int  # in the narrow one
    producers: list[_Use] = field(default_factory=list)  # weights (and biases) computing the channels
    consumers: list[_Use] = field(default_factory=list)  # weights reading them


def narrower(target: dict, source: dict) -> bool:
    """Whether ``target`` (a ``model_config``) is ``source`` with every level at most as wide, and not the same."""
    settings = {key for key in set(target) | set(source) if key not in NARROWED}
    if any(target.get(key) != source.get(key) for key in settings):
        return False
    wide, narrow = tuple(source.get("widths", ())), tuple(target.get("widths", ()))
    return len(wide) == len(narrow) and wide != narrow and all(n <= w for n, w in zip(narrow, wide, strict=True))


def _groups(wide: Sequence[int], narrow: Sequence[int], refine_blocks: int) -> list[_Group]:
    """The channel groups of a UNet body of ``len(wide)`` levels, with their producers and consumers."""
    last = len(wide) - 1
    groups: list[_Group] = []
    outputs: dict[str, _Group] = {}  # the group each level's encoder and decoder writes

    def group(wide_width: int, narrow_width: int) -> _Group:
        groups.append(_Group(wide_width, narrow_width))
        return groups[-1]

    for level in range(last + 1):
        inner = group(wide[level], narrow[level])
        inner.producers.append(_Use(f"body.encoders.{level}.conv1", 0))
        inner.consumers.append(_Use(f"body.encoders.{level}.conv2", 1))
        out = group(wide[level], narrow[level])
        out.producers.append(_Use(f"body.encoders.{level}.conv2", 0))
        if level < last:
            out.consumers.append(_Use(f"body.encoders.{level + 1}.conv1", 1))
            out.consumers.append(_Use(f"body.decoders.{level}.conv1", 1, offset=wide[level]))
        outputs[f"encoder{level}"] = out
    for level in reversed(range(last)):
        below = outputs["encoder" + str(last)] if level + 1 == last else outputs[f"decoder{level + 1}"]
        below.consumers.append(_Use(f"body.ups.{level}", 0))  # ConvTranspose2d weight: (in, out, k, k)
        up = group(wide[level], narrow[level])
        up.producers.append(_Use(f"body.ups.{level}", 1))
        up.consumers.append(_Use(f"body.decoders.{level}.conv1", 1))
        inner = group(wide[level], narrow[level])
        inner.producers.append(_Use(f"body.decoders.{level}.conv1", 0))
        inner.consumers.append(_Use(f"body.decoders.{level}.conv2", 1))
        out = group(wide[level], narrow[level])
        out.producers.append(_Use(f"body.decoders.{level}.conv2", 0))
        outputs[f"decoder{level}"] = out
    top = outputs["decoder0"] if last else outputs["encoder0"]
    for block in range(refine_blocks):  # x + conv2(act(conv1(x))): both read and write the top group
        top.consumers.append(_Use(f"body.refine.{block}.conv1", 1))
        top.producers.append(_Use(f"body.refine.{block}.conv2", 0))
        inner = group(wide[0], narrow[0])
        inner.producers.append(_Use(f"body.refine.{block}.conv1", 0))
        inner.consumers.append(_Use(f"body.refine.{block}.conv2", 1))
    top.consumers.append(_Use("body.head", 1))
    return groups


def _slice(tensor: torch.Tensor, use: _Use, width: int) -> torch.Tensor:
    """The part of ``tensor`` along ``use.axis`` that holds the group (``width`` channels from ``use.offset``)."""
    return tensor.narrow(use.axis, use.offset, width)


def _saliency(group: _Group, weights: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per channel, the norm of what produces it (weights and bias) times the norm of the weights that read it.

    Shape: (group.width,), float64.
    """

    def norms(uses: list[_Use], with_bias: bool) -> torch.Tensor:
        total = torch.zeros(group.width, dtype=torch.float64)
        for use in uses:
            part = _slice(weights[use.prefix + ".weight"], use, group.width).double()
            total += part.movedim(use.axis, 0).reshape(group.width, -1).square().sum(dim=1)
            if with_bias and (bias := weights.get(use.prefix + ".bias")) is not None:
                total += bias.narrow(0, use.offset, group.width).double().square()
        return total.sqrt()

    return norms(group.producers, with_bias=True) * norms(group.consumers, with_bias=False)


Segment = tuple[int, int, torch.Tensor]  # (offset, width, kept indices) of one group along a weight's axis


def _selection(groups: list[_Group], kept: list[torch.Tensor]) -> dict[tuple[str, int], list[Segment]]:
    """Per (weight prefix, axis), the segments (offset, width, kept indices) that the groups narrow there."""
    segments: dict[tuple[str, int], list[Segment]] = {}
    for group, keep in zip(groups, kept, strict=True):
        for use in group.producers + group.consumers:
            segments.setdefault((use.prefix, use.axis), []).append((use.offset, group.width, keep))
    return segments


def _narrow(tensor: torch.Tensor, axis: int, segments: list[Segment]) -> torch.Tensor:
    """``tensor`` with each segment along ``axis`` cut to its kept indices; the rest of the axis kept whole."""
    index, start = [], 0
    for offset, width, keep in sorted(segments, key=lambda segment: segment[0]):
        index += [torch.arange(start, offset), keep + offset]
        start = offset + width
    index.append(torch.arange(start, tensor.shape[axis]))
    return tensor.index_select(axis, torch.cat(index))


@torch.no_grad()
def prune_into(target: nn.Module, source: nn.Module) -> dict[str, list[int]]:
    """Copy ``source``'s most salient channels into ``target``, the same UNet with narrower levels.

    Both are :class:`~denoise.models.zoo.UNetDenoiser` networks (``blocks_per_level`` 1, ``maxpool``) whose
    ``model_config`` differ only in ``widths``, each ``target`` width at most ``source``'s. Weights outside
    the UNet body's levels (the encoding, the head's output) are copied whole.

    Returns:
        per group, named by its first producer, the indices of ``source``'s channels kept (ascending).

    Raises:
        PruningError: the networks differ in more than their widths, or in a design pruning does not know.
    """
    wide_config, narrow_config = source.model_config, target.model_config
    if not narrower(narrow_config, wide_config):
        raise PruningError(
            f"the new network ({narrow_config}) is not the old one ({wide_config}) with narrower levels; "
            "only widths may shrink"
        )
    unknown = {key: wide_config.get(key) for key, value in PRUNABLE.items() if wide_config.get(key) != value}
    if unknown:
        raise PruningError(f"pruning knows plain UNets with {PRUNABLE}; this one has {unknown}")
    weights = {name: tensor.detach().cpu() for name, tensor in source.state_dict().items()}
    groups = _groups(wide_config["widths"], narrow_config["widths"], int(wide_config.get("refine_blocks", 0)))
    kept = [
        torch.sort(torch.argsort(_saliency(group, weights), descending=True, stable=True)[: group.narrow]).values
        for group in groups
    ]
    pruned = dict(weights)
    for (prefix, axis), segments in _selection(groups, kept).items():
        pruned[prefix + ".weight"] = _narrow(pruned[prefix + ".weight"], axis, segments)
        output_axis = 1 if prefix.startswith("body.ups.") else 0  # ConvTranspose2d: (in, out, k, k)
        if axis == output_axis and prefix + ".bias" in pruned:
            pruned[prefix + ".bias"] = _narrow(pruned[prefix + ".bias"], 0, segments)
    have = target.state_dict()
    wrong = sorted(name for name in have if name not in pruned or pruned[name].shape != have[name].shape)
    if wrong:
        raise PruningError(f"pruning left {len(wrong)} weight(s) in the wrong shape, e.g. {wrong[0]}")
    target.load_state_dict({name: pruned[name].to(have[name]) for name in have})
    names = (f"{group.producers[0].prefix}:{group.producers[0].axis}" for group in groups)
    return {name: keep.tolist() for name, keep in zip(names, kept, strict=True)}
