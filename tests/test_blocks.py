"""The conv blocks' in-place activation computes what the out-of-place reference does, forward and backward."""

import pytest
import torch
import torch.nn.functional as F

from denoise.models.blocks import NEGATIVE_SLOPE, ConvBlock, ResidualBlock


def _reference(block, x):
    """The block written with out-of-place LeakyReLU, from its own convolutions."""
    act = lambda t: F.leaky_relu(t, NEGATIVE_SLOPE)  # noqa: E731
    if isinstance(block, ResidualBlock):
        return x + block.conv2(act(block.conv1(x)))
    return act(block.conv2(act(block.conv1(x))))


@pytest.mark.parametrize("make", [lambda: ConvBlock(5, 7), lambda: ResidualBlock(6)], ids=["conv", "residual"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
def test_in_place_activation_matches_out_of_place_values_and_gradients(make, channels_last):
    torch.manual_seed(0)
    block = make()
    for conv in (block.conv1, block.conv2):  # ResidualBlock's conv2 starts at zero: give it weights to check
        torch.nn.init.normal_(conv.weight, std=0.3)
        torch.nn.init.normal_(conv.bias, std=0.3)
    x = torch.randn(2, block.conv1.in_channels, 9, 11)
    if channels_last:
        block, x = block.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    grads = []
    for forward in (block, lambda t: _reference(block, t)):
        block.zero_grad()
        inp = x.clone().requires_grad_(True)
        out = forward(inp)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads.append((out.detach(), inp.grad, *(p.grad.clone() for p in block.parameters())))
    assert (grads[0][0] < 0).any(), "the check needs negative activations, where the slope matters"
    for ours, reference in zip(grads[0], grads[1], strict=True):
        torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)


def test_in_place_activation_under_inference_mode_leaves_the_input_alone():
    block = ConvBlock(3, 4).eval()
    x = torch.randn(1, 3, 8, 8)
    kept = x.clone()
    with torch.inference_mode():
        out = block(x)
    assert torch.equal(x, kept)
    torch.testing.assert_close(out, _reference(block, x), rtol=0, atol=1e-6)
