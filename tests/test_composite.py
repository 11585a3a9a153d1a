"""Edits that hold: outside the mask (plus the feather) the saved result is the original, bit for bit.

The emulator leaks like the real models (pixels outside the mask change a little), so each test here
can tell the raw API image from the composite. `size="match"` and detail edits are here too.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import image_widget as iw
from image_widget.emulator import Emulator
from image_widget.facts.capabilities import ValidationError
from image_widget.facts.table import MODELS, PERMISSIVE
from image_widget.images.composite import feather_weight, hold
from image_widget.images.geometry import detail_box, match_size
from support.images import decode, photo

FIXED = "gpt-image-2.6-flare"  # standard sizes only, no announced shutdown
CUSTOM = "gpt-image-2"  # any WxH in multiples of 16


@pytest.fixture
def opts(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": "sk-test-composite", "store": tmp_path}


def box_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """True (edit) inside `box` = (x0, y0, x1, y1), x1/y1 excluded."""
    mask = np.zeros((size[1], size[0]), dtype=bool)
    mask[box[1]:box[3], box[0]:box[2]] = True
    return mask


def grown(mask: np.ndarray, by: int) -> np.ndarray:
    """`mask` grown by `by` px in every direction (Chebyshev distance), as the feather reaches."""
    rows = mask.copy()
    for shift in range(1, by + 1):
        rows[shift:] |= mask[:-shift]
        rows[:-shift] |= mask[shift:]
    out = rows.copy()
    for shift in range(1, by + 1):
        out[:, shift:] |= rows[:, :-shift]
        out[:, :-shift] |= rows[:, shift:]
    return out


def png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB")).astype(int)


def saved(result: iw.Result) -> Image.Image:
    """The result as it is on disk (what a person opens), not the in-memory copy."""
    return decode(result.paths[0].read_bytes())


def test_outside_mask_and_feather_the_saved_result_is_the_original(emulator: Emulator, opts: dict[str, Any]) -> None:
    source = photo((640, 480))
    mask = box_mask(source.size, (200, 150, 360, 300))
    result = iw.edit(source, "a red scarf", mask=mask, model=CUSTOM, **opts)
    out, before = pixels(saved(result)), pixels(source)
    outside = ~grown(mask, 8)
    assert out.shape == before.shape  # brought back to the input's exact size
    assert (out[outside] == before[outside]).all()
    assert np.abs(out[mask] - before[mask]).mean() > 40  # the edit itself is there
    record = result.record
    assert record["composite"] == {"feather": 8, "keep_unmasked": True}
    assert record["format"] == "png"  # lossless, so held pixels stay exact
    # The API's own image is on disk too, linked from the record, and it leaked outside the mask.
    raw = decode(Path(record["raw_path"]).read_bytes())
    assert raw.size == (1152, 864)  # size="match": 4:3 on the model's grid, at about 1 MP
    raw_back = pixels(raw.resize(source.size, Image.Resampling.NEAREST))[outside]
    assert (raw_back != before[outside]).any(axis=-1).mean() > 0.9
    assert Path(record["raw_path"]).parent.name == "raw"
    assert [stored.id for stored in iw.History(opts["store"])] == [record["id"]]  # the raw one is no history item


def test_a_composited_image_that_cannot_be_decoded_is_kept_with_its_record(tmp_path: Path) -> None:
    """Paid for but unreadable (a PNG cut short): saved as it came, in the history, and the error
    comes back in place of the image, as on the plain path."""
    from image_widget.client.finish import Finish, finish_and_save
    from image_widget.images import ImageInputError
    from image_widget.store import Store

    base = photo((64, 48))
    finish = Finish(base=base, box=(0, 0, 64, 48), edit=Image.new("L", (64, 48), 255), feather=8,
                    keep_unmasked=True, masked=True)
    broken = png_bytes(base)[:40]  # the signature and part of the header: nothing to decode
    record: dict[str, Any] = {"prompt": "a red scarf", "note": None}
    path, image = finish_and_save(finish, Store(tmp_path), broken, "png", record)
    assert isinstance(image, ImageInputError)
    assert path.read_bytes() == broken == Path(record["raw_path"]).read_bytes()
    [stored] = list(iw.History(tmp_path))
    assert "could not be decoded" in stored.record["note"]


def test_the_same_raw_bytes_are_stored_once(tmp_path: Path) -> None:
    """raw/ is content-addressed: two results of the same API bytes link one raw/<sha256>.png."""
    import hashlib

    from image_widget.client.finish import Finish, finish_and_save
    from image_widget.store import Store

    base = photo((64, 48))
    finish = Finish(base=base, box=(0, 0, 64, 48), edit=Image.new("L", (64, 48), 255), feather=8,
                    keep_unmasked=True, masked=True)
    api_bytes = png_bytes(photo((64, 48), shift=30))
    disk = Store(tmp_path)
    first: dict[str, Any] = {"prompt": "a", "note": None}
    second: dict[str, Any] = {"prompt": "b", "note": None}
    finish_and_save(finish, disk, api_bytes, "png", first)
    finish_and_save(finish, disk, api_bytes, "png", second)
    assert first["raw_path"] == second["raw_path"]
    assert [p.name for p in (tmp_path / "raw").iterdir()] == [f"{hashlib.sha256(api_bytes).hexdigest()}.png"]
    assert len(list(iw.History(tmp_path))) == 2


def test_keep_unmasked_false_keeps_the_leak(opts: dict[str, Any]) -> None:
    source = photo((512, 512))
    mask = box_mask(source.size, (100, 100, 200, 200))
    result = iw.edit(source, "a red scarf", mask=mask, keep_unmasked=False, model=CUSTOM, **opts)
    out, before = pixels(saved(result)), pixels(source)
    outside = ~grown(mask, 8)
    diff = np.abs(out[outside] - before[outside])
    assert (diff.max(axis=-1) > 0).mean() > 0.9  # the model's changes outside the mask are kept
    assert diff.max() <= 6  # …and they are small, as with the real models
    assert result.record["composite"] == {"feather": 8, "keep_unmasked": False}


def test_feather_zero_is_a_hard_edge_and_the_feather_blends(opts: dict[str, Any]) -> None:
    source = photo((512, 512))
    mask = box_mask(source.size, (128, 128, 256, 256))
    hard = pixels(saved(iw.edit(source, "paint", mask=mask, feather=0, model=CUSTOM, **opts)))
    before = pixels(source)
    assert (hard[~mask] == before[~mask]).all()  # 0 px: nothing outside the mask changes
    soft_result = iw.edit(source, "paint", mask=mask, feather=16, model=CUSTOM, **opts)
    soft = pixels(saved(soft_result))
    assert (soft[mask] == hard[mask]).all()  # inside the mask: the model's pixels in both
    band = grown(mask, 16) & ~mask
    assert (soft[~grown(mask, 16)] == before[~grown(mask, 16)]).all()
    near, far = soft[190, 258], soft[190, 270]  # 2 px and 14 px right of the mask's edge
    original = before[190, 258]
    assert np.abs(near - original).sum() > np.abs(far - before[190, 270]).sum()  # fades out
    assert band.sum() > 0
    assert (soft[band] != before[band]).any()


def test_transparent_original_and_jpeg_output(opts: dict[str, Any]) -> None:
    source = photo((256, 256)).convert("RGBA")
    alpha = np.full((256, 256), 255, dtype=np.uint8)
    alpha[:, :32] = 0  # a transparent strip, far from the mask
    source.putalpha(Image.fromarray(alpha))
    mask = box_mask(source.size, (128, 128, 192, 192))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the API reads transparency as a mask: warned, and meant here
        result = iw.edit(source, "paint", mask=mask, output_format="jpeg", model=CUSTOM, **opts)
    out = saved(result)
    assert out.mode == "RGBA"
    outside = ~grown(mask, 8)
    assert (np.asarray(out)[outside] == np.asarray(source)[outside]).all()  # alpha held too
    assert Path(result.record["raw_path"]).suffix == ".jpg"  # the API's own image keeps its format


@pytest.mark.parametrize(("model", "size", "expected"), [
    (CUSTOM, (1200, 900), "1216x912"),  # 4:3 exactly, on the 16-px grid
    (CUSTOM, (1536, 1024), "1536x1024"),
    (CUSTOM, (256, 256), "1024x1024"),  # small inputs at about 1 MP
    (CUSTOM, (1080, 1920), "1088x1936"),
    (CUSTOM, (4000, 3000), "2176x1632"),  # large ones up to 2560x1440's pixels (not experimental)
    (CUSTOM, (7766, 7737), "1920x1920"),  # never a closer aspect above that: experimental, and dearer
    (CUSTOM, (5000, 1000), "3312x1104"),  # 5:1 → the closest allowed, 3:1
    (FIXED, (1200, 900), "1536x1024"),
    (FIXED, (900, 1200), "1024x1536"),
    (FIXED, (1000, 1000), "1024x1024"),
    ("gpt-image-2.5-flare", (1600, 900), "1648x928"),
])
def test_match_size_is_the_allowed_size_nearest_the_aspect(model: str, size: tuple[int, int], expected: str) -> None:
    assert match_size(MODELS[model].sizes, size) == expected


def test_match_size_never_picks_an_experimental_size() -> None:
    rule = MODELS[CUSTOM].sizes
    for width in range(1000, 8001, 250):
        for height in range(1000, 8001, 250):
            w, h = (int(v) for v in match_size(rule, (width, height)).split("x"))
            assert w * h <= rule.experimental_above_pixels, (width, height, w, h)


def test_match_size_for_a_model_the_table_does_not_know() -> None:
    assert match_size(PERMISSIVE.sizes, (1200, 900)) == "1200x900"


def test_size_match_is_the_default_with_a_mask_and_results_come_back_at_the_input_size(
        emulator: Emulator, opts: dict[str, Any]) -> None:
    source = photo((1200, 900))
    mask = box_mask(source.size, (10, 10, 50, 50))
    custom = iw.edit(source, "a hat", mask=mask, model=CUSTOM, **opts)
    fixed = iw.edit(source, "a hat", mask=mask, model=FIXED, **opts)
    sent = [entry.params["size"] for entry in emulator.log if entry.endpoint == "edit"]
    assert sent == ["1216x912", "1536x1024"]
    assert custom.images[0].size == fixed.images[0].size == (1200, 900)
    assert decode(Path(fixed.record["raw_path"]).read_bytes()).size == (1536, 1024)
    # Without a mask, size="match" still brings the result back to the input's size.
    plain = iw.edit(source, "a hat", size="match", model=FIXED, **opts)
    assert plain.images[0].size == (1200, 900)
    assert plain.record["composite"] is None


@pytest.mark.parametrize("as_path", [False, True])
def test_a_lined_up_edit_decodes_its_input_once(opts: dict[str, Any], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, as_path: bool) -> None:
    """The upload and the finish both need the first image: one decode serves both (a 4K PNG is ~100 ms)."""
    from image_widget.images import loading

    buffer = io.BytesIO()
    photo((1200, 900)).save(buffer, "PNG")
    data = buffer.getvalue()
    path = tmp_path / "input.png"
    path.write_bytes(data)
    decoded: list[bytes] = []
    real = loading.decode_bytes

    def counting(raw: bytes, *args: Any) -> Any:
        decoded.append(raw)
        return real(raw, *args)

    monkeypatch.setattr(loading, "decode_bytes", counting)
    source: Any = path if as_path else data
    result = iw.edit(source, "a hat", mask=box_mask((1200, 900), (10, 10, 50, 50)), model=FIXED, **opts)
    assert result.images[0].size == (1200, 900)  # lined up: the finish had the original
    assert sum(raw == data for raw in decoded) == 1
    # Outside an edit, nothing is remembered: the same bytes are read again.
    decoded.clear()
    loading.load_image(data)
    assert decoded == [data]


def test_detail_edit_sends_a_padded_crop_and_pastes_it_back_in_place(emulator: Emulator,
                                                                   opts: dict[str, Any]) -> None:
    source = photo((2000, 1500))
    area = (1400, 300, 1560, 420)
    mask = box_mask(source.size, area)
    result = iw.edit(source, "a small bird", mask=mask, detail=True, model=CUSTOM, **opts)
    box = result.record["detail_box"]
    x0, y0, x1, y1 = box
    assert x0 <= area[0] - 32
    assert y0 <= area[1] - 32
    assert x1 >= area[2] + 32
    assert y1 >= area[3] + 32
    assert (x1 - x0) * (y1 - y0) < source.width * source.height / 10  # far fewer pixels sent
    sent = next(entry for entry in emulator.log if entry.endpoint == "edit")
    w, h = (int(v) for v in sent.params["size"].split("x"))
    assert abs(w / h - (x1 - x0) / (y1 - y0)) < 0.02  # edited at the crop's own aspect
    out, before = pixels(saved(result)), pixels(source)
    assert out.shape == before.shape
    outside = ~grown(mask, 8)
    assert (out[outside] == before[outside]).all()
    changed = np.argwhere(np.abs(out - before).sum(axis=-1) > 30)
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    # The edit landed on the mask: it covers it, and reaches at most into the feather around it.
    assert area[0] - 8 <= left <= area[0]
    assert area[1] - 8 <= top <= area[1]
    assert area[2] <= right + 1 <= area[2] + 8
    assert area[3] <= bottom + 1 <= area[3] + 8
    assert (np.abs(out[mask] - before[mask]).sum(axis=-1) > 30).mean() > 0.95
    # The crop the model got was cut from the right place: its unmasked part is the original's there.
    raw = decode(Path(result.record["raw_path"]).read_bytes()).convert("RGB").resize((x1 - x0, y1 - y0))
    crop_mask = mask[y0:y1, x0:x1]
    assert np.abs(pixels(raw)[~grown(crop_mask, 4)] - before[y0:y1, x0:x1][~grown(crop_mask, 4)]).mean() < 8
    # The record names the original image and mask, so the call reproduces (not the crop).
    assert "detail=True" in result.code
    again = iw.rerun(result.record["id"], store=opts["store"], base_url=opts["base_url"], api_key=opts["api_key"])
    assert again.record["detail_box"] == box
    assert (pixels(again.images[0]) == out).all()


def test_detail_box_grows_to_the_aspect_inside_the_image() -> None:
    assert detail_box((100, 100, 200, 150), (2000, 1000), 8) == (68, 68, 232, 182)
    grown_box = detail_box((100, 100, 200, 150), (2000, 1000), 8, aspect=1.5)
    assert grown_box == (65, 68, 236, 182)
    at_edge = detail_box((0, 0, 40, 40), (300, 300), 8, aspect=2.0)
    assert at_edge[0] == 0
    assert at_edge[1] == 0
    assert at_edge[2] - at_edge[0] == 2 * (at_edge[3] - at_edge[1])


def test_bad_options_are_refused_before_any_request(emulator: Emulator, opts: dict[str, Any]) -> None:
    source = photo((128, 128))
    mask = box_mask(source.size, (0, 0, 8, 8))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"mask": mask, "feather": 100}, "feather"),
        ({"mask": mask, "feather": 2.5}, "feather"),
        ({"mask": mask, "keep_unmasked": "yes"}, "keep_unmasked"),
        ({"detail": True}, "detail"),
    ]
    for kwargs, param in cases:
        with pytest.raises(ValidationError) as info:
            iw.edit(source, "x", **kwargs, **opts)
        assert info.value.params == [param]
        assert param in str(info.value)
    assert [entry for entry in emulator.log if entry.endpoint] == []


def test_a_different_feather_is_a_different_result_for_the_cache(emulator: Emulator, opts: dict[str, Any]) -> None:
    source = photo((256, 256))
    mask = box_mask(source.size, (64, 64, 128, 128))
    first = iw.edit(source, "x", mask=mask, cache=True, **opts)
    same = iw.edit(source, "x", mask=mask, cache=True, **opts)
    other = iw.edit(source, "x", mask=mask, feather=0, cache=True, **opts)
    assert same.cached
    assert not other.cached
    assert not first.cached
    assert len([entry for entry in emulator.log if entry.endpoint]) == 2


def test_hold_leaves_everything_beyond_the_feather_untouched() -> None:
    base = photo((300, 200))
    result = photo((300, 200), shift=100)
    edit = Image.new("L", base.size, 0)
    edit.paste(255, (100, 50, 150, 120))
    for feather in (0, 1, 5, 8, 33, 64):
        out = pixels(hold(base, result, edit, feather))
        reach = grown(np.asarray(edit) > 0, feather)
        assert (out[~reach] == pixels(base)[~reach]).all(), feather
        assert (out[np.asarray(edit) > 0] == pixels(result)[np.asarray(edit) > 0]).all(), feather
        weight = np.asarray(feather_weight(edit, feather))
        assert (weight[~reach] == 0).all()
        assert (weight[np.asarray(edit) > 0] == 255).all()


async def test_streamed_previews_line_up_and_hold_like_the_result(opts: dict[str, Any]) -> None:
    source = photo((400, 300))
    mask = box_mask(source.size, (10, 10, 60, 60))
    items = [item async for item in iw.astream("a hat", image=source, mask=mask, **opts)]
    previews = [item.image for item in items if isinstance(item, iw.Partial)]
    assert len(previews) == 2
    outside = ~grown(mask, 8)
    for preview in previews:
        assert preview.size == (400, 300)  # not the API's 1152x864
        assert (pixels(preview)[outside] == pixels(source)[outside]).all()
