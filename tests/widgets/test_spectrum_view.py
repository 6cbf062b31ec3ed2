"""SpectrumView: a real spectrum and radial profiles go in; legend, read-out, exports and toggles come out."""

import csv

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from widgets.spectrum_curves import log_tick_label, sci
from widgets.spectrum_view import SpectrumView


def _spectrum_and_profile(img: np.ndarray):
    """Centred dB spectrum and radial power profile of the luma, with plain numpy (no core)."""
    luma = img.astype(np.float64).mean(axis=2) / 255.0
    luma -= luma.mean()
    h, w = luma.shape
    power = np.abs(np.fft.fftshift(np.fft.fft2(luma))) ** 2 / (h * w)
    db = (10 * np.log10(power + 1e-12)).astype(np.float32)
    fy, fx = np.meshgrid((np.arange(h) - h // 2) / h, (np.arange(w) - w // 2) / w, indexing="ij")
    ring = np.round(np.hypot(fx, fy) * max(h, w)).astype(int)
    n = max(h, w) // 2
    sums = np.bincount(ring.ravel(), power.ravel(), minlength=n + 1)[1 : n + 1]
    counts = np.bincount(ring.ravel(), minlength=n + 1)[1 : n + 1]
    freq = np.arange(1, n + 1) / max(h, w)
    return db, freq, sums / counts


@pytest.fixture
def view(qtbot):
    v = SpectrumView()
    qtbot.addWidget(v)
    v.resize(900, 420)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def curves(photo):
    db, freq, power = _spectrum_and_profile(photo)
    slope, intercept = np.polyfit(np.log10(freq[2:]), np.log10(power[2:]), 1)
    fit = {"alpha": -slope / 2, "intercept": intercept, "band": (freq[2], freq[-1]), "r2": 0.97}
    noise = np.random.default_rng(0).random((32, 48, 3)) * 255
    _, nfreq, npower = _spectrum_and_profile(noise)
    return db, [
        {"name": "photo", "freq": freq, "power": power, "spread_db": np.full_like(power, 1.5), "fit": fit},
        {"name": "noise", "freq": nfreq[:10], "power": npower[:10], "spread": None, "fit": None},
    ]


def test_legend_names_curves_with_fitted_alpha(view, curves):
    db, cs = curves
    view.set_spectrum(db, "coffee")
    cs[0]["fit"]["alpha"] = 1.02
    view.set_curves(cs)
    labels = view.legend_labels()
    assert labels[0] == "photo  α=1.02  R²=0.97"
    assert labels[1] == "noise"
    view.set_curves(cs[1:])
    assert view.legend_labels() == ["noise"]
    view.clear_curves()
    assert view.legend_labels() == [] and view.curves() == []


def test_exported_csv_loads_back_with_same_numbers(view, curves, tmp_path):
    db, cs = curves
    view.set_curves(cs)
    path = tmp_path / "profiles.csv"
    view.export_csv(path)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], np.array(rows[1:], dtype=float)
    assert header == [
        "photo freq",
        "photo power",
        "photo spread_db",
        "photo fit",
        "noise freq",
        "noise power",
    ]
    assert len(body) == len(cs[0]["freq"])  # the longest curve sets the row count
    assert np.array_equal(body[:, 0], cs[0]["freq"]) and np.array_equal(body[:, 1], cs[0]["power"])
    assert np.array_equal(body[:10, 5], cs[1]["power"]) and np.isnan(body[10:, 4:]).all()
    fit = cs[0]["fit"]
    expected = 10 ** (fit["intercept"] - 2 * fit["alpha"] * np.log10(cs[0]["freq"][5]))
    assert body[5, 3] == pytest.approx(expected) and np.isnan(body[0, 3])


def test_export_png_writes_a_picture(view, curves, tmp_path):
    db, cs = curves
    view.set_spectrum(db)
    view.set_curves(cs)
    path = tmp_path / "spectrum.png"
    view.export_png(path)
    img = QImage(str(path))
    assert not img.isNull() and img.width() > 300
    gray = np.array(
        [[img.pixelColor(x, y).value() for x in range(0, img.width(), 7)] for y in range(0, img.height(), 7)]
    )
    assert gray.std() > 10  # not a blank picture


def test_toggles_emit_options(qtbot, view):
    assert view.options() == {"window": True, "residual": False, "channel": "luma"}
    with qtbot.waitSignal(view.optionsChanged) as blocker:
        qtbot.mouseClick(view.residual_check, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert blocker.args == [{"window": True, "residual": True, "channel": "luma"}]
    with qtbot.waitSignal(view.optionsChanged) as blocker:
        view.channel_combo.setCurrentIndex(view.channel_combo.findData("r"))
    assert blocker.args[0]["channel"] == "r"
    with qtbot.assertNotEmitted(view.optionsChanged):
        view.set_options({"window": False, "channel": "B"})
    assert view.options() == {"window": False, "residual": True, "channel": "b"}


def test_peaks_marked_and_listed(view, curves):
    db, _ = curves
    view.set_spectrum(db)
    view.set_peaks([(0.25, 0.0, 30.9), (0.125, 0.25, 12.0)])
    assert view.peak_table.rowCount() == 2 and view.peak_table.isVisibleTo(view)
    assert view.peak_table.item(0, 3).text() == "4.00"  # period in pixels
    assert len(view.peak_marks.data) == 2
    view.set_peaks([])
    assert not view.peak_table.isVisibleTo(view)


def test_readouts_and_busy(qtbot, view, curves):
    db, cs = curves
    view.set_spectrum(db)
    view.set_curves(cs)
    text = view.radial_readout(0.125, 1.2e-3)
    assert text.startswith("f = 0.125 cyc/px (8 px), P = 1.2e-3") and "photo" in text
    h, w = db.shape
    assert view.spectrum_readout(0.0, 0.0).endswith(f"{db[h // 2, w // 2]:.1f} dB")
    # a real mouse move over the radial plot updates the read-out
    center = view.radial_plot.vb.sceneBoundingRect().center()
    pos = view.radial_widget.mapFromScene(center)
    qtbot.mouseMove(view.radial_widget.viewport(), pos)
    qtbot.waitUntil(lambda: view.readout.text().startswith("f = "), timeout=2000)
    view.set_busy(True)
    assert view.is_busy()
    view.set_busy(False)
    assert not view.is_busy()


def test_number_formats():
    assert sci(1.2e-3) == "1.2e-3" and sci(0.046) == "0.046" and sci(3.3) == "3.3"
    assert log_tick_label(0.01) == "0.01" and log_tick_label(1e-5) == "10⁻⁵" and log_tick_label(100) == "100"


def test_rejects_bad_input(view):
    with pytest.raises(ValueError, match="2-D"):
        view.set_spectrum(np.zeros(5))
    with pytest.raises(ValueError, match="power"):
        view.set_curves([{"name": "x", "freq": np.arange(3.0), "power": np.arange(4.0)}])
