"""Image input real users have: formats, modes, rotation, broken files, huge files."""

import numpy as np
import pytest
from PIL import Image

from core.images import (
    ImageError,
    as_mask,
    make_grid,
    read_image,
    read_png_metadata,
    save_image,
    to_tensor,
    to_uint8,
)


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif", ".bmp"])
def test_formats_load_as_rgb(tmp_path, rgb, suffix):
    path = tmp_path / f"img{suffix}"
    Image.fromarray(rgb).save(path)
    out = read_image(path).rgb
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    if suffix in (".png", ".tif", ".bmp"):
        assert np.array_equal(out, rgb)


def test_non_ascii_path(tmp_path, rgb):
    path = tmp_path / "café ☕ 写真.png"
    Image.fromarray(rgb).save(path)
    assert np.array_equal(read_image(path).rgb, rgb)


def test_grey_16bit_paletted_alpha_cmyk(tmp_path):
    grey16 = (np.arange(20 * 30, dtype=np.uint16).reshape(20, 30) * 100)
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    loaded = read_image(tmp_path / "g16.png")
    assert loaded.rgb.shape == (20, 30, 3)
    assert loaded.rgb[..., 0].max() > 200  # rescaled, not clipped to 255 everywhere
    assert any("16-bit" in n for n in loaded.notes)

    Image.fromarray(np.full((8, 8), 77, np.uint8)).save(tmp_path / "g.png")
    assert (read_image(tmp_path / "g.png").rgb == 77).all()

    Image.new("RGB", (8, 8), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    assert tuple(read_image(tmp_path / "p.png").rgb[0, 0]) == (10, 200, 30)

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:4, :, 3] = 255  # top half opaque red, bottom transparent
    Image.fromarray(rgba).save(tmp_path / "a.png")
    loaded = read_image(tmp_path / "a.png")
    assert tuple(loaded.rgb[0, 0]) == (255, 0, 0) and tuple(loaded.rgb[7, 0]) == (255, 255, 255)
    assert any("white" in n for n in loaded.notes)

    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    r, g, b = read_image(tmp_path / "c.jpg").rgb[4, 4].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_exif_rotation_is_honoured(tmp_path):
    img = Image.fromarray(np.zeros((10, 20, 3), np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "r.jpg", exif=exif)
    loaded = read_image(tmp_path / "r.jpg")
    assert loaded.rgb.shape == (20, 10, 3)
    assert any("EXIF" in n for n in loaded.notes)


def test_bad_files_name_the_file_and_problem(tmp_path, rgb):
    with pytest.raises(ImageError, match="does not exist"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.png.*empty"):
        read_image(tmp_path / "empty.png")
    (tmp_path / "notes.png").write_text("hello, not an image")
    with pytest.raises(ImageError, match="not an image"):
        read_image(tmp_path / "notes.png")
    Image.fromarray(rgb).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg.*(damaged|truncated)"):
        read_image(tmp_path / "cut.jpg")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


def test_decompression_bomb_refused_before_decoding(tmp_path):
    Image.new("L", (4000, 3000)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="megapixels"):
        read_image(tmp_path / "big.png", max_pixels=1_000_000)


def test_png_metadata_round_trip(tmp_path, rgb):
    path = save_image(tmp_path / "out.png", rgb, {"seed": 42, "model_id": "abc", "note": "ünïcode"})
    meta = read_png_metadata(path)
    assert meta["seed"] == "42" and meta["model_id"] == "abc" and meta["note"] == "ünïcode"
    assert np.array_equal(read_image(path).rgb, rgb)


def test_tensor_round_trip(rgb):
    t = to_tensor(rgb)
    assert t.shape == (1, 3, 20, 30) and -1 <= t.min() and t.max() <= 1
    assert np.array_equal(to_uint8(t)[0], rgb)


def test_mask_of_wrong_size_is_named():
    with pytest.raises(ImageError, match="mask is 5×4 but the image is 30×20"):
        as_mask(np.zeros((4, 5), np.float32), (20, 30))
    m = as_mask(np.full((20, 30), 255, np.uint8), (20, 30))
    assert m.dtype == np.float32 and m.max() == 1.0


def test_make_grid_tiles_rows_and_captions():
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (5, 16, 24, 3), dtype=np.uint8)
    grid = make_grid(imgs, cols=3, pad=2)
    assert grid.shape == (2 + 2 * 18, 2 + 3 * 26, 3)
    assert np.array_equal(grid[2:18, 2:26], imgs[0]) and np.array_equal(grid[20:36, 28:52], imgs[4])
    assert (grid[20:36, 54:78] == 255).all()  # the empty sixth cell is background
    assert make_grid(list(imgs[:2]), cols=8).shape == (20, 2 + 2 * 26, 3)  # never wider than the images
    labelled = make_grid(imgs, cols=3, labels=["a"] * 5)
    assert labelled.shape[0] > grid.shape[0] and labelled.shape[1] == grid.shape[1]
    grey = make_grid(imgs[:2, :, :, 0], cols=2)  # H×W grey images tile as RGB
    assert np.array_equal(grey[2:18, 2:26, 1], imgs[0, :, :, 0])


def test_make_grid_says_what_is_wrong():
    with pytest.raises(ImageError, match="at least one"):
        make_grid([])
    with pytest.raises(ImageError, match="same size.*16×8"):
        make_grid([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 16, 3), np.uint8)])


def test_release_free_memory_is_safe_to_call_anywhere():
    from core.malloc import release_free_memory

    assert release_free_memory() in (True, False)  # False where the C library is not glibc


def test_a_cut_out_saved_as_png_keeps_its_alpha(tmp_path, rgb):
    # the README's harmonization figure pasted a round cut-out as a square: saving dropped the alpha
    from core.images import read_mask, read_rgba

    h, w = rgb.shape[:2]
    alpha = np.zeros((h, w), np.uint8)
    alpha[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 255
    path = save_image(tmp_path / "cutout.png", np.dstack([rgb, alpha]), {"seed": 1})
    back = read_rgba(path)
    assert np.array_equal(back[..., 3], alpha) and np.array_equal(back[..., :3][alpha > 0], rgb[alpha > 0])
    assert np.array_equal(read_mask(path) > 0.5, alpha > 0)
    assert read_png_metadata(path)["seed"] == "1"
    assert read_rgba(save_image(tmp_path / "plain.png", rgb))[..., 3].min() == 255  # RGB stays opaque
