"""images.py: every input type and odd mode becomes an allowed upload, masks follow the API's convention."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from image_widget.facts.capabilities import MB, sniff_format
from image_widget.images import (
    MAX_INPUT_PIXELS,
    ImageInputError,
    ImageInputWarning,
    decode_image,
    load_image,
    mask_from_png,
    prepare_images,
    prepare_mask,
    sha256,
    thumbnail_bytes,
    to_upload,
    warn_if_transparent,
)
from support.images import decode, encode, noise

# Any ImageInputWarning a test does not expect fails it.
pytestmark = pytest.mark.filterwarnings("error::image_widget.images.ImageInputWarning")

RED, BLUE = (255, 0, 0), (0, 0, 255)


def decoded(upload: tuple[str, bytes, str]) -> Image.Image:
    return decode(upload[1])


def assert_consistent(upload: tuple[str, bytes, str], fmt: str) -> None:
    """Name, content type and the real bytes all say the same format."""
    name, data, ctype = upload
    assert sniff_format(data) == fmt
    assert ctype == f"image/{fmt}"
    assert name.endswith("." + ("jpg" if fmt == "jpeg" else fmt))


def two_colour(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Left half red, right half blue: shows which way an image was turned."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def png_with_header_size(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims another size (Pillow checks bombs from the header alone)."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = bytearray(data[12:29])  # type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


# ---------------------------------------------------------------------------------------------- input types


def test_pil_image_becomes_png_upload() -> None:
    upload = to_upload(two_colour())
    assert upload[0] == "image.png"
    assert_consistent(upload, "png")
    assert decoded(upload).getpixel((0, 0)) == RED


def test_pil_image_from_jpeg_stays_jpeg() -> None:
    img = decode(encode(two_colour(), "JPEG"))
    assert_consistent(to_upload(img), "jpeg")


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_allowed_bytes_are_sent_unchanged(fmt: str) -> None:
    data = encode(two_colour(), fmt.upper())
    upload = to_upload(data)
    assert upload[1] == data
    assert_consistent(upload, fmt)


def test_bytearray_memoryview_and_file_tuple() -> None:
    data = encode(two_colour(), "PNG")
    assert to_upload(bytearray(data))[1] == data
    assert to_upload(memoryview(data))[1] == data  # type: ignore[arg-type]
    assert to_upload(("anything.bin", data, "application/octet-stream"))[1] == data


def test_paths_as_str_and_path_ignore_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"  # really a JPEG
    data = encode(two_colour(), "JPEG")
    path.write_bytes(data)
    for src in (path, str(path)):
        upload = to_upload(src)
        assert upload[1] == data
        assert_consistent(upload, "jpeg")


@pytest.mark.parametrize(
    ("array", "mode", "pixel"),
    [
        (np.full((4, 6), 200, np.uint8), "L", 200),
        (np.full((4, 6, 1), 200, np.uint8), "L", 200),
        (np.full((4, 6, 2), (10, 128), np.uint8), "RGBA", (10, 10, 10, 128)),
        (np.full((4, 6, 3), (10, 20, 30), np.uint8), "RGB", (10, 20, 30)),
        (np.full((4, 6, 4), (10, 20, 30, 255), np.uint8), "RGBA", (10, 20, 30, 255)),
        (np.full((4, 6), 30000, np.uint16), "L", 117),  # 30000 / 257 = 116.7
        (np.full((4, 6, 3), 65535, np.uint16), "RGB", (255, 255, 255)),
        (np.full((4, 6), 0.5, np.float32), "L", 128),
        (np.full((4, 6, 3), (1.0, 0.0, 0.25), np.float64), "RGB", (255, 0, 64)),
        (np.ones((4, 6), bool), "L", 255),
        (np.full((4, 6), 77, np.int64), "L", 77),
    ],
)
def test_arrays_convert_by_dtype_and_shape(array: np.ndarray, mode: str, pixel: object) -> None:
    img = load_image(array)
    assert img.mode == mode
    assert img.size == (6, 4)
    assert img.getpixel((0, 0)) == pixel
    assert_consistent(to_upload(array), "png")


def test_float_array_in_0_255_is_accepted_with_warning() -> None:
    with pytest.warns(ImageInputWarning, match="read as 0..255"):
        img = load_image(np.full((2, 2), 200.0))
    assert img.getpixel((0, 0)) == 200


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.full((2, 2), -0.5), "float values"),
        (np.full((2, 2), np.nan), "NaN"),
        (np.zeros((2, 2, 5), np.uint8), "shape"),
        (np.zeros((0, 3), np.uint8), "shape"),
        (np.zeros((2, 2), complex), "dtype"),
        (np.full((2, 2), 70000, np.int32), "integer values"),
    ],
)
def test_bad_arrays_are_refused(array: np.ndarray, match: str) -> None:
    with pytest.raises(ImageInputError, match=match):
        load_image(array, param="image[3]")
    with pytest.raises(ImageInputError, match=r"image\[3\]"):
        load_image(array, param="image[3]")


def test_unsupported_type_is_refused() -> None:
    with pytest.raises(ImageInputError, match="image is a int"):
        to_upload(42)  # type: ignore[arg-type]


def test_load_image_returns_a_copy_not_the_callers_image() -> None:
    img = two_colour()
    out = load_image(img)
    assert out is not img
    out.putpixel((0, 0), BLUE)
    assert img.getpixel((0, 0)) == RED


# ---------------------------------------------------------------------------------------------- EXIF and modes


def jpeg_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(two_colour((40, 20)), "JPEG", exif=exif, quality=95)


def test_exif_orientation_6_is_applied_and_re_encoded_with_warning() -> None:
    with pytest.warns(ImageInputWarning, match="EXIF orientation 6") as record:
        upload = to_upload(jpeg_with_orientation(6))
    assert len(record) == 1
    assert record[0].filename == __file__  # points at the caller, not inside image_widget
    assert_consistent(upload, "jpeg")
    img = decoded(upload)
    assert img.size == (20, 40)  # was 40 wide, 20 high; turned 90° clockwise
    assert close(img.getpixel((10, 5)), RED)  # the left (red) half is now on top
    assert close(img.getpixel((10, 35)), BLUE)
    assert img.getexif().get(ExifTags.Base.Orientation) in (None, 1)


def test_load_image_is_upright_without_warning() -> None:
    img = load_image(jpeg_with_orientation(6))
    assert img.size == (20, 40)
    assert close(img.getpixel((10, 5)), RED)


def test_orientation_1_jpeg_is_sent_without_its_exif_and_not_re_encoded() -> None:
    data = jpeg_with_orientation(1)
    sent = to_upload(data)[1]
    assert b"Exif" in data
    assert b"Exif" not in sent
    assert sent.endswith(data[data.index(b"\xff\xda"):])  # the compressed pixels, byte for byte
    with Image.open(io.BytesIO(sent)) as a, Image.open(io.BytesIO(data)) as b:
        assert a.tobytes() == b.tobytes()


def test_gps_location_never_leaves_in_an_upload() -> None:
    exif = Image.Exif()
    exif[0x8825] = {2: (48.0, 51.0, 24.0), 1: "N"}  # GPSInfo: latitude
    exif[0x010F] = "CameraMaker"
    data = encode(Image.new("RGB", (32, 32), RED), "JPEG", exif=exif, quality=90)
    assert b"CameraMaker" in data
    sent = to_upload(data)[1]
    assert b"CameraMaker" not in sent
    with Image.open(io.BytesIO(sent)) as img:
        assert not img.getexif()


def test_metadata_stripping_leaves_other_formats_and_odd_files_alone() -> None:
    from image_widget.images import strip_private_metadata

    png = encode(Image.new("RGB", (8, 8), RED), "PNG")
    assert strip_private_metadata(png) == png
    assert strip_private_metadata(b"\xff\xd8\x00garbage") == b"\xff\xd8\x00garbage"


def test_cmyk_jpeg_becomes_rgb_with_warning() -> None:
    data = encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")
    with pytest.warns(ImageInputWarning, match="CMYK converted to RGB"):
        upload = to_upload(data)
    img = decoded(upload)
    assert_consistent(upload, "jpeg")
    assert img.mode == "RGB"
    assert close(img.getpixel((4, 4)), RED)


def test_16_bit_png_is_scaled_to_8_bit() -> None:
    data = encode(Image.fromarray(np.array([[0, 65535], [30000, 257]], np.uint16)), "PNG")
    assert decode(data).mode == "I;16"
    with pytest.warns(ImageInputWarning, match="scaled to 8-bit"):
        upload = to_upload(data)
    img = decoded(upload)
    assert img.mode == "L"
    assert np.asarray(img).tolist() == [[0, 255], [117, 1]]


def test_mode_i_with_small_values_is_read_as_8_bit() -> None:
    with pytest.warns(ImageInputWarning, match="scaled to 8-bit"):
        img = load_image(Image.new("I", (2, 2), 200))
    assert img.getpixel((0, 0)) == 200


def test_palette_png_with_transparency_becomes_rgba() -> None:
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0])
    pal.putpixel((0, 0), 0)
    data = encode(pal, "PNG", transparency=0)
    img = load_image(data)
    assert img.mode == "RGBA"
    assert img.getpixel((0, 0))[3] == 0
    assert img.getpixel((1, 1)) == (255, 0, 0, 255)


def test_la_becomes_rgba_and_1_becomes_l() -> None:
    la = load_image(Image.new("LA", (2, 2), (100, 40)))
    assert la.mode == "RGBA"
    assert la.getpixel((0, 0)) == (100, 100, 100, 40)
    bilevel = load_image(Image.new("1", (2, 2), 1))
    assert bilevel.mode == "L"
    assert bilevel.getpixel((0, 0)) == 255


def test_animated_gif_uses_first_frame_and_becomes_png() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, BLUE, (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with pytest.warns(ImageInputWarning) as record:
        upload = to_upload(data)
    message = str(record[0].message)
    assert "first frame" in message
    assert "GIF is not accepted" in message
    assert_consistent(upload, "png")
    assert decoded(upload).convert("RGB").getpixel((4, 4)) == RED


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_formats_not_allowed_are_re_encoded_as_png(fmt: str) -> None:
    data = encode(two_colour(), fmt)
    with pytest.warns(ImageInputWarning, match=f"{fmt} is not accepted"):
        upload = to_upload(data)
    assert_consistent(upload, "png")
    assert decoded(upload).getpixel((0, 0)) == RED


def test_allowed_png_only_re_encodes_a_jpeg_as_png() -> None:
    with pytest.warns(ImageInputWarning, match="JPEG is not accepted"):
        upload = to_upload(encode(two_colour(), "JPEG"), allowed=("png",))
    assert_consistent(upload, "png")


def test_jpg_in_allowed_means_jpeg() -> None:
    data = encode(two_colour(), "JPEG")
    assert to_upload(data, allowed=("jpg",))[1] == data


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', "is an SVG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF"),
        (b"", "is empty"),
        (b"this is not an image at all", "not a recognised image"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "cannot be decoded"),
    ],
)
def test_unusable_bytes_name_the_parameter(data: bytes, match: str) -> None:
    good = encode(two_colour(), "PNG")
    with pytest.raises(ImageInputError, match=match) as info:
        prepare_images([good, data])
    assert str(info.value).startswith("image[1] ")
    assert "allowed: png, webp, jpeg images" in str(info.value)


def test_truncated_image_is_an_error() -> None:
    data = encode(noise((64, 64)), "PNG")
    with pytest.raises(ImageInputError, match=r"image\[0\] is a PNG that cannot be decoded"):
        prepare_images([data[: len(data) // 2]])
    jpeg = encode(noise((64, 64)), "JPEG")
    with pytest.raises(ImageInputError, match="truncated"):
        to_upload(jpeg[: len(jpeg) // 2])


def test_missing_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(ImageInputError, match="file not found") as info:
        to_upload(missing, param="image[2]")
    assert str(missing) in str(info.value)
    assert str(info.value).startswith("image[2]")


def test_url_is_not_a_path() -> None:
    with pytest.raises(ImageInputError, match="is a URL"):
        to_upload("https://example.com/cat.png")


def test_image_count_limits() -> None:
    data = encode(two_colour(), "PNG")
    with pytest.raises(ImageInputError, match="at most 2"):
        prepare_images([data, data, data], max_images=2)
    with pytest.raises(ImageInputError, match="at least one"):
        prepare_images([])


# ---------------------------------------------------------------------------------------------- size limits


def test_10000x10000_image_is_downscaled_with_warning() -> None:
    limit_before = Image.MAX_IMAGE_PIXELS
    data = encode(Image.new("L", (10_000, 10_000), 90), "JPEG", quality=80)
    with pytest.warns(ImageInputWarning, match=r"downscaled 10000x10000 \(100 MP\)") as record:
        upload = to_upload(data)
    assert len(record) == 1
    img = decoded(upload)
    assert img.width == img.height
    assert MAX_INPUT_PIXELS * 0.99 <= img.width * img.height <= MAX_INPUT_PIXELS
    assert limit_before == Image.MAX_IMAGE_PIXELS  # nothing was changed globally


def test_absurd_pixel_count_is_refused_clearly() -> None:
    with pytest.raises(ImageInputError, match="too large to decode safely"):
        to_upload(png_with_header_size(20_000, 20_000))


def test_over_limit_opaque_png_becomes_jpeg_with_warning() -> None:
    data = encode(noise((256, 256)), "PNG")
    limit = len(data) // 2
    with pytest.warns(ImageInputWarning, match="over the .* limit: re-encoded as JPEG") as record:
        upload = to_upload(data, max_bytes=limit)
    assert "KB" in str(record[0].message)
    assert_consistent(upload, "jpeg")
    assert len(upload[1]) < limit


def test_over_limit_with_alpha_keeps_alpha_as_webp() -> None:
    img = noise((256, 256), "RGBA")
    data = encode(img, "PNG")
    with pytest.warns(ImageInputWarning, match="WEBP"):
        upload = to_upload(data, max_bytes=len(data) // 2)
    assert_consistent(upload, "webp")
    assert decoded(upload).mode == "RGBA"


def test_over_limit_png_only_is_downscaled() -> None:
    data = encode(noise((256, 256)), "PNG")
    with pytest.warns(ImageInputWarning, match=r"downscaled 256x256 → ") as record:
        upload = to_upload(data, max_bytes=60_000, allowed=("png",))
    assert "re-encoded as PNG" in str(record[0].message)
    assert_consistent(upload, "png")
    assert len(upload[1]) < 60_000
    assert decoded(upload).width < 256


def test_impossible_limit_is_an_error() -> None:
    with pytest.raises(ImageInputError, match="cannot be made smaller"):
        to_upload(noise((64, 64)), max_bytes=100)


# ---------------------------------------------------------------------------------------------- transparency


def test_transparent_first_image_warns() -> None:
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 255))
    img.putpixel((0, 0), (0, 0, 0, 0))
    with pytest.warns(ImageInputWarning, match=r"image\[0\]: has transparent pixels"):
        uploads = prepare_images([img, img])  # only the first one is checked
    assert len(uploads) == 2
    assert uploads[0][0] == "image-0.png"
    assert uploads[1][0] == "image-1.png"


def test_opaque_rgba_and_later_transparent_images_do_not_warn() -> None:
    transparent = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    prepare_images([Image.new("RGBA", (8, 8), (1, 2, 3, 255)), transparent])
    warn_if_transparent(Image.new("RGB", (2, 2)), "image")


def test_single_input_is_named_image() -> None:
    [upload] = prepare_images(two_colour())
    assert upload[0] == "image.png"


# ---------------------------------------------------------------------------------------------- masks


def mask_alpha(upload: tuple[str, bytes, str]) -> np.ndarray:
    img = decoded(upload)
    assert img.mode == "RGBA"
    assert_consistent(upload, "png")
    assert upload[0] == "mask.png"
    return np.asarray(img)


def test_rgba_mask_alpha_is_used_as_is() -> None:
    mask = Image.new("RGBA", (8, 8), (255, 255, 255, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 4, 8))  # left half transparent = edit
    pixels = mask_alpha(prepare_mask(mask, (8, 8)))
    assert (pixels[:, :4, 3] == 0).all()
    assert (pixels[:, 4:, 3] == 255).all()
    assert (pixels[:, :, :3] == 0).all()  # RGB black


def test_bool_array_true_means_edit() -> None:
    edit = np.zeros((8, 8), bool)
    edit[2:4, 2:4] = True
    alpha = mask_alpha(prepare_mask(edit, (8, 8)))[:, :, 3]
    assert (alpha[2:4, 2:4] == 0).all()
    assert int((alpha == 0).sum()) == 4
    assert set(np.unique(alpha).tolist()) == {0, 255}


def test_greyscale_white_means_edit_and_alpha_is_strictly_binary() -> None:
    grey = np.tile(np.arange(256, dtype=np.uint8), (4, 1))  # 4x256 ramp
    alpha = mask_alpha(prepare_mask(grey, (256, 4)))[:, :, 3]
    assert set(np.unique(alpha).tolist()) == {0, 255}
    assert (alpha[:, 128:] == 0).all()  # grey >= 128 = edit
    assert (alpha[:, :128] == 255).all()


def test_soft_alpha_is_thresholded_at_128() -> None:
    ramp = np.zeros((2, 256, 4), np.uint8)
    ramp[:, :, 3] = np.arange(256)
    alpha = mask_alpha(prepare_mask(ramp, (256, 2)))[:, :, 3]
    assert (alpha[:, :128] == 0).all()
    assert (alpha[:, 128:] == 255).all()


def test_mask_is_resized_to_the_first_image_with_nearest() -> None:
    edit = np.zeros((2, 4), bool)
    edit[:, :2] = True
    with pytest.warns(ImageInputWarning, match=r"4x2 scaled \(same shape\) to 64x32"):
        alpha = mask_alpha(prepare_mask(edit, (64, 32)))[:, :, 3]
    assert alpha.shape == (32, 64)
    assert (alpha[:, :32] == 0).all()
    assert (alpha[:, 32:] == 255).all()


def test_mask_marking_nothing_is_an_error() -> None:
    with pytest.raises(ImageInputError, match="mask marks nothing to edit"):
        prepare_mask(np.zeros((8, 8), bool), (8, 8))
    with pytest.raises(ImageInputError, match="transparent"):
        prepare_mask(Image.new("RGBA", (8, 8), (255, 255, 255, 255)), (8, 8))


def test_big_mask_stays_under_4_mb_and_too_big_is_an_error() -> None:
    edit = np.zeros((2048, 2048), bool)
    edit[500:1500, 300:1800] = True
    upload = prepare_mask(edit, (2048, 2048))
    assert len(upload[1]) < 4 * MB
    rng = np.random.default_rng(1)
    with pytest.raises(ImageInputError, match="must be under"):
        prepare_mask(rng.random((256, 256)) > 0.5, (256, 256), max_bytes=1000)


def test_mask_from_png_reads_the_widgets_mask() -> None:
    painted = Image.new("RGBA", (8, 8), (0, 0, 0, 255))
    painted.paste((0, 0, 0, 0), (0, 0, 8, 4))
    mask = mask_from_png(encode(painted, "PNG"))
    alpha = np.asarray(mask)[:, :, 3]
    assert mask.mode == "RGBA"
    assert (alpha[:4] == 0).all()
    assert (alpha[4:] == 255).all()
    empty = mask_from_png(encode(Image.new("RGBA", (4, 4), (0, 0, 0, 255)), "PNG"))
    assert empty.size == (4, 4)


# ---------------------------------------------------------------------------------------------- outputs


def test_decode_image_loads_png_and_first_gif_frame() -> None:
    img = decode_image(encode(two_colour(), "PNG"))
    assert img.size == (40, 20)
    assert img.getpixel((0, 0)) == RED
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, BLUE)]
    gif = decode_image(encode(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    assert gif.tell() == 0
    assert gif.convert("RGB").getpixel((0, 0)) == RED


def test_decode_image_refuses_svg_and_corrupt_data() -> None:
    with pytest.raises(ImageInputError, match="SVG"):
        decode_image(b"<?xml version='1.0'?><svg/>")
    with pytest.raises(ImageInputError, match="cannot be decoded"):
        decode_image(b"\xff\xd8\xff" + b"\x00" * 20)


def test_thumbnail_is_small_jpeg_or_png_with_alpha() -> None:
    thumb = thumbnail_bytes(encode(noise((800, 400)), "PNG"))
    assert sniff_format(thumb) == "jpeg"
    assert decode(thumb).size == (160, 80)
    assert len(thumb) < 20_000
    rgba = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    thumb = thumbnail_bytes(rgba, max_side=64)
    assert sniff_format(thumb) == "png"
    assert decode(thumb).size == (64, 64)
    assert decode(thumbnail_bytes(jpeg_with_orientation(6))).size == (20, 40)


def test_sha256_is_hex_digest() -> None:
    assert sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_decode_once_never_hands_back_a_smaller_draft_than_asked() -> None:
    """Inside `decode_once` a JPEG drafted small (a thumbnail's budget) is decoded again for a caller that
    asks for more pixels; one drafted for at least as many is shared."""
    from image_widget.images import loading

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), "red").save(buffer, "JPEG")
    data = buffer.getvalue()
    with loading.decode_once():
        small = loading.load(data, "image", ("jpeg",), 200 * 150)
        assert small.image.size[0] < 1600  # drafted
        again = loading.load(data, "image", ("jpeg",), 100 * 75)
        assert again.image is small.image  # drafted for more pixels than now asked: shared
        bigger = loading.load(data, "image", ("jpeg",), 800 * 600)
        assert bigger.image.size[0] > small.image.size[0]  # not the small draft: decoded again
        full = loading.load(data, "image", ("jpeg",), None)
        assert full.image.size == (1600, 1200)
        assert loading.load(data, "image", ("jpeg",), 200 * 150).image is full.image  # full serves everyone
