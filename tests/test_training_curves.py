import json

import pytest

from denoise_lab.curves import load_runs, main, read_validation, table

CSV = """epoch,step,train/loss,val/psnr_15,val/psnr_25
0,49,0.05,,
0,999,,31.5,29.25
1,1999,,32.0,29.75
"""


def _run(folder, body=CSV):
    (folder / "run.csv").write_text(body)
    (folder / "runs.json").write_text(json.dumps({"run.csv": "a test run"}))


def test_reads_only_validation_rows_with_one_based_steps(tmp_path):
    _run(tmp_path)
    rows = read_validation(tmp_path / "run.csv")
    assert rows == [{"step": 1000.0, "15": 31.5, "25": 29.25}, {"step": 2000.0, "15": 32.0, "25": 29.75}]
    assert (
        table(load_runs(tmp_path, {"run.csv": "a test run"})).splitlines()[-1]
        == "| `run.csv` | a test run | 2000 | 32.00 | 29.75 |"
    )


def test_writes_table_and_plot(tmp_path):
    _run(tmp_path)
    assert main([str(tmp_path), "--out", str(tmp_path / "out" / "training.md")]) == 0
    assert "29.75" in (tmp_path / "out" / "training.md").read_text()
    assert (tmp_path / "out" / "training.png").stat().st_size > 0


def test_a_run_without_validation_is_a_one_line_error(tmp_path, capsys):
    _run(tmp_path, "epoch,step,train/loss\n0,49,0.05\n")
    assert main([str(tmp_path), "--out", str(tmp_path / "t.md")]) == 2
    assert "holds no validation scores" in capsys.readouterr().err
    with pytest.raises(ValueError):
        load_runs(tmp_path, {"run.csv": "x"})
