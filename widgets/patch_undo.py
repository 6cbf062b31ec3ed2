"""Undo for raster edits that stores only the changed rectangle (before and after crops).

A brush stroke on a 4K layer touches a few thousand pixels; keeping whole copies of the layer per
step would cost ~33 MB each. Like BallonsTranslator's drawing commands, each step keeps the
stroke's bounding box twice, and undo/redo paste one or the other back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter, QUndoCommand


def paste(target: QImage, top_left_rect: QRect, patch: QImage) -> None:
    """Copy ``patch`` into ``target`` at ``rect`` verbatim (alpha included, no blending)."""
    p = QPainter(target)
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
    p.drawImage(top_left_rect.topLeft(), patch)
    p.end()


class PatchCommand(QUndoCommand):
    """One undo step: ``rect`` of ``target`` goes from ``before`` to ``after``.

    The change is usually already on ``target`` when the command is pushed; the first ``redo``
    (called by ``QUndoStack.push``) pastes ``after`` again, which changes nothing.
    ``on_change(rect)`` is called after every undo/redo so the view can refresh and emit signals.
    """

    def __init__(
        self,
        text: str,
        target: QImage,
        rect: QRect,
        before: QImage,
        after: QImage,
        on_change: Callable[[QRect], None],
    ) -> None:
        super().__init__(text)
        self._target = target
        self._rect = QRect(rect)
        self._before = before
        self._after = after
        self._on_change = on_change

    def redo(self) -> None:
        paste(self._target, self._rect, self._after)
        self._on_change(self._rect)

    def undo(self) -> None:
        paste(self._target, self._rect, self._before)
        self._on_change(self._rect)


def smooth_path_points(points, path) -> None:
    """Append a smooth curve through ``points`` (QPointF) to an empty QPainterPath.

    Uses the midpoint trick: each input point becomes the control point of a quadratic segment
    between the midpoints of its neighbouring segments, so mouse jitter does not show as corners.
    """
    if not points:
        return
    path.moveTo(points[0])
    if len(points) == 1:
        path.lineTo(points[0])
        return
    for a, b in zip(points[:-1], points[1:]):
        path.quadTo(a, (a + b) / 2.0)
    path.lineTo(points[-1])
