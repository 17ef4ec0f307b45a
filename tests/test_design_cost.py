"""``python -m denoise_lab.design_cost``: parsing a design, building it from a base, and its bad inputs."""

import pytest

from denoise.models import create_model
from denoise_lab.design_cost import build_design, parse_design, parse_value, render
from denoise_lab.profile import count_parameters

BASE = {"name": "unet", "channels": 3, "encoding": "space_to_depth", "widths": (8, 16), "blocks_per_level": 1}


def test_values_parse_to_the_types_a_model_config_holds():
    assert parse_value("48,96,128") == (48, 96, 128)
    assert parse_value("2") == 2
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("haar") == "haar"


def test_a_design_is_a_name_and_its_changes():
    assert parse_design("wide:widths=16,16;blocks_per_level=2") == ("wide", {"widths": (16, 16), "blocks_per_level": 2})
    assert parse_design("base") == ("base", {})
    for bad in (":widths=8", "wide:widths", "wide:=3"):
        with pytest.raises(ValueError):
            parse_design(bad)


def test_a_design_changes_only_what_it_names():
    base = create_model(**BASE)
    wide = build_design(dict(base.model_config), {"widths": (16, 16)})
    assert wide.model_config == {**base.model_config, "widths": (16, 16)}
    assert count_parameters(wide) > count_parameters(base)
    assert not wide.training  # timed as at inference


def test_an_unknown_option_names_the_ones_there_are():
    with pytest.raises(ValueError, match="unknown option.*widht.*the base network has"):
        build_design(dict(create_model(**BASE).model_config), {"widht": (16, 16)})


def test_the_table_compares_each_design_with_half_of_ffdnets_time():
    rows = [
        {"name": "base", "changes": "as it is", "parameters": 2_000_000, "gmacs": 80.0, "s_per_mp": 1.5},
        {"name": "wide", "changes": "widths=(96,)", "parameters": 3_000_000, "gmacs": 120.0, "s_per_mp": 2.5},
    ]
    text = render("cmd", "a machine", "CBSD68", 8, rows, peer=4.0)
    assert "(2.000 s/MP here)" in text
    assert "| base | as it is | 2.00 M | 80.0 | 1.500 | 38% | yes |" in text
    assert "| wide | widths=(96,) | 3.00 M | 120.0 | 2.500 | 62% | no |" in text


def test_a_bad_design_on_the_command_line_is_one_line_and_exit_2(capsys):
    from denoise_lab.design_cost import main

    assert main(["--design", "wide:widht=96,96"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown option(s) widht;")
    assert main(["--design", "wide:widths"]) == 2
    assert "write each change as key=value" in capsys.readouterr().err
