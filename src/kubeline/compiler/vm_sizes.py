"""Azure VM sizes used by AML compute: vCPUs, memory and GPUs, from Microsoft's size pages.

Figures are the ones Microsoft's "Sizes for virtual machines in Azure" pages list per series
(general purpose Dv2/Dv3/Dv4/Dv5/DSv2, memory optimised Ev3/Ev4, compute optimised F/Fsv2,
GPU NC/NCv2/NCv3/NCasT4_v3/NC A100 v4, ND/NDv2/ND A100 v4, NV/NVv3). docs/compute.md says
which sizes are listed and where the figures come from. Names are matched case-insensitively;
the table keeps Azure's spelling.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VmSize:
    """One Azure VM size: what a step pod on such a node can use."""

    name: str
    family: str
    vcpus: int
    memory_gib: float
    gpus: int = 0
    gpu_model: str = ""


def _series(family: str, rows: list[tuple[str, int, float]], gpu_model: str = "",
            gpus: dict[str, int] | None = None) -> list[VmSize]:
    counts = gpus or {}
    return [VmSize(name, family, cpu, mem, counts.get(name, 0), gpu_model if name in counts
                   else "") for name, cpu, mem in rows]


_SIZES: list[VmSize] = [
    # -- D: general purpose ------------------------------------------------------------------
    *_series("D", [("Standard_D1", 1, 3.5), ("Standard_D2", 2, 7), ("Standard_D3", 4, 14),
                   ("Standard_D4", 8, 28), ("Standard_D11", 2, 14), ("Standard_D12", 4, 28),
                   ("Standard_D13", 8, 56), ("Standard_D14", 16, 112)]),
    *_series("Dv2", [("Standard_D1_v2", 1, 3.5), ("Standard_D2_v2", 2, 7),
                     ("Standard_D3_v2", 4, 14), ("Standard_D4_v2", 8, 28),
                     ("Standard_D5_v2", 16, 56), ("Standard_D11_v2", 2, 14),
                     ("Standard_D12_v2", 4, 28), ("Standard_D13_v2", 8, 56),
                     ("Standard_D14_v2", 16, 112), ("Standard_D15_v2", 20, 140)]),
    *_series("DSv2", [("Standard_DS1_v2", 1, 3.5), ("Standard_DS2_v2", 2, 7),
                      ("Standard_DS3_v2", 4, 14), ("Standard_DS4_v2", 8, 28),
                      ("Standard_DS5_v2", 16, 56), ("Standard_DS11_v2", 2, 14),
                      ("Standard_DS12_v2", 4, 28), ("Standard_DS13_v2", 8, 56),
                      ("Standard_DS14_v2", 16, 112), ("Standard_DS15_v2", 20, 140)]),
    *_series("Dv3", [(f"Standard_D{n}_v3", n, n * 4.0) for n in (2, 4, 8, 16, 32, 48, 64)]),
    *_series("Dsv3", [(f"Standard_D{n}s_v3", n, n * 4.0) for n in (2, 4, 8, 16, 32, 48, 64)]),
    *_series("Dv4", [(f"Standard_D{n}_v4", n, n * 4.0) for n in (2, 4, 8, 16, 32, 48, 64)]),
    *_series("Dsv4", [(f"Standard_D{n}s_v4", n, n * 4.0) for n in (2, 4, 8, 16, 32, 48, 64)]),
    *_series("Ddsv4", [(f"Standard_D{n}ds_v4", n, n * 4.0)
                       for n in (2, 4, 8, 16, 32, 48, 64)]),
    *_series("Dv5", [(f"Standard_D{n}_v5", n, n * 4.0)
                     for n in (2, 4, 8, 16, 32, 48, 64, 96)]),
    *_series("Dsv5", [(f"Standard_D{n}s_v5", n, n * 4.0)
                      for n in (2, 4, 8, 16, 32, 48, 64, 96)]),
    # -- E: memory optimised -----------------------------------------------------------------
    *_series("Ev3", [(f"Standard_E{n}_v3", n, n * 8.0) for n in (2, 4, 8, 16, 20, 32, 48)]
             + [("Standard_E64_v3", 64, 432)]),
    *_series("Esv3", [(f"Standard_E{n}s_v3", n, n * 8.0) for n in (2, 4, 8, 16, 20, 32, 48)]
             + [("Standard_E64s_v3", 64, 432)]),
    *_series("Ev4", [(f"Standard_E{n}_v4", n, n * 8.0) for n in (2, 4, 8, 16, 20, 32, 48)]
             + [("Standard_E64_v4", 64, 504)]),
    *_series("Esv4", [(f"Standard_E{n}s_v4", n, n * 8.0) for n in (2, 4, 8, 16, 20, 32, 48)]
             + [("Standard_E64s_v4", 64, 504)]),
    # -- F: compute optimised ----------------------------------------------------------------
    *_series("F", [("Standard_F1", 1, 2), ("Standard_F2", 2, 4), ("Standard_F4", 4, 8),
                   ("Standard_F8", 8, 16), ("Standard_F16", 16, 32)]),
    *_series("Fs", [("Standard_F1s", 1, 2), ("Standard_F2s", 2, 4), ("Standard_F4s", 4, 8),
                    ("Standard_F8s", 8, 16), ("Standard_F16s", 16, 32)]),
    *_series("Fsv2", [(f"Standard_F{n}s_v2", n, n * 2.0)
                      for n in (2, 4, 8, 16, 32, 48, 64, 72)]),
    # -- NC: compute GPUs --------------------------------------------------------------------
    *_series("NC", [("Standard_NC6", 6, 56), ("Standard_NC12", 12, 112),
                    ("Standard_NC24", 24, 224), ("Standard_NC24r", 24, 224)], "K80",
             {"Standard_NC6": 1, "Standard_NC12": 2, "Standard_NC24": 4, "Standard_NC24r": 4}),
    *_series("NCv2", [("Standard_NC6s_v2", 6, 112), ("Standard_NC12s_v2", 12, 224),
                      ("Standard_NC24s_v2", 24, 448), ("Standard_NC24rs_v2", 24, 448)], "P100",
             {"Standard_NC6s_v2": 1, "Standard_NC12s_v2": 2, "Standard_NC24s_v2": 4,
              "Standard_NC24rs_v2": 4}),
    *_series("NCv3", [("Standard_NC6s_v3", 6, 112), ("Standard_NC12s_v3", 12, 224),
                      ("Standard_NC24s_v3", 24, 448), ("Standard_NC24rs_v3", 24, 448)], "V100",
             {"Standard_NC6s_v3": 1, "Standard_NC12s_v3": 2, "Standard_NC24s_v3": 4,
              "Standard_NC24rs_v3": 4}),
    *_series("NCasT4_v3", [("Standard_NC4as_T4_v3", 4, 28), ("Standard_NC8as_T4_v3", 8, 56),
                           ("Standard_NC16as_T4_v3", 16, 110),
                           ("Standard_NC64as_T4_v3", 64, 440)], "T4",
             {"Standard_NC4as_T4_v3": 1, "Standard_NC8as_T4_v3": 1, "Standard_NC16as_T4_v3": 1,
              "Standard_NC64as_T4_v3": 4}),
    *_series("NC_A100_v4", [("Standard_NC24ads_A100_v4", 24, 220),
                            ("Standard_NC48ads_A100_v4", 48, 440),
                            ("Standard_NC96ads_A100_v4", 96, 880)], "A100-80GB",
             {"Standard_NC24ads_A100_v4": 1, "Standard_NC48ads_A100_v4": 2,
              "Standard_NC96ads_A100_v4": 4}),
    # -- ND: deep learning GPUs --------------------------------------------------------------
    *_series("ND", [("Standard_ND6s", 6, 112), ("Standard_ND12s", 12, 224),
                    ("Standard_ND24s", 24, 448), ("Standard_ND24rs", 24, 448)], "P40",
             {"Standard_ND6s": 1, "Standard_ND12s": 2, "Standard_ND24s": 4,
              "Standard_ND24rs": 4}),
    *_series("NDv2", [("Standard_ND40rs_v2", 40, 672)], "V100-32GB",
             {"Standard_ND40rs_v2": 8}),
    *_series("ND_A100_v4", [("Standard_ND96asr_v4", 96, 900)], "A100",
             {"Standard_ND96asr_v4": 8}),
    *_series("NDm_A100_v4", [("Standard_ND96amsr_A100_v4", 96, 1900)], "A100-80GB",
             {"Standard_ND96amsr_A100_v4": 8}),
    # -- NV: visualisation GPUs --------------------------------------------------------------
    *_series("NV", [("Standard_NV6", 6, 56), ("Standard_NV12", 12, 112),
                    ("Standard_NV24", 24, 224)], "M60",
             {"Standard_NV6": 1, "Standard_NV12": 2, "Standard_NV24": 4}),
    *_series("NVv3", [("Standard_NV12s_v3", 12, 112), ("Standard_NV24s_v3", 24, 224),
                      ("Standard_NV48s_v3", 48, 448)], "M60",
             {"Standard_NV12s_v3": 1, "Standard_NV24s_v3": 2, "Standard_NV48s_v3": 4}),
]

VM_SIZES: dict[str, VmSize] = {s.name.lower(): s for s in _SIZES}


class UnknownVmSize(LookupError):
    """A vm_size the table does not list; ``matches`` are the closest known names."""

    def __init__(self, name: str, matches: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.matches = matches


def close_matches(name: str, limit: int = 3) -> list[str]:
    """Known sizes that look like ``name`` (difflib), best first."""
    found = difflib.get_close_matches(name.lower(), list(VM_SIZES), n=limit, cutoff=0.6)
    return [VM_SIZES[f].name for f in found]


def lookup(name: str) -> VmSize:
    """The size called ``name`` (any case); UnknownVmSize with close matches otherwise."""
    size = VM_SIZES.get(name.strip().lower())
    if size is None:
        raise UnknownVmSize(name, close_matches(name.strip()))
    return size
