"""Training on a mixture of sets: patches by area, held-out validation images, downscaled copies, colour jitter."""

import numpy as np
import pytest
import skimage.data
import torch

from denoise.data.datamodule import DataConfigError, DenoiseDataModule
from denoise.data.patches import PatchSampler
from denoise.data.validation import central_crop
from denoise.io import ImageData, write_image


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    """small/ with 4 images of 96 x 128 and large/ with 3 of 400 x 512 (8-bit PNG)."""
    root = tmp_path_factory.mktemp("mixture")
    photo = skimage.data.astronaut()
    for index in range(4):
        write_image(root / "small" / f"s{index}.png", ImageData(photo[index * 96 : index * 96 + 96, :128]))
    for index in range(3):
        write_image(root / "large" / f"l{index}.png", ImageData(np.roll(photo, 37 * index, axis=1)[:400]))
    return root


def _module(root, **kwargs) -> DenoiseDataModule:
    settings = {
        "train_sets": [str(root / "small"), str(root / "large")],
        "val_set": None,
        "holdout": {str(root / "small"): 1, str(root / "large"): 1},
        "patch_size": 64,
        "batch_size": 8,
        "patches_per_epoch": 64,
        "num_workers": 0,
    }
    return DenoiseDataModule(**(settings | kwargs))


def test_patches_are_drawn_in_proportion_to_image_area():
    sizes = [(100, 100), (100, 300)]
    sampler = PatchSampler(sizes, 32, 500, 8, seed=0, by_area=True)
    images = torch.cat([sampler[index][:, 0] for index in range(8)])
    share = (images == 1).float().mean().item()
    assert 0.72 < share < 0.78  # 3 / 4 of the pixels
    uniform = PatchSampler(sizes, 32, 500, 8, seed=0)
    share = (torch.cat([uniform[index][:, 0] for index in range(8)]) == 1).float().mean().item()
    assert 0.45 < share < 0.55


def test_held_out_images_validate_and_never_train(two_sets):
    module = _module(two_sets)
    train, held_out = module.split_training_images()
    assert [path.name for path in held_out] == ["s3.png", "l2.png"]  # the last of each set, by name
    assert set(train).isdisjoint(held_out) and len(train) == 5
    module.setup("fit")
    assert [path.name for path in module.val_dataset.paths] == ["s3.png", "l2.png"]
    assert len(module.bank.sizes) == 5  # no downscales asked for


def test_large_images_are_also_kept_downscaled(two_sets):
    module = _module(two_sets, downscales=[0.5, 0.25, 0.125], downscale_min_side=500)
    module.setup("fit")
    # 3 small images once; 2 large ones (400 x 512) at 1, 1/2 and 1/4 (1/8 would be under a 64-pixel patch)
    assert sorted(module.bank.sizes) == sorted([(96, 128)] * 3 + [(400, 512), (200, 256), (100, 128)] * 2)


def test_validation_crops_large_images_to_their_centre(two_sets):
    module = _module(two_sets, val_crop=128)
    module.setup("validate")
    item = module.val_dataset[1]
    assert item["clean8"].shape == (128, 128, 3)
    image = np.arange(5 * 7).reshape(5, 7)
    np.testing.assert_array_equal(central_crop(image, 3), image[1:4, 2:5])
    assert central_crop(image, 9).shape == (5, 7)


def test_colour_jitter_runs_on_the_cut_patches(two_sets):
    plain, jittered = _module(two_sets), _module(two_sets, saturation=[2.0, 2.0], saturation_p=1.0)
    for module in (plain, jittered):
        module.setup("fit")
    plan = plain.train_dataset[0]
    before, after = plain.on_after_batch_transfer(plan, 0), jittered.on_after_batch_transfer(plan, 0)
    inside = ((after > 0) & (after < 1)).all(1)  # pixels the clipping left alone keep their grey level
    torch.testing.assert_close(after.mean(1)[inside], before.mean(1)[inside], atol=1e-5, rtol=0)
    spread = lambda x: (x - x.mean(1, keepdim=True)).abs().mean()  # noqa: E731
    assert spread(after) > 1.5 * spread(before)  # chroma doubled, less where it clips


@pytest.mark.parametrize("grey", [False, True])
def test_dead_leaves_join_the_training_images(two_sets, grey):
    module = _module(two_sets, dead_leaves=2, dead_leaves_size=96, grey=grey)
    module.setup("fit")
    assert module.bank.sizes[-2:] == [(96, 96), (96, 96)]  # after the 5 training images
    assert len(module.bank.sizes) == 7 and module.bank.channels == (1 if grey else 3)
    assert [path.name for path in module.val_dataset.paths] == ["s3.png", "l2.png"]  # validation unchanged


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"holdout": {"elsewhere": 2}}, "not in data.train_sets"),
        ({"downscales": [1.5]}, "factors in"),
        ({"holdout": {}}, "no validation images"),
        ({"dead_leaves": -1}, "dead_leaves"),
        ({"dead_leaves": 2, "dead_leaves_size": 32}, "at least data.patch_size"),
    ],
)
def test_settings_that_cannot_work_are_refused(two_sets, kwargs, message):
    with pytest.raises(DataConfigError, match=message):
        _module(two_sets, **kwargs)
