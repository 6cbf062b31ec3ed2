"""What the spectrum view draws, as plain functions: number and log-axis labels, curve checks, the
legend's text, and the CSV of the radial curves.

CSV layout: one wide table; per curve the columns ``<name> freq``, ``<name> power`` and, when
present, ``<name> spread_db`` / ``<name> spread`` and ``<name> fit`` (the fitted power inside the fit
band, NaN outside). Curves of different lengths are padded with ``nan`` to the longest, so every
row has the same number of cells.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg


def sci(v: float, digits: int = 2) -> str:
    """Compact scientific notation: 1.2e-3, not 1.20e-03."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    exp = int(math.floor(math.log10(abs(v))))
    if -2 <= exp <= 3:
        return f"{v:.{max(0, digits - 1 - exp)}f}"
    return f"{v / 10**exp:.{digits - 1}f}e{exp}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_tick_label(v: float) -> str:
    """'0.01', '1', '100' for everyday decades; '10⁻⁵' beyond."""
    exp = int(math.floor(math.log10(v) + 1e-9))
    if -3 <= exp <= 3:
        return f"{v:.{max(0, -exp)}f}"
    mant = v / 10**exp
    return ("" if abs(mant - 1) < 1e-6 else f"{mant:.0f}×") + "10" + str(exp).translate(_SUPERSCRIPT)


class LogAxis(pg.AxisItem):
    """A log axis that labels decades (and 2×, 5× when less than two decades show), never every minor tick."""

    def logTickStrings(self, values, scale, spacing):
        lo, hi = self.range
        span = abs(hi - lo)
        keep = (1,) if span > 2.2 else (1, 2, 5)
        out = []
        for x in values:
            v = 10 ** (x * scale)
            if not math.isfinite(v) or v <= 0:
                out.append("")
                continue
            mant = round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)
            out.append(log_tick_label(v) if any(abs(mant - k) < 1e-3 for k in keep) else "")
        return out


def clean_curve(c: dict) -> dict:
    """Validate one curve dict and turn its arrays into float64 copies of equal length."""
    name = str(c.get("name", "")) or "curve"
    freq = np.asarray(c["freq"], dtype=np.float64).ravel()
    power = np.asarray(c["power"], dtype=np.float64).ravel()
    if freq.shape != power.shape:
        raise ValueError(f"curve '{name}': freq has {freq.size} values but power has {power.size}")
    out = {"name": name, "freq": freq, "power": power, "fit": c.get("fit")}
    for key in ("spread_db", "spread"):
        if c.get(key) is not None:
            s = np.asarray(c[key], dtype=np.float64).ravel()
            if s.shape != freq.shape:
                raise ValueError(f"curve '{name}': {key} has {s.size} values but freq has {freq.size}")
            out[key] = s
    return out


def fit_slope(fit: dict) -> float:
    return float(fit["slope"]) if "slope" in fit else -2.0 * float(fit["alpha"])


def legend_text(c: dict) -> str:
    fit = c.get("fit")
    if not fit:
        return c["name"]
    text = f"{c['name']}  α={float(fit['alpha']):.2f}"
    if fit.get("r2") is not None:
        text += f"  R²={float(fit['r2']):.2f}"
    return text


def write_curves_csv(path: str | os.PathLike, curves: list[dict]) -> None:
    """Save radial curves (as :func:`clean_curve` returns them) as one wide CSV (layout above)."""
    if not curves:
        raise ValueError("there are no curves to export")
    header: list[str] = []
    columns: list[np.ndarray] = []
    seen: dict[str, int] = {}
    for c in curves:
        name = c["name"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        f = c["freq"]
        cols = [("freq", f), ("power", c["power"])]
        for key in ("spread_db", "spread"):
            if key in c:
                cols.append((key, c[key]))
        fit = c.get("fit")
        if fit:
            f_lo, f_hi = (float(v) for v in fit["band"])
            inside = (f >= f_lo) & (f <= f_hi) & (f > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                fitted = 10.0 ** (
                    float(fit["intercept"]) + fit_slope(fit) * np.log10(np.where(inside, f, 1.0))
                )
            cols.append(("fit", np.where(inside, fitted, np.nan)))
        for key, arr in cols:
            header.append(f"{name} {key}")
            columns.append(arr)
    n = max(len(a) for a in columns)
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in range(n):
            writer.writerow([repr(float(a[row])) if row < len(a) else "nan" for a in columns])
