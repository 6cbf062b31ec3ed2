"""The Spectrum-analysis view: a 2-D log spectrum next to radial power profiles on log-log axes.

It draws what it is given and computes nothing heavy: the app runs ``core.spectrum`` in a
worker and passes the arrays in. The conventions are those of ``core/spectrum/__init__.py``:

* 2-D spectra are centred (``np.fft.fftshift`` layout, DC at ``[H//2, W//2]``); pixel ``(i, j)``
  sits at ``fy = (i - H//2)/H``, ``fx = (j - W//2)/W`` cycles/px. Row 0 is drawn at the top, as
  in the image, so the fy axis grows downwards.
* Radial curves are power against frequency (cycles/px); points with ``f <= 0`` or
  ``power <= 0`` (the DC bin) are left out of the log-log plot.
* A fit dict gives ``alpha`` (the *amplitude* exponent, as in ``PowerLawFit.alpha_amplitude``),
  ``intercept`` (log10 power at 1 cycle/px), ``band`` and ``r2``; the line drawn is
  ``log10 P = intercept + slope * log10 f`` with ``slope = fit.get("slope", -2 * alpha)``.
* A curve's spread is either ``"spread_db"`` (standard deviation in dB, as
  ``RadialProfile.spread_db``: band ``P * 10**(±s/10)``) or ``"spread"`` (standard deviation in
  power units: band ``P ± s``, its lower edge clipped to ``P / 10`` so it stays on the log axis).

CSV export (:meth:`SpectrumView.export_csv`): see :func:`widgets.spectrum_curves.write_curves_csv`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from widgets.spectrum_curves import (
    LogAxis,
    clean_curve,
    fit_slope,
    legend_text,
    sci,
    write_curves_csv,
)

PLOT_BG = "#1b1d21"
PLOT_FG = "#b8bcc4"
CURVE_COLORS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#4db6ac", "#f06292")
PEAK_COLOR = "#00e5ff"
#: (value emitted in optionsChanged, text shown); values are core.spectrum's channel names.
CHANNELS = (("luma", "Luma"), ("r", "Red"), ("g", "Green"), ("b", "Blue"), ("mean", "Mean RGB"))


class SpectrumView(QWidget):
    """2-D log spectrum with colour bar and peak marks, radial profiles with power-law fits.

    Signals:
        optionsChanged(dict): ``{"window": bool, "residual": bool, "channel": str}`` after any
            toggle; the app recomputes and calls :meth:`set_spectrum` / :meth:`set_curves`.
        exported(str): a file was written through the export buttons (its path).
    """

    optionsChanged = Signal(dict)
    exported = Signal(str)

    def __init__(self, parent: QWidget | None = None, colormap: str = "inferno") -> None:
        super().__init__(parent)
        self._curves: list[dict] = []
        self._curve_items: list[pg.GraphicsObject] = []
        self._peaks: list[tuple[float, float, float]] = []
        self._spectrum: np.ndarray | None = None
        self._last_dir = ""
        self._unit = "dB"

        # ---- toolbar
        self.window_check = QCheckBox("Hann window")
        self.window_check.setChecked(True)
        self.window_check.setToolTip("Taper the image edges before the FFT (less leakage into a cross)")
        self.residual_check = QCheckBox("Residual")
        self.residual_check.setToolTip(
            "Analyse the high-pass residual, where generator artefacts show as dots"
        )
        self.channel_combo = QComboBox()
        for value, text in CHANNELS:
            self.channel_combo.addItem(text, value)
        self.channel_combo.setToolTip("Which channel of the image to analyse")
        self.busy_label = QLabel("computing…")
        self.busy_label.setStyleSheet(f"color: {PLOT_FG}; font-style: italic;")
        self.busy_label.setVisible(False)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.setToolTip("Save both plots as one picture")
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("Save the radial profiles (and fits) as a table")
        for w in (self.window_check, self.residual_check):
            w.toggled.connect(self._emit_options)
        self.channel_combo.currentIndexChanged.connect(self._emit_options)
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button.clicked.connect(self._ask_csv)

        bar = QHBoxLayout()
        bar.setSpacing(10)
        bar.addWidget(self.window_check)
        bar.addWidget(self.residual_check)
        bar.addWidget(QLabel("Channel"))
        bar.addWidget(self.channel_combo)
        bar.addStretch(1)
        bar.addWidget(self.busy_label)

        # ---- plots: the 2-D spectrum (peak table under it) and the radial profiles
        self.image_widget = pg.PlotWidget(background=PLOT_BG)
        self.radial_widget = pg.PlotWidget(
            background=PLOT_BG, axisItems={"bottom": LogAxis("bottom"), "left": LogAxis("left")}
        )
        self.image_plot: pg.PlotItem = self.image_widget.getPlotItem()
        self.radial_plot: pg.PlotItem = self.radial_widget.getPlotItem()
        for plot in (self.image_plot, self.radial_plot):
            plot.setMenuEnabled(False, True)
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(PLOT_FG)
                ax.setTextPen(PLOT_FG)
                ax.enableAutoSIPrefix(False)  # cycles/px stay cycles/px, never "(x0.001)"

        ip = self.image_plot
        ip.setAspectLocked(True)
        ip.invertY(True)
        ip.setLabel("bottom", "fx (cycles/px)", color=PLOT_FG)
        ip.setLabel("left", "fy (cycles/px)", color=PLOT_FG)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        ip.addItem(self.image_item)
        ip.setRange(xRange=(-0.5, 0.5), yRange=(-0.5, 0.5), padding=0.02)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get(colormap), label="power (dB)", width=14, pen=PLOT_FG
        )
        for key in ("left", "right", "top", "bottom"):
            self.colorbar.getAxis(key).setPen(PLOT_FG)
            self.colorbar.getAxis(key).setTextPen(PLOT_FG)
        self.colorbar.setImageItem(self.image_item, insert_in=ip)
        self._hint = pg.TextItem("no spectrum yet", color=PLOT_FG, anchor=(0.5, 0.5))
        ip.addItem(self._hint)
        self._hint.setPos(0, 0)
        self.peak_marks = pg.ScatterPlotItem(
            symbol="o", size=16, pen=pg.mkPen(PEAK_COLOR, width=1.5), brush=None, pxMode=True
        )
        self.peak_twins = pg.ScatterPlotItem(
            symbol="o", size=16, pen=pg.mkPen(PEAK_COLOR, width=1, style=Qt.PenStyle.DotLine), brush=None
        )
        self.peak_focus = pg.ScatterPlotItem(
            symbol="o", size=26, pen=pg.mkPen("#ffffff", width=2), brush=None
        )
        for item in (self.peak_twins, self.peak_marks, self.peak_focus):
            item.setZValue(10)
            ip.addItem(item)

        rp = self.radial_plot
        rp.showGrid(x=True, y=True, alpha=0.15)
        rp.getAxis("bottom").setLogMode(True)
        rp.getAxis("left").setLogMode(True)
        rp.setLabel("bottom", "frequency (cycles/px)", color=PLOT_FG)
        rp.setLabel("left", "power", color=PLOT_FG)
        rp.setRange(xRange=(-2.5, math.log10(0.5)), yRange=(-6.0, 2.0), padding=0.02)
        # Bottom left: power spectra fall with frequency, so on log-log axes that corner stays empty
        # (at the top the legend hid the curves' low-frequency end). Residual spectra are flat, and
        # there no corner is always empty: the legend may cover a curve's lowest bins.
        self.legend = rp.addLegend(offset=(8, -8), labelTextColor=PLOT_FG, brush=pg.mkBrush(27, 29, 33, 210))

        # ---- crosshairs and read-out
        cross_pen = pg.mkPen(color=(220, 220, 220, 110), width=1)
        self._cross = {}
        for plot in (self.image_plot, self.radial_plot):
            v = pg.InfiniteLine(angle=90, movable=False, pen=cross_pen)
            h = pg.InfiniteLine(angle=0, movable=False, pen=cross_pen)
            for line in (v, h):
                line.setVisible(False)
                line.setZValue(20)
                plot.addItem(line, ignoreBounds=True)
            self._cross[plot] = (v, h)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long read-outs never widen the dock
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.readout.setFont(mono)
        self.image_widget.scene().sigMouseMoved.connect(self._mouse_moved)
        self.radial_widget.scene().sigMouseMoved.connect(self._mouse_moved)

        # ---- peaks table
        self.peak_table = QTableWidget(0, 5)
        self.peak_table.setHorizontalHeaderLabels(["fx", "fy", "|f|", "period (px)", "strength"])
        self.peak_table.verticalHeader().setVisible(False)
        self.peak_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.peak_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.peak_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.peak_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.peak_table.setMaximumHeight(118)
        self.peak_table.setVisible(False)
        self.peak_table.currentCellChanged.connect(self._focus_peak)

        # ---- assemble: the "figure" is what export_png saves
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.image_widget, 1)
        left_layout.addWidget(self.peak_table)
        self.figure = QSplitter(Qt.Orientation.Horizontal)
        self.figure.addWidget(left)
        self.figure.addWidget(self.radial_widget)
        self.figure.setStretchFactor(0, 1)
        self.figure.setStretchFactor(1, 1)
        self.figure.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.figure, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.readout, 1)
        bottom.addWidget(self.png_button)
        bottom.addWidget(self.csv_button)
        layout.addLayout(bottom)

    def resizeEvent(self, event) -> None:
        """Plots side by side when there is room, stacked in a narrow dock."""
        wide = event.size().width() >= 1.3 * event.size().height() or event.size().width() >= 700
        self.figure.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        super().resizeEvent(event)

    # ---- options ------------------------------------------------------------------------------
    def options(self) -> dict:
        """The current toggles: ``{"window": bool, "residual": bool, "channel": "luma"|"r"|"g"|"b"|"mean"}``."""
        return {
            "window": self.window_check.isChecked(),
            "residual": self.residual_check.isChecked(),
            "channel": self.channel_combo.currentData(),
        }

    def set_options(self, options: dict) -> None:
        """Show these options without emitting optionsChanged (the app is the source of truth)."""
        widgets = (self.window_check, self.residual_check, self.channel_combo)
        for w in widgets:
            w.blockSignals(True)
        try:
            if "window" in options:
                self.window_check.setChecked(bool(options["window"]))
            if "residual" in options:
                self.residual_check.setChecked(bool(options["residual"]))
            if "channel" in options:
                i = self.channel_combo.findData(str(options["channel"]).lower())
                if i < 0:
                    raise ValueError(
                        f"unknown channel {options['channel']!r}; use one of luma, r, g, b, mean"
                    )
                self.channel_combo.setCurrentIndex(i)
        finally:
            for w in widgets:
                w.blockSignals(False)

    def _emit_options(self, *_args) -> None:
        self.optionsChanged.emit(self.options())

    def set_busy(self, busy: bool) -> None:
        """Dim the plots and say 'computing…' while the app recomputes."""
        self.busy_label.setVisible(bool(busy))
        for plot in (self.image_plot, self.radial_plot):
            plot.vb.setOpacity(0.45 if busy else 1.0)

    def is_busy(self) -> bool:
        return self.busy_label.isVisibleTo(self)

    # ---- 2-D spectrum -------------------------------------------------------------------------
    def set_spectrum(self, log_mag: np.ndarray, title: str = "", unit: str = "dB") -> None:
        """Show a centred log spectrum (float H×W; DC at ``[H//2, W//2]``)."""
        spec = np.asarray(log_mag)
        if spec.ndim != 2 or spec.shape[0] < 2 or spec.shape[1] < 2:
            raise ValueError(f"the spectrum must be a 2-D array (got shape {spec.shape})")
        spec = np.ascontiguousarray(spec, dtype=np.float32)
        self._spectrum = spec
        h, w = spec.shape
        sample = spec[:: max(1, h // 256), :: max(1, w // 256)]
        finite = sample[np.isfinite(sample)]
        lo, hi = np.percentile(finite, [1.0, 99.9]) if finite.size else (0.0, 1.0)
        if not hi > lo:
            hi = lo + 1.0
        self.image_item.setImage(spec, levels=(float(lo), float(hi)), autoLevels=False)
        # Pixel centres land on k/N: the left edge is half a bin before -(W//2)/W.
        self.image_item.setRect(QRectF(-(w // 2 + 0.5) / w, -(h // 2 + 0.5) / h, 1.0, 1.0))
        self.colorbar.setLevels((float(lo), float(hi)))
        self._unit = unit
        self.colorbar.getAxis("left").setLabel(f"power ({unit})" if unit else "", color=PLOT_FG)
        self.image_plot.setTitle(title or None, color=PLOT_FG)
        self._hint.setVisible(False)
        self.image_plot.setRange(xRange=(-0.5, 0.5), yRange=(-0.5, 0.5), padding=0.02)

    def spectrum(self) -> np.ndarray | None:
        return self._spectrum

    # ---- peaks --------------------------------------------------------------------------------
    def set_peaks(self, peaks: list[tuple[float, float, float]]) -> None:
        """Mark periodic peaks ``(fx, fy, strength)`` (cycles/px) and list them; their mirror
        images ``(-fx, -fy)`` (the conjugate half of a real image's spectrum) get dotted marks."""
        self._peaks = [(float(fx), float(fy), float(s)) for fx, fy, s in peaks]
        pts = np.array([(fx, fy) for fx, fy, _ in self._peaks], dtype=np.float64).reshape(-1, 2)
        self.peak_marks.setData(pos=pts)
        self.peak_twins.setData(pos=-pts)
        self.peak_focus.setData(pos=np.empty((0, 2)))
        t = self.peak_table
        t.blockSignals(True)
        t.setRowCount(len(self._peaks))
        for row, (fx, fy, s) in enumerate(self._peaks):
            r = math.hypot(fx, fy)
            cells = (f"{fx:+.4f}", f"{fy:+.4f}", f"{r:.4f}", f"{1 / r:.2f}" if r > 0 else "∞", f"{s:.1f}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                t.setItem(row, col, item)
        t.blockSignals(False)
        t.setVisible(bool(self._peaks))

    def peaks(self) -> list[tuple[float, float, float]]:
        return list(self._peaks)

    def _focus_peak(self, row: int, *_args) -> None:
        if 0 <= row < len(self._peaks):
            fx, fy, _ = self._peaks[row]
            self.peak_focus.setData(pos=np.array([[fx, fy]]))
        else:
            self.peak_focus.setData(pos=np.empty((0, 2)))

    # ---- radial curves ------------------------------------------------------------------------
    def set_curves(self, curves: list[dict]) -> None:
        """Replace the radial profiles. Each dict: ``name``, ``freq`` (cycles/px), ``power``, optional
        ``spread_db`` or ``spread``, optional ``fit`` (see the module docstring)."""
        cleaned = [clean_curve(c) for c in curves]
        self.clear_curves()
        self._curves = cleaned
        rp = self.radial_plot
        for i, c in enumerate(cleaned):
            color = pg.mkColor(CURVE_COLORS[i % len(CURVE_COLORS)])
            f, p = c["freq"], c["power"]
            ok = np.isfinite(f) & np.isfinite(p) & (f > 0) & (p > 0)
            lx, ly = np.log10(f[ok]), np.log10(p[ok])
            band = self._band(c, ok)
            if band is not None:
                lo, hi = band
                upper, lower = pg.PlotCurveItem(lx, hi), pg.PlotCurveItem(lx, lo)
                fill_color = pg.mkColor(color)
                fill_color.setAlpha(55)
                fill = pg.FillBetweenItem(upper, lower, brush=pg.mkBrush(fill_color))
                fill._keep = (upper, lower)  # the fill reads their paths; keep them alive
                rp.addItem(fill)
                self._curve_items.append(fill)
            line = pg.PlotCurveItem(lx, ly, pen=pg.mkPen(color, width=2), antialias=True)
            rp.addItem(line)
            self._curve_items.append(line)
            self.legend.addItem(line, legend_text(c))
            fit = c.get("fit")
            if fit:
                f_lo, f_hi = (float(v) for v in fit["band"])
                if f_lo > 0 and f_hi > f_lo:
                    fx = np.log10([f_lo, f_hi])
                    fy = float(fit["intercept"]) + fit_slope(fit) * fx
                    pen = pg.mkPen(color.lighter(135), width=1.5, style=Qt.PenStyle.DashLine)
                    fit_line = pg.PlotCurveItem(fx, fy, pen=pen)
                    fit_line.setZValue(5)
                    rp.addItem(fit_line)
                    self._curve_items.append(fit_line)
        rp.enableAutoRange()

    @staticmethod
    def _band(c: dict, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        p = c["power"][ok]
        if "spread_db" in c:
            s = np.nan_to_num(c["spread_db"][ok], nan=0.0) / 10.0
            return np.log10(p) - s, np.log10(p) + s
        if "spread" in c:
            s = np.nan_to_num(c["spread"][ok], nan=0.0)
            return np.log10(np.maximum(p - s, p / 10.0)), np.log10(p + s)
        return None

    def clear_curves(self) -> None:
        for item in self._curve_items:
            self.radial_plot.removeItem(item)
        self._curve_items.clear()
        self.legend.clear()
        self._curves = []

    def curves(self) -> list[dict]:
        """The curves shown (validated float64 copies)."""
        return list(self._curves)

    def legend_labels(self) -> list[str]:
        return [label.text for _sample, label in self.legend.items]

    # ---- read-out -----------------------------------------------------------------------------
    def _mouse_moved(self, pos: QPointF) -> None:
        scene = self.sender()
        hit = None
        for plot in (self.image_plot, self.radial_plot):
            inside = (scene is None or plot.scene() is scene) and plot.vb.sceneBoundingRect().contains(pos)
            v, h = self._cross[plot]
            v.setVisible(inside)
            h.setVisible(inside)
            if inside:
                hit = plot
                pt = plot.vb.mapSceneToView(pos)
                v.setPos(pt.x())
                h.setPos(pt.y())
        if hit is None:
            return
        pt = hit.vb.mapSceneToView(pos)
        if hit is self.radial_plot:
            self.readout.setText(self.radial_readout(10 ** pt.x(), 10 ** pt.y()))
        else:
            self.readout.setText(self.spectrum_readout(pt.x(), pt.y()))

    def radial_readout(self, f: float, p: float) -> str:
        """'f = 0.123 cyc/px (8.1 px), P = 1.2e-3 │ photo 1.1e-3 …' — each curve's power at f."""
        text = f"f = {f:.3g} cyc/px ({1 / f:.3g} px), P = {sci(p)}"
        parts = []
        for c in self._curves[:4]:
            fr, pw = c["freq"], c["power"]
            ok = (fr > 0) & (pw > 0) & np.isfinite(pw)
            if ok.sum() >= 2 and fr[ok][0] <= f <= fr[ok][-1]:
                val = 10 ** np.interp(math.log10(f), np.log10(fr[ok]), np.log10(pw[ok]))
                parts.append(f"{c['name']} {sci(float(val))}")
        return text + ("  │  " + "   ".join(parts) if parts else "")

    def spectrum_readout(self, fx: float, fy: float) -> str:
        """'fx = +0.123, fy = -0.050 cyc/px, |f| = 0.133 (7.5 px), -42.1 dB' at a point of the 2-D view."""
        r = math.hypot(fx, fy)
        text = f"fx = {fx:+.3f}, fy = {fy:+.3f} cyc/px, |f| = {r:.3f}"
        if r > 0:
            text += f" ({1 / r:.3g} px)"
        if self._spectrum is not None:
            h, w = self._spectrum.shape
            j, i = int(round(fx * w + w // 2)), int(round(fy * h + h // 2))
            if 0 <= i < h and 0 <= j < w:
                text += f", {self._spectrum[i, j]:.1f} {self._unit}".rstrip()
        return text

    # ---- export -------------------------------------------------------------------------------
    def export_png(self, path: str | os.PathLike) -> None:
        """Save the plots (and the peak table when shown) as they look now."""
        if self.figure.width() < 50 or self.figure.height() < 50:
            self.resize(max(self.width(), 900), max(self.height(), 450))
            self.layout().activate()
        crosshairs = [line for pair in self._cross.values() for line in pair if line.isVisible()]
        for line in crosshairs:  # the mouse's crosshair is not part of the figure
            line.setVisible(False)
        try:
            pm = self.figure.grab()
        finally:
            for line in crosshairs:
                line.setVisible(True)
        if pm.isNull() or not pm.save(str(path), "PNG"):
            raise OSError(f"could not write the picture to {path}")

    def export_csv(self, path: str | os.PathLike) -> None:
        """Save the radial curves as one wide CSV (:func:`~widgets.spectrum_curves.write_curves_csv`)."""
        write_curves_csv(path, self._curves)

    def _ask_png(self) -> None:
        self._ask_and_export("Export spectrum picture", "spectrum.png", "PNG images (*.png)", self.export_png)

    def _ask_csv(self) -> None:
        if not self._curves:
            QMessageBox.information(self, "Export CSV", "There are no radial profiles to export yet.")
            return
        self._ask_and_export("Export radial profiles", "spectrum.csv", "CSV tables (*.csv)", self.export_csv)

    def _ask_and_export(self, caption: str, default: str, filters: str, write) -> None:
        start = str(Path(self._last_dir) / default) if self._last_dir else default
        path, _ = QFileDialog.getSaveFileName(self, caption, start, filters)
        if not path:
            return
        self._last_dir = str(Path(path).parent)
        try:
            write(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, caption, f"Could not save {path}:\n{exc}")
            return
        self.exported.emit(path)
