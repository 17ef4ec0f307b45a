"""The one registry helper: registration, lookups, one error that lists the choices."""

import pytest

from denoise.data.noise import TRAINING_NOISES
from denoise.data.registry import REGISTRY
from denoise.denoiser import METHODS
from denoise.models.blocks import DOWNSAMPLERS
from denoise.models.init import INITIALISERS
from denoise.models.registry import MODELS
from denoise.training.losses import LOSSES
from denoise.transforms.encodings import ENCODINGS
from denoise.utils.registry import Registry


def test_register_get_and_list():
    registry = Registry("colour", {"red": 1})
    registry.add("green", 2)

    @registry.register("blue")
    def blue():
        return 3

    assert registry.get("red") == 1 and registry["green"] == 2 and registry.get("blue")() == 3
    assert registry.names() == ["blue", "green", "red"] and registry.names("*r*") == ["green", "red"]
    assert "red" in registry and "RED" not in registry and len(registry) == 3 and dict(registry)["red"] == 1


def test_unknown_and_twice_registered_names_are_errors():
    registry = Registry("colour", {"red": 1, "blue": 2})
    with pytest.raises(ValueError, match="unknown colour 'pink'; choose one of blue, red"):
        registry.get("pink")
    with pytest.raises(KeyError):
        registry["pink"]
    with pytest.raises(ValueError, match="colour 'red' is registered twice"):
        registry.add("red", 3)


def test_names_can_ignore_case():
    registry = Registry("data set", {"CBSD68": 1}, ignore_case=True)
    assert registry.get("cbsd68") == 1 and "Cbsd68" in registry and registry.canonical("cbsd68") == "CBSD68"
    with pytest.raises(ValueError, match="registered twice"):
        registry.add("cbsd68", 2)


@pytest.mark.parametrize(
    "registry", [MODELS, ENCODINGS, DOWNSAMPLERS, INITIALISERS, LOSSES, METHODS, REGISTRY, TRAINING_NOISES]
)
def test_every_lookup_by_name_is_a_registry(registry):
    assert isinstance(registry, Registry) and len(registry) >= 2
    with pytest.raises(ValueError, match=f"unknown {registry.kind} 'nonesuch'; choose one of"):
        registry.get("nonesuch")
