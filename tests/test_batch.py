"""Batch sweeps against the emulator: submit → complete → images and records on disk at the batch price."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

import image_widget as iw
from image_widget.base.errors import ConnectionFailedError
from image_widget.base.records import RECORD_KEYS
from image_widget.emulator import Emulator
from image_widget.facts import capabilities
from image_widget.facts.cost import estimate
from image_widget.facts.prices import BATCH_DISCOUNT
from image_widget.images import ImageInputError
from image_widget.store import History
from image_widget.sweeps.batch import BatchSweep, Limits, batch_sweep
from image_widget.sweeps.batch.plan import cell_at, cell_index
from support.images import png
from support.waiting import wait_until


def _opts(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    return {"base_url": emulator.url, "api_key": "sk-test-batch", "store": tmp_path}


def _paths(emulator: Emulator) -> list[str]:
    return [f"{e.method} {e.path}" for e in emulator.log if e.endpoint in ("files", "batches")]


def test_submit_complete_images_and_records_on_disk_at_the_batch_price(emulator: Emulator, tmp_path: Path) -> None:
    s = iw.sweep("a {animal} in {style}", animal=["fox", "owl"], style=["ink", "pixel art"], quality="low",
                 model="gpt-image-2", batch=True, max_cost=1.0, **_opts(emulator, tmp_path))
    assert isinstance(s, BatchSweep)
    assert _paths(emulator)[:2] == ["POST /v1/files", "POST /v1/batches"]
    assert not list(emulator.requests("generate"))  # nothing went through the direct path
    s.wait(progress=False)
    assert str(s.last_status()).startswith("completed (4 done, 0 failed, 4 total; 4 saved)")
    saved = History(tmp_path).filter(batch=s.batch_ids[0])
    assert len(saved) == 4
    for stored in saved:
        record = stored.record
        assert set(record) == set(RECORD_KEYS)
        assert record["from_batch"] is True
        assert record["batch_id"] == s.batch_ids[0]
        cell = cell_at(s.template, s.intent.lists, s.intent.fields, cell_index(record["custom_id"]))
        assert record["prompt"] == cell.prompt
        assert stored.path.is_file()
    direct = iw.generate("a fox in ink", quality="low", model="gpt-image-2", **_opts(emulator, tmp_path))
    fox = next(r.record for r in saved if r.record["prompt"] == "a fox in ink")
    assert fox["cost_usd"] == pytest.approx(direct.record["cost_usd"] * BATCH_DISCOUNT, rel=1e-3)
    # the sweep was estimated before any run (the published price); the direct run after it learns from the
    # batch's usage instead, so compare with the published figure
    params = direct.record["params"]
    published = estimate("gpt-image-2", quality=params.get("quality"), size=params.get("size"), n=1).usd
    assert s.estimate.usd == pytest.approx(4 * published * BATCH_DISCOUNT, rel=1e-3)  # type: ignore[operator]
    rows = s.records
    assert [r["prompt"] for r in rows] == ["a fox in ink", "a fox in pixel art", "a owl in ink", "a owl in pixel art"]
    assert all(r["path"] and r["error"] is None for r in rows)
    assert s.grid(thumb=64).size[0] > 64
    assert [b.run_id for b in iw.batches(tmp_path)] == [s.run_id]


def test_budget_refusal_uploads_nothing(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(iw.BudgetError, match="nothing was uploaded"):
        iw.sweep("a {animal}", animal=["fox", "owl", "cat"], quality="high", model="gpt-image-2", batch=True,
                 max_cost=0.01, **_opts(emulator, tmp_path))
    assert _paths(emulator) == []
    assert not (tmp_path / "batches").exists()


def test_the_budget_uses_the_batch_price(emulator: Emulator, tmp_path: Path) -> None:
    full = iw.generate("x", quality="low", model="gpt-image-2", **_opts(emulator, tmp_path)).estimate.usd
    assert full is not None
    s = batch_sweep("a {n}", n=["1", "2"], quality="low", model="gpt-image-2", max_cost=full * 1.5,
                    **_opts(emulator, tmp_path))  # two direct images would be over; two batch images are not
    assert s.batch_ids


def test_what_a_batch_line_cannot_carry_is_refused_naming_the_parameter(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"markup= cannot go into a batch.*no markup"):
        iw.sweep("a {animal}", animal=["fox"], image=png(), markup=png(), batch=True, **_opts(emulator, tmp_path))
    with pytest.raises(ImageInputError, match=r"image\[0\]: file not found: photo.png"):
        iw.sweep("a {animal}", animal=["fox"], image=["photo.png"], batch=True, **_opts(emulator, tmp_path))
    with pytest.raises(ValueError, match="partial_images= has no meaning in a batch"):
        iw.sweep("a {animal}", animal=["fox"], partial_images=2, batch=True, **_opts(emulator, tmp_path))
    assert _paths(emulator) == []


def test_bad_requests_are_refused_before_anything_is_written(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(capabilities.ValidationError, match="size"):
        iw.sweep("a {animal}", animal=["fox"], size="7x7", model="gpt-image-2", batch=True, **_opts(emulator, tmp_path))
    assert _paths(emulator) == []
    assert not (tmp_path / "batches").exists()


def test_work_over_the_limits_is_split_into_several_batches(emulator: Emulator, tmp_path: Path) -> None:
    s = iw.sweep("a {k}", k=[str(i) for i in range(7)], quality="low", model="gpt-image-2", batch=True,
                 limits=Limits(max_lines=3), **_opts(emulator, tmp_path))
    assert [p.lines for p in s.intent.parts] == [3, 3, 1]
    assert len(set(s.batch_ids)) == 3
    by_size = batch_sweep("a {k}", k=["x" * 200, "y" * 200, "z" * 200], quality="low", model="gpt-image-2",
                          limits=Limits(max_lines=50_000, max_bytes=700), **_opts(emulator, tmp_path))
    assert [p.lines for p in by_size.intent.parts] == [2, 1]
    assert all(p.bytes <= 700 for p in by_size.intent.parts)
    s.wait(progress=False)
    assert [r["prompt"] for r in s.records] == [f"a {i}" for i in range(7)]


def test_the_input_file_is_jsonl_with_one_generation_per_line(emulator: Emulator, tmp_path: Path) -> None:
    s = batch_sweep("a {k}", k=["fox", "owl"], quality=["low", "high"], model="gpt-image-2",
                    **_opts(emulator, tmp_path))
    lines = [json.loads(x) for x in (s.intent.folder / s.intent.parts[0].path).read_text().splitlines()]
    assert lines[0] == {"custom_id": "cell-0", "method": "POST", "url": "/v1/images/generations",
                        "body": {"prompt": "a fox", "quality": "low", "model": "gpt-image-2"}}
    assert [x["custom_id"] for x in lines] == ["cell-0", "cell-1", "cell-2", "cell-3"]
    assert json.loads((s.intent.folder / "intent.json").read_text())["parts"][0]["batch_id"] == s.batch_ids[0]



def test_two_collectors_at_once_save_each_image_once(emulator: Emulator, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A `wait()` and the widget's poll (or two kernels) bring the same batch home: one at a time."""
    import asyncio
    import threading

    from image_widget.base.runtime import run_sync
    from image_widget.sweeps.batch import collect
    from image_widget.sweeps.batch.collect import collect_part

    meet = threading.Barrier(2, timeout=1.0)  # both collectors meet here only if nothing keeps them apart
    run = collect.Collector.run

    def run_together(self: collect.Collector, *args: Any) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()
        run(self, *args)

    monkeypatch.setattr(collect.Collector, "run", run_together)

    s = iw.sweep("a {k}", k=list("abcdef"), quality="low", model="gpt-image-2", batch=True, **_opts(emulator, tmp_path))
    client = emulator_client(emulator)
    wait_until(lambda: client.batches.retrieve(s.batch_ids[0]).status == "completed", "the batch", 30)
    handles = [iw.batches(tmp_path)[0] for _ in range(2)]

    async def both() -> None:
        batch = await handles[0].sdk_client().batches.retrieve(s.batch_ids[0])
        await asyncio.gather(*(collect_part(h.intent, h.intent.parts[0], batch, h.sdk_client(), h.backend(), h.store)
                               for h in handles))

    run_sync(both())
    saved = History(tmp_path).filter(batch=s.batch_ids[0])
    assert sorted(r.record["custom_id"] for r in saved) == [f"cell-{i}" for i in range(6)]


