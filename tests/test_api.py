"""The request layer end to end: the real openai SDK against the emulator over loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from PIL import Image

import image_widget as iw
from image_widget.base.errors import APIRequestError
from image_widget.client.api import Result
from image_widget.emulator import Emulator, Fault
from image_widget.facts.capabilities import ValidationError
from image_widget.store import History, Store
from support import waiting
from support.held import aheld
from support.images import encode, photo

KEY = "sk-test-RECOGNISABLE-0123456789abcdef"


@pytest.fixture
def opts(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    """Point the plain functions at the test emulator and a fresh output folder."""
    return {"base_url": emulator.url, "api_key": KEY, "store": tmp_path}


def images_requests(emulator: Emulator) -> list[Any]:
    return [entry for entry in emulator.log if "/images/" in entry.path]


def test_generate_returns_pil_images_saved_with_records(emulator: Emulator, opts: dict[str, Any],
                                                        tmp_path: Path) -> None:
    result = iw.generate("a watercolor fox", model="gpt-image-1.5", size="1536x1024", n=2, **opts)
    assert [im.size for im in result.images] == [(1536, 1024)] * 2
    assert all(p.exists() and p.parent == tmp_path for p in result.paths)
    sidecars = sorted(tmp_path.glob("*.json"))
    assert len(sidecars) == 2
    record = json.loads(sidecars[0].read_text())
    assert record["prompt"] == "a watercolor fox"
    assert record["model"] == "gpt-image-1.5"
    assert record["usage"]["total_tokens"] > 0
    assert record["request_id"].startswith("req_")
    assert record["params"]["size"] == "1536x1024"
    assert result.request_id == record["request_id"]
    assert len(images_requests(emulator)) == 1


def test_png_carries_record_in_text_chunk(opts: dict[str, Any]) -> None:
    result = iw.generate("a cat", **opts)
    with Image.open(result.paths[0]) as img:
        assert json.loads(img.text["image_widget"])["prompt"] == "a cat"  # type: ignore[attr-defined]


def test_default_backend_is_the_offline_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr("image_widget.client.backend._notice_shown", False)
    result = iw.generate("a cat", n=2, store=tmp_path)
    assert len(result.images) == 2
    assert result.backend.kind == "emulator"
    assert result.backend.synthetic is True
    assert "images are synthetic" in capsys.readouterr().err


def test_in_a_notebook_the_no_key_notice_is_a_calm_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 23, item 8: a kernel draws stderr as a pink error box; there the notice goes to stdout."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr("image_widget.client.backend._notice_shown", False)
    monkeypatch.setattr("image_widget.client.backend._in_kernel", lambda: True)
    iw.generate("a cat", store=tmp_path)
    seen = capsys.readouterr()
    assert "images are synthetic" in seen.out
    assert "images are synthetic" not in seen.err


def test_invalid_request_is_never_sent(emulator: Emulator, opts: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        iw.generate("a cat", model="gpt-image-1.5", n=11, background="transparent", output_format="jpeg", **opts)
    assert set(info.value.params) == {"n", "background"}
    assert images_requests(emulator) == []


def test_retired_model_error_names_replacement(emulator: Emulator, opts: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=r"gpt-image-2\.5-sunburst or gpt-image-2\.5-flare"):
        iw.generate("a cat", model="gpt-image-1", **opts)
    assert images_requests(emulator) == []


def test_edit_with_mask_changes_only_masked_area(emulator: Emulator, opts: dict[str, Any]) -> None:
    source = photo((256, 256))
    mask = np.zeros((256, 256), dtype=bool)
    mask[64:128, 64:128] = True  # True = edit
    result = iw.edit(source, "add a red scarf", mask=mask, size="1024x1024", **opts)
    out = np.asarray(result.images[0].convert("RGB").resize((256, 256), Image.Resampling.NEAREST)).astype(int)
    src = np.asarray(source).astype(int)
    inside = np.abs(out[70:122, 70:122] - src[70:122, 70:122]).mean()
    outside = np.abs(out[160:, 160:] - src[160:, 160:]).mean()
    assert inside > 40
    assert outside < 12
    sent = images_requests(emulator)[0]
    assert sent.path.endswith("/images/edits")
    assert result.record["mask_hash"]


def test_edit_uploads_typed_files_never_octet_stream(emulator: Emulator, opts: dict[str, Any]) -> None:
    iw.edit([encode(photo((64, 64)), "JPEG"), photo((64, 64))], "combine them", **opts)
    files = images_requests(emulator)[0].params["image"]
    assert [f["content_type"] for f in files] == ["image/jpeg", "image/png"]


def test_vary_goes_through_edit_for_gpt_models(emulator: Emulator, opts: dict[str, Any]) -> None:
    result = iw.vary(photo(), model="gpt-image-1.5", **opts)
    assert images_requests(emulator)[0].path.endswith("/images/edits")
    assert "variation made through the edit endpoint" in result.record["note"]


def test_vary_uses_legacy_endpoint_on_legacy_servers(tmp_path: Path) -> None:
    with Emulator(legacy=True) as legacy:
        square = photo((256, 256))
        result = iw.vary(square, model="dall-e-2", legacy=True, n=2, size="256x256",
                         base_url=legacy.url, api_key=KEY, store=tmp_path)
        assert [e.path for e in images_requests(legacy)] == ["/v1/images/variations"]
    assert [im.size for im in result.images] == [(256, 256)] * 2


def test_streaming_calls_on_partial_before_the_final_image(emulator: Emulator, opts: dict[str, Any]) -> None:
    seen: list[tuple[int, tuple[int, int]]] = []
    result = iw.generate("a fox", partial_images=2, on_partial=lambda i, im: seen.append((i, im.size)), **opts)
    assert [i for i, _ in seen] == [0, 1]
    assert result.partials == 2
    assert len(result.images) == 1
    assert images_requests(emulator)[0].params["stream"] is True


async def test_async_twins_run_concurrently(tmp_path: Path) -> None:
    with Emulator() as own:  # its own server: no request of another test can be in flight
        opts = {"base_url": own.url, "api_key": KEY, "store": tmp_path}
        async with aheld(own):  # each request stays in flight until all three have been seen at once
            calls = asyncio.gather(*(iw.agenerate(f"cat {i}", **opts) for i in range(3)))
            await waiting.await_until(lambda: own.in_flight == 3, "all three requests in flight at once", 30.0)
            assert own.max_in_flight == 3
        results = await calls
    assert [len(r.images) for r in results] == [1, 1, 1]


def test_sync_call_works_inside_a_running_event_loop(opts: dict[str, Any]) -> None:
    async def like_jupyter() -> Result:
        return iw.generate("a cat", **opts)

    assert len(asyncio.run(like_jupyter()).images) == 1


def test_callers_own_clients_are_used(emulator: Emulator, tmp_path: Path) -> None:
    sync_client = openai.OpenAI(base_url=emulator.url, api_key=KEY)
    async_client = openai.AsyncOpenAI(base_url=emulator.url, api_key=KEY)
    assert len(iw.generate("a", client=sync_client, store=tmp_path).images) == 1
    assert len(iw.generate("b", client=async_client, store=tmp_path).images) == 1
    assert sync_client.max_retries == 2  # copied with our options, never mutated


@pytest.mark.parametrize(("fault", "status", "hint"), [
    (Fault(status=400, code="moderation_blocked", message="blocked by moderation"), 400, "rephrase"),
    (Fault(status=401), 401, "OPENAI_API_KEY"),
    (Fault(status=403, message="organization must be verified"), 403, "verification"),
    (Fault(status=404), 404, "model name"),
])
def test_api_errors_are_readable_and_not_retried(emulator: Emulator, opts: dict[str, Any], fault: Fault,
                                                 status: int, hint: str) -> None:
    emulator.inject(fault)
    with pytest.raises(APIRequestError) as info:
        iw.generate("a cat", **opts)
    assert info.value.status == status
    assert hint in str(info.value)
    assert KEY not in str(info.value)
    assert len(images_requests(emulator)) == 1


@pytest.mark.parametrize("fault", [Fault(status=500), Fault(status=503), Fault(kind="slow", seconds=2.0),
                                   Fault(kind="drop")], ids=["500", "503", "timeout", "dropped"])
def test_nothing_that_may_have_reached_the_server_is_sent_again(emulator: Emulator, opts: dict[str, Any],
                                                                 fault: Fault) -> None:
    """No idempotency key: the SDK's default retry re-sent a 5xx, a timeout or a dropped connection, and the
    server may have finished (and billed) both. The default now re-sends only 429s."""
    emulator.inject(fault, fault)
    with pytest.raises(APIRequestError) as info:
        iw.generate("a cat", timeout=0.5, **opts)
    assert info.value.retry_may_bill is True
    assert "may be billed" in str(info.value)
    assert len(images_requests(emulator)) == 1


def test_rate_limit_retry_succeeds(emulator: Emulator, opts: dict[str, Any]) -> None:
    emulator.inject(Fault(status=429, retry_after=0.01))
    assert len(iw.generate("a cat", **opts).images) == 1
    assert [e.status for e in images_requests(emulator)] == [429, 200]


def test_max_retries_zero_does_not_wait_out_a_rate_limit(emulator: Emulator, opts: dict[str, Any]) -> None:
    emulator.inject(Fault(status=429, retry_after=0.01))
    with pytest.raises(APIRequestError, match="rate limited"):
        iw.generate("a cat", max_retries=0, **opts)
    assert len(images_requests(emulator)) == 1


def test_max_retries_waits_out_that_many_rate_limits(emulator: Emulator, opts: dict[str, Any]) -> None:
    emulator.inject(*[Fault(status=429, retry_after=0.01)] * 3)
    assert len(iw.generate("a cat", max_retries=3, **opts).images) == 1
    assert [e.status for e in images_requests(emulator)] == [429, 429, 429, 200]


def test_a_quota_429_is_not_waited_out(emulator: Emulator, opts: dict[str, Any]) -> None:
    """No credit is not a wait: sending again would only be refused again."""
    emulator.inject(Fault(status=429, retry_after=0.01, code="insufficient_quota"))
    with pytest.raises(iw.APIRequestError, match="rate limited"):
        iw.generate("a cat", max_retries=3, **opts)
    assert len(images_requests(emulator)) == 1


def test_timeout_is_reported(emulator: Emulator, opts: dict[str, Any]) -> None:
    emulator.inject(Fault(kind="slow", seconds=2.0))
    with pytest.raises(APIRequestError, match="timed out"):
        iw.generate("a cat", timeout=0.3, max_retries=0, **opts)


@pytest.mark.parametrize("kind", ["error_event", "malformed_event", "drop"])
def test_stream_failures_are_clear(emulator: Emulator, opts: dict[str, Any], kind: str) -> None:
    emulator.inject(Fault(kind=kind))
    with pytest.raises(APIRequestError) as info:
        iw.generate("a cat", partial_images=1, max_retries=0, **opts)
    assert info.value.retry_may_bill is True
    assert "could not reach the server" not in str(info.value)  # it was reached; it broke off mid-stream


def test_empty_data_is_an_error(emulator: Emulator, opts: dict[str, Any], tmp_path: Path) -> None:
    emulator.inject(Fault(kind="empty_data"))
    with pytest.raises(APIRequestError, match="no images"):
        iw.generate("a cat", **opts)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_image_reported_after_good_ones_are_saved(emulator: Emulator, opts: dict[str, Any],
                                                          tmp_path: Path) -> None:
    emulator.inject(Fault(kind="truncated_b64"))
    with pytest.raises(APIRequestError, match="corrupt"):
        iw.generate("a cat", n=2, **opts)
    assert not list(tmp_path.glob("*.tmp"))


def test_wrong_size_is_noted_in_the_record(emulator: Emulator, opts: dict[str, Any]) -> None:
    emulator.inject(Fault(kind="wrong_size"))
    result = iw.generate("a cat", size="1024x1536", **opts)
    assert "asked for 1024x1536" in result.record["note"]


def test_cache_returns_stored_result_without_a_request(emulator: Emulator, opts: dict[str, Any]) -> None:
    first = iw.generate("a cached cat", n=2, cache=True, **opts)
    second = iw.generate("a cached cat", n=2, cache=True, **opts)
    assert second.cached is True
    assert second.paths == first.paths
    assert second.cost.usd == 0.0
    assert len(images_requests(emulator)) == 1
    iw.generate("a cached cat", n=2, cache=True, quality="low", **opts)
    assert len(images_requests(emulator)) == 2


def test_history_reloads_from_disk(opts: dict[str, Any], tmp_path: Path) -> None:
    iw.generate("first", **opts)
    iw.generate("second", n=2, **opts)
    history = History(tmp_path)
    assert len(history) == 3
    assert history.entries[0].record["prompt"] == "second"
    assert Store(tmp_path).load(history.entries[-1].id).record["prompt"] == "first"


def test_cost_is_estimated_and_actual_for_priced_models(opts: dict[str, Any], emulator: Emulator) -> None:
    result = iw.generate("a", model="gpt-image-1-mini", quality="low", size="1024x1024", n=2, **opts)
    assert result.estimate.usd == pytest.approx(0.010)
    assert result.cost.usd is not None
    emulator.configure(models={"my-local-model": None})  # a custom server's own model: no price known
    unknown = iw.generate("a", model="my-local-model", **opts)
    assert unknown.cost.usd is None
    assert unknown.cost.text == "unknown"


def test_result_repr_names_count_and_cost(opts: dict[str, Any]) -> None:
    text = repr(iw.generate("a cat", n=2, **opts))
    assert "2 image(s)" in text
    assert KEY not in text


def test_rerun_repeats_a_generation_with_overrides(emulator: Emulator, opts: dict[str, Any]) -> None:
    first = iw.generate("a fox", size="1536x1024", quality="low", **opts)
    again = iw.rerun(first.record, quality="high", base_url=opts["base_url"], api_key=KEY)
    assert again.images[0].size == (1536, 1024)
    assert again.record["params"]["quality"] == "high"
    assert again.record["prompt"] == "a fox"
    assert len(images_requests(emulator)) == 2


def test_rerun_of_an_edit_sends_the_same_inputs_and_mask(emulator: Emulator, opts: dict[str, Any],
                                                         tmp_path: Path) -> None:
    mask = np.zeros((256, 256), dtype=bool)
    mask[:64, :64] = True
    first = iw.edit(photo(), "add a hat", mask=mask, **opts)
    assert len(list((tmp_path / "inputs").iterdir())) == 2  # the image and the mask, by hash
    again = iw.rerun(first.record["id"], store=tmp_path, base_url=opts["base_url"], api_key=KEY)
    sent_first, sent_again = images_requests(emulator)
    def digests(files: Any) -> list[str]:
        return [f["sha256"] for f in (files if isinstance(files, list) else [files])]

    assert digests(sent_again.params["image"]) == digests(sent_first.params["image"])
    assert digests(sent_again.params["mask"]) == digests(sent_first.params["mask"])
    assert again.record["mask_hash"] == first.record["mask_hash"]


def test_reproduce_code_is_a_runnable_call(opts: dict[str, Any]) -> None:
    result = iw.generate("a 'quoted' fox", size="1024x1536", n=2, **opts)
    code = iw.reproduce_code(result.record)
    assert code == "iw.generate(\"a 'quoted' fox\", model='gpt-image-2', size='1024x1536', n=2)"
    mask = np.zeros((256, 256), dtype=bool)
    mask[:8, :8] = True
    edited = iw.edit(photo(), "add a hat", mask=mask, **opts)
    call = edited.code
    assert call.startswith("iw.edit('")
    assert ", 'add a hat', " in call
    assert "mask='" in call
    named = [p for p in (Path(opts["store"]) / "inputs").iterdir() if p.name in call]
    assert len(named) == 2  # the input image and the mask, as kept by the store
    import functools
    import types

    pointed = types.SimpleNamespace(edit=functools.partial(iw.edit, **opts))  # same server and folder
    again = eval(call, {"iw": pointed}, {})
    assert again.record["mask_hash"] == edited.record["mask_hash"]


def test_variation_note_is_in_the_saved_record(opts: dict[str, Any], tmp_path: Path) -> None:
    result = iw.vary(photo(), model="gpt-image-1.5", **opts)
    on_disk = json.loads(result.paths[0].with_suffix(".json").read_text())
    assert on_disk["note"].startswith("variation made through the edit endpoint")
    assert History(tmp_path).entries[0].record["note"] == on_disk["note"]
    assert iw.reproduce_code(on_disk).startswith("iw.vary(")


async def test_astream_yields_previews_then_the_result(emulator: Emulator, opts: dict[str, Any]) -> None:
    items = [item async for item in iw.astream("a fox", partial_images=2, **opts)]
    assert [type(i).__name__ for i in items] == ["Partial", "Partial", "Result"]
    assert [i.index for i in items[:2]] == [0, 1]  # type: ignore[union-attr]
    assert isinstance(items[-1], Result)
    assert items[-1].paths[0].exists()


async def test_astream_edit_and_errors_reach_the_consumer(emulator: Emulator, opts: dict[str, Any]) -> None:
    kinds = [type(i).__name__ async for i in iw.astream("a hat", image=photo(), partial_images=1, **opts)]
    assert kinds == ["Partial", "Result"]
    emulator.inject(Fault(status=400, message="nope"))
    with pytest.raises(APIRequestError, match="nope"):
        async for _ in iw.astream("a cat", **opts):
            pass
