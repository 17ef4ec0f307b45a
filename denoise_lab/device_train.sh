#!/usr/bin/env bash
# Train on a lent GPU machine, in one device call: `make train TRAINER=gpu`, the shipped configs, several runs
# side by side on the one GPU, each exported to a light checkpoint under $OUT with its log and metrics.
#
#   bash denoise_lab/device_train.sh MINUTES "TAG EXPERIMENT [TRAIN_ARGS...]" ["TAG EXPERIMENT ..." ...]
#
# MINUTES bounds each run's training (--trainer.max_time); leave two of the call's minutes for the start,
# the export and the copy back. Prepare here first (python -m denoise_lab.device_kit: pack, then light), then
# call the device tool with carry [".devkit"] (and any checkpoint a run starts from, e.g.
# "checkpoints/denoise-colour.pt" while `light` holds checkpoints/ back) and e.g.
#
#   bash denoise_lab/device_train.sh 9 "slim-colour colour --model.net.init_args.widths [32,128,192,384]
#       --trainer.max_steps 60000" "slim-grey grey --model.net.init_args.widths [32,96,128,256] --trainer.max_steps 60000"
#
# then `python -m denoise_lab.device_kit restore` here. $OUT gets each run's light checkpoint TAG.pt (in 15 MiB
# parts TAG.pt.partNN when over 16 MiB, the most one file may be: `cat TAG.pt.part* > TAG.pt` joins them) and
# one logs.tar.gz of every run's TAG.log and TAG.csv (its metrics) with gpu.txt: at most 8 files come back. TRAINER=cpu and DEVICE_PYTHON=.venv/bin/python
# rehearse it here, on a few steps.
set -uo pipefail
trainer=${TRAINER:-gpu}
python=${DEVICE_PYTHON:-python3}
minutes=${1:?usage: device_train.sh MINUTES "TAG EXPERIMENT [TRAIN_ARGS...]" ...}
shift
out=${OUT:?run this through the device tool, which sets OUT}
kit=.devkit
[ -d "$kit/data/train" ] || { echo "error: $kit/data is missing: run python -m denoise_lab.device_kit pack and carry $kit" >&2; exit 2; }
export PYTHONUNBUFFERED=1
if compgen -G "$kit/wheels/*.whl" > /dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$kit"/wheels/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
# kornia imports kornia_rs for its image-file IO, which denoise never calls; its 5 MB wheel does not fit the
# call's limit beside the data, so an empty stand-in takes its place where the image lacks it
if ! "$python" -c "import kornia_rs" 2> /dev/null; then
  mkdir -p /tmp/site/kornia_rs && touch /tmp/site/kornia_rs/__init__.py /tmp/site/kornia_rs/io.py
  export PYTHONPATH=/tmp/site
fi
# make's `install` step would build a virtual environment from the package registry, which the device cannot
# reach: a stand-in whose python is the image's own, with its stamp in place
mkdir -p /tmp/venv/bin
python_path=$(command -v "$python")
case $python_path in /*) ;; *) python_path=$PWD/$python_path ;; esac
printf '#!/bin/sh\nexec %s "$@"\n' "$python_path" > /tmp/venv/bin/python
chmod +x /tmp/venv/bin/python
touch /tmp/venv/.installed
logs=$(mktemp -d)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$logs/gpu.txt" 2>&1
max_time=$(printf '00:00:%02d:00' "$minutes")
pids=()
for spec in "$@"; do
  read -r tag experiment args <<< "$spec"
  make train VENV=/tmp/venv DATA_DIR="$kit/data" TRAINER="$trainer" EXPERIMENT="$experiment" TRAIN_ARGS="--config configs/trainer/csv.yaml --trainer.default_root_dir runs/$tag --trainer.logger.init_args.save_dir runs/$tag --model.samples_dir runs/$tag/samples --trainer.max_time $max_time ${args:-}" > "$logs/$tag.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for spec in "$@"; do
  read -r tag experiment args <<< "$spec"
  make export-checkpoint VENV=/tmp/venv EXPERIMENT="$experiment" CKPT="runs/$tag/checkpoints/last.ckpt" EXPORT_TO="$out/$tag.pt" >> "$logs/$tag.log" 2>&1 || status=1
  metrics=$(find "runs/$tag" -name metrics.csv | head -n 1)
  [ -n "$metrics" ] && cp "$metrics" "$logs/$tag.csv"
  echo "$tag: $(grep -o "step [0-9]* of [0-9]*[^E]*" "$logs/$tag.log" | tail -n 1)"
  if [ -f "$out/$tag.pt" ] && [ "$(stat -c %s "$out/$tag.pt")" -gt $((16 * 1024 * 1024)) ]; then
    # a file over 16 MiB does not come back: in parts, joined here with `cat TAG.pt.part* > TAG.pt`
    split -b 15M -d "$out/$tag.pt" "$out/$tag.pt.part" && rm "$out/$tag.pt"
    echo "$tag.pt came back in parts: cat $tag.pt.part* > $tag.pt"
  fi
done
tar -czf "$out/logs.tar.gz" -C "$logs" .
if [ "$status" != 0 ]; then tail -n 15 "$logs"/*.log; fi
exit $status
