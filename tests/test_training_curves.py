import json

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


def test_runs_that_validate_otherwise_or_never_get_their_own_table_and_list(tmp_path):
    raw = "epoch,step,val/raw_psnr_iso25600,val/raw_psnr_iso1600\n0,999,33.5,42.25\n"
    blind = "epoch,step,val/camera_psnr,val/psnr_25\n0,999,28.0,30.5\n"
    rendered = "epoch,step,val/raw_rendered_psnr_iso1600,val/raw_psnr_iso1600\n0,999,32.5,42.25\n"
    for name, body in (
        ("gauss.csv", CSV),
        ("raw.csv", raw),
        ("rendered.csv", rendered),
        ("blind.csv", blind),
        ("none.csv", "step,train/loss\n3,1\n"),
    ):
        (tmp_path / name).write_text(body)
    runs = {"gauss.csv": "g", "raw.csv": "r", "rendered.csv": "rr", "blind.csv": "b", "none.csv": "n"}
    (tmp_path / "runs.json").write_text(json.dumps(runs))
    text = table(load_runs(tmp_path, runs))
    assert (
        "| run | what | steps | ISO 1600 | ISO 25600 |" in text and "| `raw.csv` | r | 1000 | 42.25 | 33.50 |" in text
    )
    assert "| ISO 1600 | rendered ISO 1600 |" in text and "| `rendered.csv` | rr | 1000 | 42.25 | 32.50 |" in text
    assert "| run | what | steps | PSNR 25 | camera |" in text and "| `blind.csv` | b | 1000 | 30.50 | 28.00 |" in text
    assert text.endswith("Runs that never validated:\n\n- `none.csv`: n")
    assert main([str(tmp_path), "--out", str(tmp_path / "t.md")]) == 0
    assert (tmp_path / "t.png").stat().st_size > 0
