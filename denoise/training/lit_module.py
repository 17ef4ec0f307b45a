"""``DenoiseLitModule``: the training logic around any denoising network (which knows nothing of it)."""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch import nn

from denoise.checkpoint import load_checkpoint
from denoise.data.camera_noise import RECIPE as CAMERA_NOISE_RECIPE
from denoise.data.camera_noise import seeded_camera_noise
from denoise.data.noise import TRAINING_NOISES
from denoise.data.raw_synthesis import rendered8, seeded_synthetic_raw
from denoise.data.validation import even_crop, to_batch
from denoise.io import ImageData, write_image
from denoise.metrics import psnr, raw_psnr, ssim, to_uint8
from denoise.models.growth import GrowthError, grow_from
from denoise.models.init import same_network
from denoise.models.pruning import PruningError, narrower, prune_into
from denoise.protocol import image_seed
from denoise.sigma import EIGHT_BIT
from denoise.training.losses import get_loss
from denoise.utils.machine import machine_description, ran_on_gpu


class NonFiniteLossError(RuntimeError):
    """Training produced non-finite losses several steps in a row."""


class WarmStartError(ValueError):
    """``init_from`` holds a network this run's cannot start from (see :meth:`DenoiseLitModule.setup`)."""


RAW_VALIDATION_ISOS = (1600, 6400, 25600)  # the raw model's validation levels (val/raw_psnr_isoN)


