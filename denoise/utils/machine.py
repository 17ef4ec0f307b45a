"""One line describing the machine a measurement ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def machine_description() -> str:
    """CPU model, cores, memory, torch and Python versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = f"torch {torch.__version__}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {versions}"


def ran_on_gpu(machine: str) -> bool:
    """Whether a machine line recorded by training names an NVIDIA GPU (the trainer appends the CUDA device name)."""
    return "NVIDIA" in machine