def emulator_client(emulator: Emulator) -> Any:
    import openai

    return openai.OpenAI(base_url=emulator.url, api_key="sk-test", max_retries=0)


def test_the_key_is_in_no_file_a_batch_writes(emulator: Emulator, tmp_path: Path) -> None:
    key = "sk-canary-batch-0123456789abcdef"
    emulator.batch_faults(fail_lines={0})
    s = iw.sweep("a {k}", k=["a", "b"], quality="low", model="gpt-image-2", batch=True, base_url=emulator.url,
                 api_key=key, store=tmp_path).wait(progress=False)
    assert s.last_status().saved == 1
    assert s.errors
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "intent.json" for p in written)
    assert any(p.name == "errors.jsonl" for p in written)
    assert [p for p in written if key.encode() in p.read_bytes()] == []
    assert key not in repr(s)
    assert key not in str(s.summary())


def test_two_handles_submitting_at_once_create_each_batch_once(emulator: Emulator, tmp_path: Path) -> None:
    """A resume in one handle while another (the widget's poll, another kernel) also resumes: no batch twice."""
    import asyncio

    from image_widget.base.runtime import run_sync
    from image_widget.client.backend import resolve_backend
    from image_widget.sweeps.batch.intent import Intent
    from image_widget.sweeps.batch.submit import plan_run

    backend = resolve_backend(base_url=emulator.url, api_key="sk-test-batch")
    planned = plan_run("a {k}", tmp_path, backend, max_cost=None, limits=Limits(max_lines=1), k=["a", "b", "c"],
                       quality="low", model="gpt-image-2")
    handles = [BatchSweep(Intent.load(planned.folder), base_url=emulator.url, api_key="sk-test-batch")
               for _ in range(2)]

    async def both() -> None:
        await asyncio.gather(*(h._submit() for h in handles))

    run_sync(both())
    created = [e for e in emulator.log if e.method == "POST" and e.path == "/v1/batches"]
    assert len(created) == 3
    assert sorted(Intent.load(planned.folder).parts[i].batch_id or "" for i in range(3)) == \
        sorted({h.batch_ids[i] for h in handles for i in range(3)})


