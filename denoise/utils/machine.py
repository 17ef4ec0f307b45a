"""One line describing the machine a measurement ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def cpu_name(cpuinfo: str) -> str | None:
    """The CPU's model name from ``/proc/cpuinfo`` text, with its family and model numbers.

    The numbers tell apart generations that share a vague name: "AMD EPYC" is printed by machines whose
    speeds differ twofold, and timings taken on one are not comparable with the other's.
    """
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor's block is enough
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name")
    if not name:
        return None
    labels = {"cpu family": "family", "model": "model"}
    numbers = [f"{label} {fields[key]}" for key, label in labels.items() if key in fields]
    return f"{name} ({', '.join(numbers)})" if numbers else name


def machine_description() -> str:
    """CPU model (with family and model numbers), cores, memory, torch and Python versions."""
    try:
        cpu = cpu_name(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu = None
    cpu = cpu or platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = f"torch {torch.__version__}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {versions}"


def ran_on_gpu(machine: str) -> bool:
    """Whether a machine line recorded by training names an NVIDIA GPU (the trainer appends the CUDA device name)."""
    return "NVIDIA" in machine
