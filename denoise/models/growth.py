"""Function-preserving growth: warm-start a larger network from a trained one that it extends."""

from __future__ import annotations

import torch
from torch import nn


class GrowthError(ValueError):
    """The target network does not extend the source network."""


@torch.no_grad()
def grow_from(target: nn.Module, source: nn.Module, atol: float = 1e-5) -> list[str]:
    """Copy every weight of ``source`` into ``target``, which may hold more blocks that start as the identity.

    Both are denoisers ``net(noisy, sigma)`` with a ``channels`` attribute. ``target`` keeps its own
    initialisation for the weights ``source`` lacks; afterwards it must compute ``source``'s function,
    which is checked on a seeded random image (the global random state is not touched).

    Returns:
        the names of ``target``'s weights left at their initialisation (the added blocks).

    Raises:
        GrowthError: ``target`` lacks some of ``source``'s weights, holds them in other shapes, or computes
            another function after the copy (e.g. an added block that does not start as the identity).
    """
    wanted, have = source.state_dict(), target.state_dict()
    absent = sorted(set(wanted) - set(have))
    reshaped = sorted(name for name in set(wanted) & set(have) if wanted[name].shape != have[name].shape)
    if absent or reshaped:
        example = (absent or reshaped)[0]
        raise GrowthError(
            f"the new network {'lacks' if absent else 'reshapes'} {len(absent or reshaped)} weight(s) of the old "
            f"one (e.g. {example}): it can only add blocks that start as the identity"
        )
    target.load_state_dict(wanted, strict=False)
    generator = torch.Generator().manual_seed(0)
    device = next(target.parameters()).device
    noisy = torch.rand(2, source.channels, 64, 64, generator=generator).to(device)
    was_training = target.training, source.training
    target.eval(), source.eval()
    try:
        gap = (target(noisy, 25 / 255) - source.to(device)(noisy, 25 / 255)).abs().max().item()
    finally:
        target.train(was_training[0]), source.train(was_training[1])
    if not gap <= atol:
        raise GrowthError(
            f"after copying the old weights the new network's output differs by up to {gap:.2e}: "
            "its added blocks do not start as the identity"
        )
    return sorted(set(have) - set(wanted))