class DenoiseLitModule(L.LightningModule):
    """Train ``net`` to map noisy patches to clean ones.

    Per patch a sigma is drawn uniformly from [sigma_min_255, sigma_max_255] / 255 and Gaussian noise synthesised
    on the fly; the loss compares the denoised output with the clean patch. AdamW with linear warm-up then
    cosine decay to ``lr * final_lr_ratio`` over the run (constant when
    the run has no step limit). Validation scores whole images at each validation sigma with
    :mod:`denoise.metrics`, on the protocol's seeded noise, so the numbers equal the leaderboard's.

    Args:
        net: a denoiser ``net(noisy, sigma) -> denoised`` built by the model registry.
        sigma_min_255, sigma_max_255: training noise range in 8-bit units, as a config states it (the names say
            so); divided by 255 here, once, to the [0, 1] scale that everything below takes.
        loss: ``l1``, ``l2``, ``charbonnier`` or ``log_mse`` (:mod:`denoise.training.losses`).
        rendered_loss_weight: for raw, also compare output and target after the fixed simple rendering to sRGB
            (white balance, colour matrix, gamma, tone curve), with this weight, as Brooks et al. (2019) train:
            the gamma weighs the dark areas, where a linear loss hardly looks and the rendered photo shows the
            noise most. 0 compares in linear raw only.
        noise: ``gaussian`` (white, of a sigma the network is given) or ``camera`` (realistic camera noise,
            :mod:`denoise.data.camera_noise`, for a blind network such as ``blind_unet``) or ``raw``
            (synthetic Bayer raw, :mod:`denoise.data.raw_synthesis`: a 4-channel network maps noisy RGGB
            planes and their per-pixel noise map to the clean planes; validated in linear raw at
            :data:`RAW_VALIDATION_ISOS`).
        lr, weight_decay, warmup_steps, final_lr_ratio: optimiser and schedule.
        max_nonfinite_steps: consecutive non-finite losses tolerated (each step is skipped) before stopping.
        samples_dir: where validation sample triplets (noisy | denoised | clean) are written as PNG.
        init_from: warm start from a checkpoint of the same network (e.g. the shipped light checkpoint): its
            weights, step count and training record carry on, the trainer's ``max_steps`` still counts all
            steps, and the learning rate warms up again (the optimiser's moments start afresh) then follows the
            schedule from the checkpoint's step. This is how a run continues on a machine that has only the
            committed few-MB checkpoint; with the full ``last.ckpt`` use ``--ckpt_path last`` instead. The
            network may also be a larger one that extends the checkpoint's, e.g. with ``refine_blocks`` added:
            its new blocks start as the identity, so training resumes from the same function
            (:func:`denoise.models.growth.grow_from`), or a narrower one (only ``widths`` smaller), which starts
            from the checkpoint's most salient channels (:func:`denoise.models.pruning.prune_into`).
        restart_schedule: with ``init_from``, warm up and decay over this run's steps alone (a new phase, e.g.
            after growing the network) instead of carrying on the checkpoint's schedule from its step.
        schedule_steps: the step at which the learning-rate schedule ends, counted as the trainer's ``max_steps``
            counts (every step, those before a warm start too); by default ``max_steps`` itself. A run that stops
            before its schedule's end (e.g. stopped by hand) is retraced with its stop as ``max_steps`` and its
            schedule's end here: the record of each run keeps that end (``schedule_end``), and the model card names it.
        channels_last: train in the channels-last memory layout (the one tensor cores and oneDNN prefer); the
            weights saved are the same either way.
        compile: ``torch.compile`` the network for the training steps (validation runs it as it is: whole
            images of many sizes would recompile it); pays off only when the run is much longer than the compile.
        freeze: names of the network's parts held fixed, as prefixes of its parameter names (``[denoiser]``:
            a blind model's UNet keeps the weights ``init_from`` gave it and only its noise-level estimator
            learns, so the estimator learns the level that this very UNet denoises best with).
    """

    def __init__(
        self,
        net: nn.Module,
        sigma_min_255: float = 0.0,
        sigma_max_255: float = 75.0,
        loss: str = "l1",
        noise: str = "gaussian",
        rendered_loss_weight: float = 0.0,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        warmup_steps: int = 500,
        final_lr_ratio: float = 0.01,
        max_nonfinite_steps: int = 5,
        samples_dir: str | None = None,
        init_from: str | None = None,
        channels_last: bool = False,
        compile: bool = False,
        restart_schedule: bool = False,
        schedule_steps: int | None = None,
        freeze: list[str] | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= sigma_min_255 <= sigma_max_255:
            raise ValueError(f"need 0 <= sigma_min_255 <= sigma_max_255, got {sigma_min_255} and {sigma_max_255}")
        if schedule_steps is not None and schedule_steps < 1:
            raise ValueError(f"schedule_steps must be a positive step count, got {schedule_steps}")
        self.net = net
        _freeze(net, freeze or [])
        self.sigma_range = (sigma_min_255 / EIGHT_BIT, sigma_max_255 / EIGHT_BIT)  # on [0, 1]
        self.loss_fn = get_loss(loss)
        self.noise = TRAINING_NOISES.get(noise)
        # only the arguments: ``validate --ckpt_path FILE`` parses these back as this class's arguments, so the
        # network's config goes beside them (``on_save_checkpoint``)
        self.save_hyperparameters(ignore=["net"])
        self.nonfinite_in_a_row = 0
        self.train_seconds = 0.0  # wall time of fit(), summed over resumed runs (validation included)
        self.machines: list[str] = []  # the machines that trained it
        self.step_offset = 0  # steps done before a warm start (init_from)
        self.runs: list[dict] = []  # one entry per fit: the step it started at, its learning rate, its warm start
        self._fit_started: float | None = None
        self._compiled_forward = None  # with ``compile``: the compiled network the training steps use
        self._grown_from: dict | None = None  # the smaller network ``init_from`` held, when this one extends it
        self._pruned_from: dict | None = None  # the wider network ``init_from`` held, when this one narrows it
        self._max_steps = -1  # the trainer's max_steps, counting steps before a warm start, once one is set up
        self._schedule_end: int | None = None  # the step the learning-rate schedule ends at (all steps counted)

    def forward(self, noisy: torch.Tensor, sigma) -> torch.Tensor:
        return self.net(noisy, sigma)

    def training_step(self, clean: torch.Tensor, batch_index: int):
        batch = self.noise(clean, *self.sigma_range)
        noisy = batch.noisy
        if self.hparams.channels_last:
            noisy = noisy.contiguous(memory_format=torch.channels_last)
        denoised = (self._compiled_forward or self.net)(noisy, batch.sigma)
        loss = self.loss_fn(denoised, batch.target)
        if self.hparams.rendered_loss_weight:
            if batch.render is None:
                raise ValueError(
                    f"rendered_loss_weight needs a noise whose outputs are rendered (raw), not {self.hparams.noise!r}; "
                    "set it to 0"
                )
            rendered = self.loss_fn(batch.render(denoised.float()), batch.render(batch.target))
            loss = loss + self.hparams.rendered_loss_weight * rendered
        if not torch.isfinite(loss):
            self.nonfinite_in_a_row += 1
            if self.nonfinite_in_a_row > self.hparams.max_nonfinite_steps:
                raise NonFiniteLossError(
                    f"the loss was not finite for {self.nonfinite_in_a_row} steps in a row (step {self.global_step}); "
                    "lower the learning rate or check the data, then resume from the last checkpoint"
                )
            warnings.warn(f"non-finite loss at step {self.global_step}: step skipped", RuntimeWarning, stacklevel=1)
            return None  # Lightning skips the optimiser step
        self.nonfinite_in_a_row = 0
        self.log("train/loss", loss, prog_bar=True, batch_size=clean.shape[0])
        return loss

    def validation_step(self, item: dict, batch_index: int) -> None:
        clean8 = np.asarray(torch.as_tensor(item["clean8"]).cpu())  # the data loader may hand over tensors
        if self.hparams.noise == "raw":
            return self._validate_raw(clean8, item["name"])
        if self.hparams.noise == "camera":  # the blind model's own target: seeded camera noise, found blind
            self._validate_camera(clean8, item["name"])
        for sigma255, noisy in item["noisy"].items():
            sigma255 = float(sigma255)
            tensor = torch.as_tensor(noisy).to(self.device)
            tensor = tensor.permute(2, 0, 1)[None] if tensor.ndim == 3 else tensor[None, None]  # (1, C, H, W)
            given = None if self.hparams.noise == "camera" else sigma255 / 255  # a blind network finds the level
            denoised = self.net(tensor, given)[0].permute(1, 2, 0).squeeze(-1).float().cpu().numpy()
            out8 = to_uint8(denoised)
            self.log(f"val/psnr_{sigma255:g}", psnr(clean8, out8), batch_size=1, prog_bar=sigma255 == 25)
            self.log(f"val/ssim_{sigma255:g}", ssim(clean8, out8), batch_size=1)
            if batch_index == 0 and sigma255 == 25 and self.hparams.samples_dir and not self.trainer.sanity_checking:
                self._write_sample(to_uint8(tensor[0].permute(1, 2, 0).squeeze(-1).cpu().numpy()), out8, clean8)

    def _validate_camera(self, clean8: np.ndarray, name: str) -> None:
        """The validation image with seeded camera noise, denoised blind: ``val/camera_psnr``."""
        clean8 = even_crop(clean8)
        clean = to_batch(clean8 if clean8.ndim == 3 else clean8[..., None]).to(self.device)  # grey: H x W
        denoised = self.net(seeded_camera_noise(clean, image_seed(name)), None)
        out8 = to_uint8(denoised[0].permute(1, 2, 0).squeeze(-1).float().cpu().numpy())
        self.log("val/camera_psnr", psnr(clean8, out8), batch_size=1)

    def _validate_raw(self, clean8: np.ndarray, name: str) -> None:
        """Synthetic raw of the validation image at :data:`RAW_VALIDATION_ISOS`, scored as the raw benchmark
        scores it: in linear raw (``val/raw_psnr_isoN``) and after the fixed rendering, in 8 bits
        (``val/raw_rendered_psnr_isoN``)."""
        srgb = to_batch(even_crop(clean8)).to(self.device)
        for iso in RAW_VALIDATION_ISOS:
            raw = seeded_synthetic_raw(srgb, iso, image_seed(name))
            denoised = self.net(raw.noisy, raw.sigma).float()
            score = raw_psnr(raw.clean[0].cpu().numpy(), denoised[0].cpu().numpy())
            self.log(f"val/raw_psnr_iso{iso}", score, batch_size=1, prog_bar=iso == RAW_VALIDATION_ISOS[1])
            rendered = psnr(rendered8(raw.clean, raw.params), rendered8(denoised, raw.params))
            self.log(f"val/raw_rendered_psnr_iso{iso}", rendered, batch_size=1)

    def _write_sample(self, noisy8: np.ndarray, denoised8: np.ndarray, clean8: np.ndarray) -> None:
        triplet = np.concatenate([noisy8, denoised8, clean8], axis=1)  # noisy | denoised | clean
        path = Path(self.hparams.samples_dir) / f"step_{self.global_step:07d}.png"
        write_image(path, ImageData(triplet))
        log_image = getattr(self.logger, "log_image", None)
        if log_image is not None:  # wandb: the triplet also appears in the run
            log_image(key="val/sample_sigma25", images=[triplet], caption=["noisy | denoised | clean"])

    def setup(self, stage: str) -> None:
        if stage != "fit" or not self.hparams.init_from:
            return
        model, metadata = load_checkpoint(self.hparams.init_from)
        if same_network(model.model_config, self.net.model_config):
            self.net.load_state_dict(model.state_dict())
        elif getattr(self.net, "adopt", None) is not None and self.net.adopt(model):
            self._grown_from = dict(model.model_config)  # e.g. a blind model around a trained non-blind UNet
        elif narrower(self.net.model_config, model.model_config):  # keep the wider network's salient channels
            try:
                prune_into(self.net, model)
            except PruningError as error:
                raise WarmStartError(f"init_from {self.hparams.init_from}: {error}") from None
            self._pruned_from = dict(model.model_config)
        else:  # a larger network may start from a smaller one it extends (added blocks start as the identity)
            try:
                grow_from(self.net, model)
            except GrowthError as error:
                raise WarmStartError(
                    f"init_from {self.hparams.init_from} holds a different network ({model.model_config}) than this "
                    f"run ({self.net.model_config}) and {error}; use the same model config, or narrower widths"
                ) from None
            self._grown_from = dict(model.model_config)
        if "init" in self.net.model_config:  # the copied weights began with the first run's init, not this config's
            self.net.model_config["init"] = model.model_config.get("init", "torch")
        self.step_offset = int(metadata.get("global_step") or 0)
        self.train_seconds = float(metadata.get("train_seconds", 0.0))
        self.machines = list(metadata.get("machines", []))
        # checkpoints from before run histories were recorded: one run from step 0 at their own learning rate
        first = [{"start_step": 0, "lr": metadata.get("lr"), "init_from": metadata.get("init_from")}]
        self.runs = _backfilled(list(metadata.get("runs", first if self.step_offset else [])), metadata)
        self._max_steps = self.trainer.fit_loop.epoch_loop.max_steps
        self._limit_steps()

    def on_fit_start(self) -> None:
        if self.hparams.channels_last:
            self.net.to(memory_format=torch.channels_last)
        if self.hparams.compile:  # a compiled bound method: not a submodule, so the checkpoint keys stay the same
            self._compiled_forward = torch.compile(self.net.forward)
        self._fit_started = time.monotonic()
        machine = machine_description()
        if self.device.type == "cuda":
            machine += f", {torch.cuda.get_device_name(self.device)}"
        if machine not in self.machines:
            self.machines.append(machine)

    def on_train_start(self) -> None:
        # here, not in on_fit_start: a resume (``--ckpt_path``) restores its global step only after that hook
        start = self.step_offset + self.global_step
        run = {"start_step": start, "lr": self.hparams.lr, "init_from": self.hparams.init_from}
        run["device"] = self.device.type  # a phase's hardware and batch: what its reproduce command must name
        run["precision"] = str(self.trainer.precision)  # bf16-mixed on a CPU is not the CPU config's 32-true
        run["noise"] = self.hparams.noise  # which experiment the phase was (a blind model grows from a Gaussian one)
        run |= {"camera_noise": CAMERA_NOISE_RECIPE} if self.hparams.noise == "camera" else {}
        datamodule = getattr(self.trainer, "datamodule", None)
        data = getattr(datamodule, "hparams", {})
        run |= {"batch_size": data["batch_size"]} if "batch_size" in data else {}
        run |= {"train_sets": list(data["train_sets"])} if data.get("train_sets") else {}
        # the seeds of the noise (``seed_everything``) and of the patches (``data.seed``): a warm start from the
        # same seeds replays the previous run's batches, so a continuation may pick others, and must say so
        run |= {"seed": int(os.environ["PL_GLOBAL_SEED"])} if "PL_GLOBAL_SEED" in os.environ else {}
        run |= {"data_seed": data["seed"]} if "seed" in data else {}
        run |= {"grown_from": self._grown_from} if self._grown_from else {}
        run |= {"pruned_from": self._pruned_from} if self._pruned_from else {}
        run |= {"restart_schedule": True} if self.hparams.init_from and self.hparams.restart_schedule else {}
        run |= {"frozen": list(self.hparams.freeze)} if self.hparams.freeze else {}
        run |= {"rendered_loss_weight": weight} if (weight := self.hparams.rendered_loss_weight) else {}
        run |= {"schedule_end": self._schedule_end} if self._schedule_end else {}  # a stop may fall short of it
        run |= {"resumed": True} if self.trainer.ckpt_path else {}  # the same phase carried on, not a warm start
        self.runs.append(run)

    def training_record(self) -> dict:
        """Wall seconds of training so far (all resumed runs) and the machines used: saved in checkpoints."""
        running = time.monotonic() - self._fit_started if self._fit_started is not None else 0.0
        return {
            "train_seconds": self.train_seconds + running,
            "machines": list(self.machines),
            "step_offset": self.step_offset,
            "runs": list(self.runs),
        }

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["model_config"] = dict(getattr(self.net, "model_config", {}))  # what rebuilds the network
        checkpoint["training_record"] = self.training_record()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        record = checkpoint.get("training_record", {})
        self.train_seconds = float(record.get("train_seconds", 0.0))
        self.machines = list(dict.fromkeys([*record.get("machines", []), *self.machines]))
        self.step_offset = int(record.get("step_offset", 0))
        self.runs = [*record.get("runs", []), *self.runs[len(record.get("runs", [])) :]]
        # resuming: the steps before the warm start are the saved run's, whatever ``init_from`` holds now (an
        # export of this very run may have replaced it)
        self._limit_steps()

    def _limit_steps(self) -> None:
        """Set the trainer's step limit for this fit: its max_steps counts all steps, those before a warm start too."""
        if self._max_steps > 0:
            self.trainer.fit_loop.epoch_loop.max_steps = max(self._max_steps - self.step_offset, 1)

    def configure_optimizers(self):
        hp = self.hparams
        trained = [parameter for parameter in self.net.parameters() if parameter.requires_grad]  # not ``freeze``
        optimizer = torch.optim.AdamW(trained, lr=hp.lr, weight_decay=hp.weight_decay)
        offset = 0 if hp.restart_schedule else self.step_offset
        if hp.schedule_steps:  # this fit's steps to the schedule's end
            span = hp.schedule_steps - self.step_offset
            if span < 1:
                raise ValueError(
                    f"schedule_steps {hp.schedule_steps} ends before this run starts (at step {self.step_offset}); "
                    "give a later step, or leave it out to end the schedule at max_steps"
                )
        else:
            span = self.trainer.estimated_stepping_batches  # infinite when training is stopped otherwise
        steps = max(int(span), 1) if math.isfinite(span) else None
        total = offset + steps if steps else None
        self._schedule_end = self.step_offset + steps if steps else None

        def factor(step: int) -> float:  # step counts from this fit's start; step + offset from the first run's
            warm = min((step + 1) / hp.warmup_steps, 1.0)  # also after a warm start: Adam's moments are new
            if total is None:  # no known end: hold the learning rate after warm-up
                return warm
            progress = min(max(step + offset - hp.warmup_steps, 0) / max(total - hp.warmup_steps, 1), 1.0)
            return warm * (hp.final_lr_ratio + (1 - hp.final_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def _freeze(net: nn.Module, frozen: list[str]) -> None:
    """Stop the parameters under each name in ``frozen`` (a prefix of parameter names) from taking gradients."""
    names = dict(net.named_parameters())
    for prefix in frozen:
        held = [name for name in names if name == prefix or name.startswith(prefix + ".")]
        if not held:
            parts = sorted({name.split(".")[0] for name in names})
            raise ValueError(f"freeze: this network has no part {prefix!r}; its parts are {', '.join(parts)}")
        for name in held:
            names[name].requires_grad_(False)


def _backfilled(runs: list[dict], metadata: dict) -> list[dict]:
    """A checkpoint's runs with the device and batch size that runs recorded before those were, where known.

    The device is known when every machine that trained the checkpoint was a GPU (``cuda``) or none was
    (``cpu``); the batch size is the checkpoint's data record's, which belongs to its last run.
    """
    runs = [dict(run) for run in runs]
    kinds = {ran_on_gpu(machine) for machine in metadata.get("machines") or []}
    device = ("cuda" if kinds == {True} else "cpu") if len(kinds) == 1 else None
    for run in runs:
        if device and "device" not in run:
            run["device"] = device
    batch = (metadata.get("data") or {}).get("batch_size")
    if runs and "batch_size" not in runs[-1] and batch:
        runs[-1]["batch_size"] = batch
    return runs
