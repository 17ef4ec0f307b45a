"""ONNX export of a denoiser and an onnxruntime model with the networks' call ``model(noisy, sigma)``.

The exported graph takes ``noisy`` (B, C, H, W) and a per-pixel ``sigma`` map (B, 1, H, W), with dynamic
batch, height and width; padding, the encodings (fixed-weight convolutions) and the residual are inside
it. Its metadata records the channels, the padding multiple and the network's config, so the runtime
side needs nothing else.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

EXAMPLE_SHAPE = (2, 64, 96)  # batch 2: torch.export would treat a batch of 1 as a constant


class _MapInput(nn.Module):
    """The network with a per-pixel sigma map as its second input."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.model(noisy, sigma)


def export_onnx(model: nn.Module, path: str | os.PathLike) -> None:
    """Export ``model`` (a registered denoiser) to ONNX at ``path``, atomically."""
    import onnx

    path = Path(path)
    batch, height, width = EXAMPLE_SHAPE
    noisy = torch.rand(batch, model.channels, height, width)
    sigma = torch.full((batch, 1, height, width), 0.1)
    dims = {0: torch.export.Dim("batch"), 2: torch.export.Dim("height"), 3: torch.export.Dim("width")}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        torch.onnx.export(
            _MapInput(model).eval(), (noisy, sigma), temporary, dynamo=True, external_data=False,
            input_names=["noisy", "sigma"], output_names=["denoised"],
            dynamic_shapes={"noisy": dims, "sigma": dims}, verbose=False,
        )  # fmt: skip
        graph = onnx.load(temporary)
        metadata = {"channels": model.channels, "pad_multiple": model.pad_multiple,
                    "model_config": json.dumps(getattr(model, "model_config", {}))}  # fmt: skip
        for key, value in metadata.items():
            graph.metadata_props.add(key=key, value=str(value))
        onnx.save(graph, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


class OnnxModel:
    """An exported denoiser run by onnxruntime, callable like the torch networks: ``model(noisy, sigma)``.

    Attributes ``channels`` and ``pad_multiple`` come from the file's metadata (the tiler aligns to them).
    """

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.channels = int(metadata["channels"])
        self.pad_multiple = int(metadata["pad_multiple"])

    def __call__(self, noisy: torch.Tensor, sigma) -> torch.Tensor:
        batch, _, height, width = noisy.shape
        if isinstance(sigma, torch.Tensor) and sigma.ndim == 4:
            if sigma.shape[1] != 1:
                raise ValueError("the onnxruntime backend takes a one-channel sigma map")
            sigma_map = sigma.expand(batch, 1, height, width)
        else:
            values = torch.as_tensor(sigma, dtype=torch.float32).reshape(-1, 1, 1, 1)
            sigma_map = values.expand(batch, 1, height, width)
        feeds = {
            "noisy": noisy.detach().float().contiguous().cpu().numpy(),
            "sigma": sigma_map.detach().float().contiguous().cpu().numpy(),
        }
        return torch.from_numpy(self.session.run(None, feeds)[0])