def _creates(emulator: Emulator) -> int:
    return sum(1 for e in emulator.log if e.method == "POST" and e.path == "/v1/batches")


@pytest.fixture
def unsent(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BatchSweep:
    """A sweep whose create failed on the network: the file went up, no batch was made, the intent stays."""
    import httpx
    import openai
    from openai.resources.batches import AsyncBatches

    async def down(*_: Any, **__: Any) -> Any:
        raise openai.APIConnectionError(request=httpx.Request("POST", f"{emulator.url}/batches"))

    with monkeypatch.context() as patch:
        patch.setattr(AsyncBatches, "create", down)
        with pytest.raises(ConnectionFailedError) as failed:
            iw.sweep("a {k}", k=["fox", "owl"], quality="low", model="gpt-image-2", batch=True,
                     **_opts(emulator, tmp_path))
    text = str(failed.value)
    assert "not submitted" in text
    assert "intent stays" in text
    assert "iw.batches()[i].submit()" in text
    assert ".discard()" in text
    assert _creates(emulator) == 0
    (found,) = iw.batches(tmp_path, base_url=emulator.url, api_key="sk-test-batch")
    return found


def test_status_and_wait_never_submit_a_sweep_whose_submit_failed(emulator: Emulator, unsent: BatchSweep) -> None:
    assert unsent.status().state == "not submitted"
    with pytest.raises(RuntimeError, match=r"not submitted.*submit\(\).*discard\(\)"):
        unsent.wait(progress=False, timeout=5)
    assert _creates(emulator) == 0  # asking is free: only submit() may pay
    unsent.submit()  # the explicit resume
    assert _creates(emulator) == 1
    assert unsent.wait(progress=False).last_status().state == "completed"
    assert unsent.last_status().saved == 2


def test_a_discarded_sweep_is_never_sent(emulator: Emulator, unsent: BatchSweep, tmp_path: Path) -> None:
    unsent.discard()
    assert unsent.status().state == "discarded"
    again = iw.batches(tmp_path, base_url=emulator.url, api_key="sk-test-batch")[0]
    assert again.last_status().state == "discarded"
    with pytest.raises(RuntimeError, match="discarded"):
        again.submit()
    assert _creates(emulator) == 0


def test_a_key_echoed_in_a_batch_level_error_is_not_written(emulator: Emulator, tmp_path: Path,
                                                            emulator_client: Any) -> None:
    """The server refuses a whole batch and its reason quotes the key: errors.jsonl gets it scrubbed."""
    from image_widget.client.backend import resolve_backend
    from image_widget.sweeps.batch.intent import Intent
    from image_widget.sweeps.batch.submit import plan_run

    key = "sk-canary-level-0123456789abcdef"
    planned = plan_run("a {k}", tmp_path, resolve_backend(base_url=emulator.url, api_key=key), max_cost=None,
                       k=["fox"], quality="low", model="gpt-image-2")
    line = {"custom_id": "cell-0", "method": "POST", "url": f"/v1/images/generations?key={key}",
            "body": {"prompt": "a fox", "quality": "low", "model": "gpt-image-2"}}
    uploaded = emulator_client.files.create(file=("in.jsonl", json.dumps(line).encode(), "application/jsonl"),
                                            purpose="batch")
    batch = emulator_client.batches.create(input_file_id=uploaded.id, endpoint="/v1/images/generations",
                                           completion_window="24h")
    part = planned.parts[0]
    part.file_id, part.batch_id = uploaded.id, batch.id  # the server's batch for this part
    planned.save()
    s = BatchSweep(Intent.load(planned.folder), base_url=emulator.url, api_key=key).wait(progress=False)
    assert s.last_status().state == "failed"
    assert "the batch failed: line 1: The url" in s.errors["cell-0"]
    assert "[redacted key]" in s.errors["cell-0"]
    assert key.encode() not in (planned.folder / "errors.jsonl").read_bytes()


def test_a_resumed_sweep_sends_the_query_it_was_submitted_with(emulator: Emulator, tmp_path: Path) -> None:
    """Azure needs `?api-version=` on every call: `iw.batches()` without a client must still send it (a
    key-like parameter is not kept)."""
    import openai

    from image_widget.base.runtime import run_sync

    client = openai.AsyncOpenAI(base_url=emulator.url, api_key="sk-test-batch", max_retries=0,
                                default_query={"api-version": "2025-04-01-preview", "api-key": "azure-secret-1234"})
    s = iw.sweep("a {k}", k=["fox"], quality="low", model="gpt-image-2", batch=True, client=client, store=tmp_path)
    stored = (s.intent.folder / "intent.json").read_text()
    assert "azure-secret-1234" not in stored
    (found,) = iw.batches(tmp_path)
    assert found.intent.default_query == {"api-version": "2025-04-01-preview"}

    async def asked() -> str:
        raw = await found.sdk_client().batches.with_raw_response.retrieve(s.batch_ids[0])
        return str(raw.http_request.url)

    url = run_sync(asked())
    assert url == f"{emulator.url}/batches/{s.batch_ids[0]}?api-version=2025-04-01-preview"
    assert found.wait(progress=False).last_status().state == "completed"


def test_a_sweep_over_models_sends_one_model_per_file_and_batch(emulator: Emulator, tmp_path: Path) -> None:
    """OpenAI takes one model per batch input file: the model varying fastest still gives one file each."""
    s = iw.sweep("a {k}", k=["fox", "owl", "cat"], model=["gpt-image-2", "gpt-image-1-mini"], quality="low",
                 batch=True, limits=Limits(max_lines=2), **_opts(emulator, tmp_path))
    by_part = {p.index: {json.loads(x)["body"]["model"] for x in (s.intent.folder / p.path).read_text().splitlines()}
               for p in s.intent.parts}
    assert all(len(models) == 1 for models in by_part.values()), by_part
    assert [(p.model, p.lines) for p in s.intent.parts] == \
        [("gpt-image-2", 2), ("gpt-image-1-mini", 2), ("gpt-image-2", 1), ("gpt-image-1-mini", 1)]
    assert all(by_part[p.index] == {p.model} for p in s.intent.parts)
    assert s.intent.model == "gpt-image-2, gpt-image-1-mini"
    assert len(set(s.batch_ids)) == 4
    s.wait(progress=False)
    assert s.last_status().state == "completed"
    assert [(r["prompt"], r["model"]) for r in s.records] == [
        (f"a {k}", m) for k in ("fox", "owl", "cat") for m in ("gpt-image-2", "gpt-image-1-mini")]


def file_uploads(emulator: Emulator) -> int:
    return sum(1 for e in emulator.log if e.method == "POST" and e.path.endswith("/files"))


def test_a_batch_edit_uploads_again_an_input_the_server_no_longer_has(emulator: Emulator, tmp_path: Path) -> None:
    """A direct edit can send again after the server's 400 for a gone file; a batch cannot (every line would
    fail, hours later), so its inputs are looked up before the batch is made and uploaded again if gone."""
    picture = png((256, 256))
    first = iw.sweep("a {k}", k=["cup"], image=picture, quality="low", model="gpt-image-2", batch=True,
                     **_opts(emulator, tmp_path))
    first.wait(progress=False)
    with httpx2.Client(base_url=emulator.url, headers={"Authorization": "Bearer sk-test-batch"}) as http:
        for listed in http.get("/files", params={"purpose": "vision"}).json()["data"]:
            assert http.delete(f"/files/{listed['id']}").status_code == 200
    uploads = file_uploads(emulator)
    second = iw.sweep("a {k}", k=["bowl"], image=picture, quality="low", model="gpt-image-2", batch=True,
                      **_opts(emulator, tmp_path))
    second.wait(progress=False)
    assert second.errors == {}
    assert len(second.records) == 1
    assert file_uploads(emulator) == uploads + 2  # the picture once more, and the batch's input file


def test_a_batch_edit_takes_its_image_by_file_id_or_url(emulator: Emulator, tmp_path: Path) -> None:
    """As a direct edit does (README: references go "wherever an image or a mask goes"): the picture is read
    once through the reference, then every line is held against it like any batch edit."""
    picture = png((128, 96))
    with httpx2.Client(base_url=emulator.url, headers={"Authorization": "Bearer sk-test-batch"}) as http:
        file_id = http.post("/files", data={"purpose": "vision"},
                            files={"file": ("p.png", picture, "image/png")}).json()["id"]
    url = f"{emulator.origin}/_emulator/files/{emulator.state.keep_file(picture, 'png')}"
    for given in (file_id, url):
        s = iw.sweep("a {k}", k=["cup"], image=given, quality="low", model="gpt-image-2", batch=True,
                     **_opts(emulator, tmp_path / given[-6:]))
        s.wait(progress=False)
        assert s.errors == {}
        (saved,) = History(tmp_path / given[-6:]).filter(batch=s.batch_ids[0])
        assert (saved.record["width"], saved.record["height"]) == (128, 96)
