"""Validation curves of ablation runs: recorded during fit only, averaged over seeds, tabled and drawn."""

import lightning as L
import pytest
import torch

from denoise_lab.ablation_curves import ValidationCurve, curve_table, late_gain, mean_curve, plot_curves


def _curve_record(points: list[tuple[int, float]]) -> dict:
    """A record whose curve scores ``value`` + 3, ``value`` and ``value`` - 3 dB at each (step, value)."""
    return {"curve": [[step, value + 3, value, value - 3] for step, value in points]}


class _Scored(L.LightningModule):
    """A one-parameter model whose validation logs the protocol's three PSNRs: 10, 20 and 30 dB plus its step."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))

    def training_step(self, batch: torch.Tensor, index: int) -> torch.Tensor:
        return (self.weight - batch.mean()) ** 2

    def validation_step(self, batch: torch.Tensor, index: int) -> None:
        for offset, sigma in zip((10, 20, 30), (15, 25, 50), strict=True):
            self.log(f"val/psnr_{sigma}", float(offset + self.global_step))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_the_callback_records_each_validation_inside_fit_and_not_a_later_validate():
    curve = ValidationCurve()
    trainer = L.Trainer(
        max_steps=4,
        val_check_interval=2,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=1,  # the sanity pass is not a point of the curve
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=[curve],
    )
    data = torch.utils.data.DataLoader(torch.rand(8), batch_size=2)
    module = _Scored()
    trainer.fit(module, data, data)
    trainer.validate(module, data, verbose=False)
    assert curve.points == [[2, 12.0, 22.0, 32.0], [4, 14.0, 24.0, 34.0]]


def test_a_design_curve_is_the_mean_over_its_runs_at_the_steps_they_share():
    first = _curve_record([(100, 20.0), (200, 24.0), (300, 25.0)])
    second = _curve_record([(100, 22.0), (200, 26.0)])  # stopped early: step 300 is not shared
    assert mean_curve([first, second]) == [(100, 21.0), (200, 25.0)]
    assert mean_curve([first, {"curve": []}]) == [] and mean_curve([]) == []


def test_the_late_gain_is_the_last_point_minus_the_one_three_quarters_through():
    assert late_gain([(1000, 20.0), (2000, 24.0), (3000, 25.0), (4000, 25.5)]) == pytest.approx(0.5)
    assert late_gain([(500, 30.0), (1000, 31.0)]) == pytest.approx(1.0)  # nearest to 750: the first point
    assert late_gain([(1000, 20.0)]) is None


def test_the_table_ranks_designs_by_their_last_point_and_the_figure_draws_them(tmp_path):
    designs = {
        "baseline": [(0, _curve_record([(1000, 28.0), (2000, 30.0), (4000, 30.2)]))],
        "full": [
            (0, _curve_record([(1000, 27.0), (2000, 30.1), (4000, 30.6)])),
            (1, _curve_record([(1000, 27.4), (2000, 30.3), (4000, 30.8)])),
        ],
    }
    lines = curve_table(designs)
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| design")]
    assert rows == ["| full | 27.20 | 30.20 | 30.70 | +0.50 |", "| baseline | 28.00 | 30.00 | 30.20 | +0.20 |"]
    assert plot_curves(designs, "two photos", tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    one_point = {"baseline": [(0, _curve_record([(1000, 28.0)]))]}
    assert curve_table(one_point) == [] and not plot_curves(one_point, "two photos", tmp_path / "none.png")
