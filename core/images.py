"""Reading, validating, converting, resizing and saving images.

At the boundaries images are numpy ``uint8`` H×W×3 RGB; masks are ``float32`` H×W in [0, 1].
Inside the engine they are ``float32`` N×C×H×W tensors in [-1, 1]. The conversions live here
and nowhere else.

Reading uses Pillow because it can check the pixel count from the header before decoding
(decompression bombs), honours EXIF rotation, and knows paletted, CMYK, 16-bit and alpha
modes; OpenCV is the fallback for 16-bit colour TIFF/PNG that Pillow cannot hold.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from core.files import atomic_write, atomic_write_bytes, describe_os_error
from core.jobs import GanvasError

#: Largest image we open: 64 megapixels (e.g. 8000×8000). Larger files are refused before decoding.
MAX_PIXELS = 64_000_000

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")


class ImageError(GanvasError):
    """An image that cannot be used, with the file and the problem named."""


@dataclass
class LoadedImage:
    rgb: np.ndarray  # uint8 H×W×3
    path: Path
    notes: list[str] = field(default_factory=list)  # what was converted, for the status bar / log


def read_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read any common image file as RGB uint8, saying what was converted.

    Alpha is composited on white; grey is repeated over RGB; 16-bit is reduced to 8-bit;
    CMYK and paletted images are converted; EXIF orientation is applied.
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise ImageError(f"Cannot open '{name}': the file does not exist.")
    if path.is_dir():
        raise ImageError(f"Cannot open '{name}': it is a folder, not an image.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"Cannot read '{name}': {exc.strerror or exc}.") from exc
    if not data:
        raise ImageError(f"Cannot open '{name}': the file is empty (0 bytes).")
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, with our own message
        try:
            try:
                im = Image.open(io.BytesIO(data))
            except UnidentifiedImageError as exc:
                raise ImageError(
                    f"Cannot open '{name}': not an image file Ganvas can read "
                    f"(supported: PNG, JPEG, WebP, TIFF, BMP, GIF)."
                ) from exc
            except (OSError, SyntaxError, ValueError) as exc:
                raise ImageError(f"Cannot open '{name}': the file is damaged or truncated ({exc}).") from exc
            w, h = im.size
            if w <= 0 or h <= 0:
                raise ImageError(f"Cannot open '{name}': the image has no pixels ({w}×{h}).")
            if w * h > max_pixels:
                raise ImageError(
                    f"Cannot open '{name}': {w}×{h} is {w * h / 1e6:.0f} megapixels, above the limit of "
                    f"{max_pixels / 1e6:.0f} megapixels. Downscale it first."
                )
            try:
                im.load()
            except (OSError, SyntaxError, ValueError) as exc:
                raise ImageError(f"Cannot open '{name}': the file is damaged or truncated ({exc}).") from exc
            try:
                rgb = _pil_to_rgb(im, data, notes)
            except (OSError, SyntaxError, ValueError) as exc:
                raise ImageError(f"Cannot open '{name}': the file is damaged or truncated ({exc}).") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit
    return LoadedImage(rgb=rgb, path=path, notes=notes)


def load_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """RGB uint8 H×W×3 from a file (see :func:`read_image`)."""
    return read_image(path, max_pixels=max_pixels).rgb


def _pil_to_rgb(im: Image.Image, data: bytes, notes: list[str]) -> np.ndarray:
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:  # broken EXIF should not stop us from using the pixels
        orientation = 1
    if orientation not in (0, 1):
        im = ImageOps.exif_transpose(im)
        notes.append("rotated according to EXIF orientation")
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F") or mode.startswith("I;16"):
        arr = np.asarray(im)
        if arr.dtype == np.uint16 or (mode.startswith("I") and arr.max(initial=0) > 255):
            arr = (arr.astype(np.float64) / 257.0).round().clip(0, 255).astype(np.uint8)
            notes.append("16-bit grey reduced to 8-bit")
        elif mode == "F":
            lo, hi = float(arr.min()), float(arr.max())
            arr = ((arr - lo) / (hi - lo + 1e-12) * 255).round().astype(np.uint8)
            notes.append("floating-point image rescaled to 0–255")
        else:
            arr = arr.clip(0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(arr[..., None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info) or (
        mode in ("RGB", "L") and "transparency" in im.info
    ):
        rgba = im.convert("RGBA")
        if np.asarray(rgba)[..., 3].min() < 255:
            notes.append("transparent pixels composited on white")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.array(Image.alpha_composite(white, rgba).convert("RGB"))
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif mode == "P":
        notes.append("paletted image converted to RGB")
    elif mode in ("L", "1"):
        notes.append("grey image repeated over RGB")
    elif mode not in ("RGB",):
        high_depth = _decode_high_depth_with_opencv(data)
        if high_depth is not None:
            notes.append("16-bit colour reduced to 8-bit")
            return high_depth
        notes.append(f"{mode} converted to RGB")
    return np.array(im.convert("RGB"))


def _decode_high_depth_with_opencv(data: bytes) -> np.ndarray | None:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.ndim != 3 or arr.dtype != np.uint16:
        return None
    arr = (arr[..., :3].astype(np.float32) / 257.0).round().astype(np.uint8)
    return np.ascontiguousarray(arr[..., ::-1])


def as_rgb(image: np.ndarray, *, what: str = "image") -> np.ndarray:
    """Accept H×W, H×W×1, H×W×3 or H×W×4 arrays (uint8, uint16 or float in [0, 1]); return uint8 H×W×3."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageError(f"The {what} must be H×W×3 RGB (got an array of shape {arr.shape}).")
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif arr.dtype.kind == "f":
        arr = (np.clip(arr, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        alpha = arr[..., 3:4].astype(np.float32) / 255.0
        arr = (arr[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return np.ascontiguousarray(arr)


def as_mask(mask: np.ndarray, shape: tuple[int, int], *, what: str = "mask") -> np.ndarray:
    """A float32 H×W mask in [0, 1] of exactly ``shape`` (H, W); colour masks use their maximum channel."""
    arr = np.asarray(mask)
    if arr.ndim == 3:
        arr = arr.max(axis=2)
    if arr.ndim != 2:
        raise ImageError(f"The {what} must be a 2-D array (got shape {arr.shape}).")
    if arr.shape != tuple(shape):
        raise ImageError(
            f"The {what} is {arr.shape[1]}×{arr.shape[0]} but the image is {shape[1]}×{shape[0]}; "
            f"they must be the same size."
        )
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.bool_:
        out = arr.astype(np.float32)
    else:
        out = np.clip(arr.astype(np.float32), 0.0, 1.0)
    return out


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area filter when shrinking (no aliasing), bicubic when enlarging."""
    if width <= 0 or height <= 0:
        raise ImageError(f"Cannot resize to {width}×{height}.")
    h, w = image.shape[:2]
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_CUBIC
    return cv2.resize(image, (int(width), int(height)), interpolation=interp)


def centre_square(image: np.ndarray) -> np.ndarray:
    """The largest centred square of an H×W(×C) array (a view), so a resize to a square keeps proportions."""
    h, w = image.shape[:2]
    s = min(h, w)
    return image[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink so the longer side is at most ``max_side``; never enlarge."""
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    s = max_side / max(h, w)
    return resize(image, max(1, round(w * s)), max(1, round(h * s)))


def make_grid(
    images: np.ndarray | list[np.ndarray],
    cols: int = 4,
    pad: int = 2,
    background: int = 255,
    labels: list[str] | None = None,
) -> np.ndarray:
    """Tile same-size images (uint8 RGB or grey) into one RGB image, ``cols`` per row, optionally
    with a caption under each: sample sheets, training previews, contact sheets of a data set."""
    imgs = [np.asarray(im) for im in images]
    if not imgs:
        raise ImageError("A grid needs at least one image.")
    h, w = imgs[0].shape[:2]
    if any(im.shape[:2] != (h, w) for im in imgs):
        sizes = sorted({f"{im.shape[1]}×{im.shape[0]}" for im in imgs})
        raise ImageError(f"All images of a grid must have the same size (got {', '.join(sizes)}).")
    cols = max(1, min(int(cols), len(imgs)))
    rows = (len(imgs) + cols - 1) // cols
    scale = max(0.35, min(h, w) / 256 * 0.6)
    cap = int(22 * scale / 0.6) + 4 if labels else 0
    grid = np.full((pad + rows * (h + cap + pad), pad + cols * (w + pad), 3), background, np.uint8)
    for k, im in enumerate(imgs):
        r, c = divmod(k, cols)
        y, x = pad + r * (h + cap + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = im[..., :3] if im.ndim == 3 else im[..., None]
        if labels and k < len(labels):
            (tw, th), _ = cv2.getTextSize(labels[k], cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            org = (x + max(0, (w - tw) // 2), y + h + (cap + th) // 2)
            cv2.putText(grid, labels[k], org, cv2.FONT_HERSHEY_SIMPLEX, scale, (30, 30, 30), 1, cv2.LINE_AA)
    return grid


def to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 H×W×3 → float32 1×3×H×W in [-1, 1]."""
    rgb = as_rgb(image)
    t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).to(device=device, dtype=torch.float32)
    return (t / 127.5 - 1.0).unsqueeze(0)


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """float N×3×H×W (or 3×H×W) in [-1, 1] → uint8 N×H×W×3 (or H×W×3)."""
    t = tensor.detach()
    single = t.dim() == 3
    if single:
        t = t.unsqueeze(0)
    t = ((t.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    arr = t.permute(0, 2, 3, 1).cpu().numpy()
    return np.ascontiguousarray(arr[0] if single else arr)


def image_hash(image: np.ndarray) -> str:
    """Short content hash of the pixels (shape included), for manifests and model ids."""
    h = hashlib.sha256()
    h.update(str(image.shape).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- saving

#: PNG settings: the default, and for bulk writing (Primitives sets; measured on noise-like images, level 1,
#: RLE strategy, "up" filter: ~2× faster than OpenCV's default, files ~5% larger).
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]
FAST_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
            cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]


def encode_png(image: np.ndarray, metadata: dict[str, object] | None = None, *, fast: bool = False) -> bytes:
    """PNG bytes with ``metadata`` written as text chunks (seed, scale, model id...): the one PNG
    writer. ``fast`` trades ~5 % larger files for twice the speed (:data:`FAST_PNG`). An H×W×4 image
    keeps its alpha (a cut-out stays a cut-out); anything else is written as RGB."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 4:
        a = arr[..., 3]
        alpha = a / 65535.0 if a.dtype == np.uint16 else as_mask(a, a.shape, what="alpha")
        bgra = np.dstack([as_rgb(arr[..., :3])[..., ::-1], np.round(alpha * 255).astype(np.uint8)])
    else:
        bgra = as_rgb(arr)[..., ::-1]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(bgra), FAST_PNG if fast else PNG_PARAMS)
    if not ok:
        raise ImageError("Could not encode the image as PNG.")
    data = buf.tobytes()
    if not metadata:
        return data
    chunks = b"".join(_text_chunk(str(k), str(v)) for k, v in metadata.items())
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature + IHDR length/type/data/crc
    return data[:ihdr_end] + chunks + data[ihdr_end:]


def _text_chunk(key: str, value: str) -> bytes:
    key_b = key.encode("latin-1", "replace")[:79]
    try:
        body, ctype = key_b + b"\x00" + value.encode("latin-1"), b"tEXt"
    except UnicodeEncodeError:  # iTXt carries UTF-8
        body, ctype = key_b + b"\x00\x00\x00\x00\x00" + value.encode("utf-8"), b"iTXt"
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def save_image(path: str | os.PathLike, image: np.ndarray, metadata: dict[str, object] | None = None) -> Path:
    """Save atomically; PNG keeps ``metadata`` as text chunks, JPEG/WebP/TIFF/BMP by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".png" or suffix == "":
            return atomic_write_bytes(path if suffix else path.with_suffix(".png"), encode_png(image, metadata))
        if suffix not in IMAGE_SUFFIXES:
            raise ImageError(f"Cannot save '{path}': unknown image type '{suffix}'. Use .png, .jpg, .webp, .tif or .bmp.")
        rgb = as_rgb(image)
        fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
               ".bmp": "BMP", ".gif": "GIF"}[suffix]
        return atomic_write(path, lambda p: Image.fromarray(rgb).save(p, format=fmt, quality=95))
    except OSError as exc:
        kept = " The file already there is unchanged." if path.exists() else ""
        raise ImageError(f"Cannot write '{path}': {describe_os_error(exc)}.{kept}") from exc


def read_png_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The tEXt/iTXt chunks of a PNG as a dict (empty for other formats)."""
    with Image.open(path) as im:
        return {str(k): str(v) for k, v in getattr(im, "text", {}).items()}


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files in a folder, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"'{folder}' is not a folder.")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


# ---------------------------------------------------------------- RGBA and mask files

def _open_for_pixels(path: str | os.PathLike, what: str) -> Image.Image:
    """A Pillow image of a file, its pixel count checked before decoding, EXIF rotation applied."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"Cannot open {what} '{path}': " + ("it is a folder, not an image."
                                                              if path.is_dir() else "the file does not exist."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise ImageError(f"Cannot open {what} '{path}': {im.size[0]}×{im.size[1]} is above the limit of "
                                 f"{MAX_PIXELS / 1e6:.0f} megapixels.")
            im.load()
            return ImageOps.exif_transpose(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"Cannot open {what} '{path}': not a readable image ({exc}).") from exc


def read_rgba(path: str | os.PathLike) -> np.ndarray:
    """uint8 H×W×4 RGBA of a file (opaque where the file has no alpha): a cut-out to paste."""
    return np.ascontiguousarray(np.asarray(_open_for_pixels(path, "image").convert("RGBA")))


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """float32 H×W in [0, 1] from a mask file: its alpha when it has transparent pixels, else its grey
    level (white = 1), so both a painted mask and a cut-out work."""
    im = _open_for_pixels(path, "mask")
    if "A" in im.getbands():
        alpha = np.asarray(im.getchannel("A"))
        if alpha.min() < 255:
            return alpha.astype(np.float32) / 255.0
    return np.asarray(im.convert("L")).astype(np.float32) / 255.0


# ---------------------------------------------------------------- palettes

def palette_of(image: np.ndarray, k: int = 5, *, seed: int = 0) -> np.ndarray:
    """The ``k`` main colours of an image (k-means in RGB, deterministic): uint8 k×3, darkest first."""
    rgb = as_rgb(image)
    if k < 1:
        raise ImageError(f"A palette needs at least one colour (got {k}).")
    colours = rgb.reshape(-1, 3)
    if len(colours) > 40_000:  # k-means on a fixed subsample: same colours, a fraction of the time
        colours = colours[np.random.default_rng(seed).choice(len(colours), 40_000, replace=False)]
    # distinct colours counted as packed 24-bit integers: a plain integer sort, which (unlike a row-wise
    # unique) lets other threads run, so a palette on a worker does not freeze the window
    packed = (colours[:, 0].astype(np.uint32) << 16) | (colours[:, 1].astype(np.uint32) << 8) | colours[:, 2]
    k = min(k, len(np.unique(packed)))
    pixels = colours.astype(np.float32)
    cv2.setRNGSeed(int(seed))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 0.2)
    _, _, centers = cv2.kmeans(pixels, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    centers = np.clip(np.round(centers), 0, 255).astype(np.uint8)
    return centers[np.argsort(centers.astype(np.int32).sum(axis=1))]


def quantize_to_palette(image: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Every pixel replaced by the nearest palette colour (uint8 H×W×3)."""
    rgb = as_rgb(image)
    pal = np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != 3 or len(pal) == 0:
        raise ImageError(f"The palette must be K×3 RGB colours (got shape {pal.shape}).")
    pal = pal.astype(np.float32)
    flat = rgb.reshape(-1, 3).astype(np.float32)
    dist = (flat * flat).sum(1, keepdims=True) - 2 * flat @ pal.T + (pal * pal).sum(1)[None]
    return np.clip(pal[dist.argmin(axis=1)], 0, 255).astype(np.uint8).reshape(rgb.shape)


# ---------------------------------------------------------------- compositing

def blend(original: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(1 − m)·original + m·generated, rounded to uint8; where m is 0 the original is kept bit for bit."""
    m = mask.astype(np.float32)[..., None]
    out = original.astype(np.float32) * (1.0 - m) + generated.astype(np.float32) * m
    return np.where(m > 0, np.clip(np.round(out), 0, 255), original).astype(np.uint8)


def feather_mask(mask: np.ndarray, dilate_px: float, sigma_px: float) -> np.ndarray:
    """``mask`` (> 0.5 = inside) dilated by a disk of ``dilate_px`` and feathered with a Gaussian of
    ``sigma_px``, scaled so its peak is 1: float32 H×W in [0, 1], exactly 0 beyond the feather so
    pixels far away are left untouched."""
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m.max(axis=2)
    if m.ndim != 2 or 0 in m.shape:
        raise ImageError(f"The mask must be a 2-D array (got shape {m.shape}).")
    if dilate_px < 0 or sigma_px < 0:
        raise ImageError(f"Mask dilation and feather must not be negative (got {dilate_px} px, σ {sigma_px} px).")
    binary = (as_mask(m, m.shape) > 0.5).astype(np.uint8)
    r = int(round(dilate_px))
    if r > 0:
        binary = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    out = binary.astype(np.float32)
    if sigma_px > 0:
        ksize = 2 * int(np.ceil(3 * sigma_px)) + 1
        out = cv2.GaussianBlur(out, (ksize, ksize), sigma_px, borderType=cv2.BORDER_REPLICATE)
        out[out < 1e-4] = 0.0  # no faint halo over the whole image
    peak = float(out.max())
    return np.clip(out / peak, 0.0, 1.0) if peak > 0 else out


def inpaint(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The region ``mask`` > 0.5 filled from its surroundings (OpenCV Telea, radius 5 px): the hole a
    moved selection leaves, for the generator to re-texture."""
    rgb = as_rgb(image)
    m = as_mask(mask, rgb.shape[:2])
    return cv2.inpaint(rgb, (m > 0.5).astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)
