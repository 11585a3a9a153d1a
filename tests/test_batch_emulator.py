"""The emulator's Files and Batches API, through the real openai SDK with strict validation."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from image_widget.emulator import Emulator
from support.waiting import wait_until

TERMINAL = ("completed", "failed", "expired", "cancelled")


def _line(i: int, **body: Any) -> dict[str, Any]:
    return {"custom_id": f"c{i}", "method": "POST", "url": "/v1/images/generations",
            "body": {"model": "gpt-image-2", "prompt": f"a fox number {i}", "size": "1024x1024",
                     "quality": "low", **body}}


def _submit(client: openai.OpenAI, lines: list[dict[str, Any]] | bytes, **meta: str) -> str:
    data = lines if isinstance(lines, bytes) else "\n".join(json.dumps(x) for x in lines).encode()
    uploaded = client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/images/generations",
                                  completion_window="24h", metadata=meta or None)
    assert batch.status == "validating"
    return batch.id


def _finished(client: openai.OpenAI, batch_id: str) -> Any:
    seen: list[Any] = []

    def done() -> bool:
        seen.append(client.batches.retrieve(batch_id))
        return seen[-1].status in TERMINAL

    wait_until(done, f"batch {batch_id} to finish", 30)
    return seen[-1]


def _lines(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    return [] if file_id is None else [json.loads(x) for x in client.files.content(file_id).text.splitlines()]


@pytest.fixture
def own() -> Iterator[tuple[Emulator, openai.OpenAI]]:
    with Emulator() as emu:
        client = openai.OpenAI(base_url=emu.url, api_key="sk-test", max_retries=0, _strict_response_validation=True)
        yield emu, client
        client.close()


def test_a_batch_goes_through_the_real_status_sequence_and_answers_like_a_direct_call(
        own: tuple[Emulator, openai.OpenAI]) -> None:
    emu, client = own
    emu.configure(batch_step_s=0.3)
    batch_id = _submit(client, [_line(0), _line(1)], run="r1")
    statuses: list[str] = []

    def record() -> bool:
        status = client.batches.retrieve(batch_id).status
        if not statuses or statuses[-1] != status:
            statuses.append(status)
        return status in TERMINAL

    wait_until(record, "the batch to complete", 30)
    assert statuses == ["validating", "in_progress", "finalizing", "completed"]
    batch = client.batches.retrieve(batch_id)
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (2, 2)
    out = _lines(client, batch.output_file_id)
    assert sorted(x["custom_id"] for x in out) == ["c0", "c1"]
    direct = client.images.generate(model="gpt-image-2", prompt="a fox number 0", size="1024x1024", quality="low")
    first = next(x for x in out if x["custom_id"] == "c0")
    assert first["error"] is None
    assert first["response"]["status_code"] == 200
    assert first["response"]["request_id"].startswith("req_")
    assert first["id"].startswith("batch_req_")
    assert first["response"]["body"]["data"][0]["b64_json"] == direct.data[0].b64_json
    assert batch.error_file_id is None
    assert [b.metadata for b in client.batches.list()] == [{"run": "r1"}]


def test_invalid_lines_fail_the_batch_with_their_line_numbers(own: tuple[Emulator, openai.OpenAI]) -> None:
    _, client = own
    good = json.dumps(_line(0)).encode()
    wrong_url = json.dumps({**_line(1), "url": "/v1/images/edits"}).encode()
    batch = _finished(client, _submit(client, b"\n".join([good, b"{not json", wrong_url, good])))
    assert batch.status == "failed"
    assert batch.output_file_id is None
    errors = {(e.line, e.code) for e in batch.errors.data}
    assert errors == {(2, "invalid_json_line"), (3, "invalid_value"), (4, "duplicate_custom_id")}


def test_failing_lines_go_to_the_error_file_with_their_messages(own: tuple[Emulator, openai.OpenAI]) -> None:
    emu, client = own
    emu.batch_faults(fail_lines={1})
    batch = _finished(client, _submit(client, [_line(0), _line(1), _line(2, size="7x7")]))
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 2)
    errors = {x["custom_id"]: x["response"] for x in _lines(client, batch.error_file_id)}
    assert errors["c1"]["status_code"] == 500
    assert errors["c2"]["status_code"] == 400
    assert "divisible by 16" in errors["c2"]["body"]["error"]["message"]
    assert [x["custom_id"] for x in _lines(client, batch.output_file_id)] == ["c0"]


def test_an_expired_batch_keeps_its_partial_output(own: tuple[Emulator, openai.OpenAI]) -> None:
    emu, client = own
    emu.batch_faults(expire_after=2)
    batch = _finished(client, _submit(client, [_line(i) for i in range(4)]))
    assert batch.status == "expired"
    assert batch.expired_at is not None
    assert len(_lines(client, batch.output_file_id)) == 2
    expired = _lines(client, batch.error_file_id)
    assert {x["error"]["code"] for x in expired} == {"batch_expired"}
    assert len(expired) == 2


def test_cancel_mid_way_keeps_what_finished(own: tuple[Emulator, openai.OpenAI]) -> None:
    emu, client = own
    emu.batch_faults(hold_after=2)
    batch_id = _submit(client, [_line(i) for i in range(5)])
    wait_until(lambda: client.batches.retrieve(batch_id).request_counts.completed == 2, "two lines done", 30)  # type: ignore[union-attr]
    assert client.batches.cancel(batch_id).status == "cancelling"
    emu.release_batches()
    batch = _finished(client, batch_id)
    assert batch.status == "cancelled"
    assert batch.cancelled_at is not None
    assert len(_lines(client, batch.output_file_id)) == 2
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a batch with status 'cancelled'"):
        client.batches.cancel(batch_id)


def test_a_dropped_download_breaks_once_then_the_file_downloads_whole(own: tuple[Emulator, openai.OpenAI]) -> None:
    emu, client = own
    batch = _finished(client, _submit(client, [_line(0)]))
    emu.batch_faults(drop_downloads=1)
    with pytest.raises(openai.APIConnectionError):
        client.files.content(batch.output_file_id).read()
    assert len(_lines(client, batch.output_file_id)) == 1


def test_files_and_batches_survive_a_restart_and_unfinished_ones_go_on(tmp_path: Path) -> None:
    folder = tmp_path / "emulator"
    with Emulator(batch_folder=folder) as first:
        client = openai.OpenAI(base_url=first.url, api_key="sk-test", max_retries=0)
        first.batch_faults(hold_after=1)
        batch_id = _submit(client, [_line(i) for i in range(3)], run="r2")
        wait_until(lambda: client.batches.retrieve(batch_id).request_counts.completed == 1, "one line", 30)  # type: ignore[union-attr]
    with Emulator(batch_folder=folder) as second:  # another process's emulator, on another port
        client = openai.OpenAI(base_url=second.url, api_key="sk-test", max_retries=0)
        batch = _finished(client, batch_id)
        assert batch.status == "completed"
        assert batch.metadata == {"run": "r2"}
        assert sorted(x["custom_id"] for x in _lines(client, batch.output_file_id)) == ["c0", "c1", "c2"]


def test_uploads_and_creates_are_checked(own: tuple[Emulator, openai.OpenAI]) -> None:
    _, client = own
    with pytest.raises(openai.BadRequestError, match="purpose"):
        client.files.create(file=("x.jsonl", b"{}", "application/jsonl"), purpose="nonsense")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError, match="No such File"):
        client.batches.create(input_file_id="file-nope", endpoint="/v1/images/generations", completion_window="24h")
    uploaded = client.files.create(file=("x.jsonl", b"{}", "application/jsonl"), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="metadata"):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/images/generations",
                              completion_window="24h", metadata={"k": "v" * 513})
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_missing")


def test_batch_faults_over_http_for_a_kernel_in_another_process(own: tuple[Emulator, openai.OpenAI]) -> None:
    emu, client = own
    assert _post(f"{emu.origin}/_emulator/batch_faults", {"hold_after": 1}) == 200
    assert _post(f"{emu.origin}/_emulator/batch_faults", {"nonsense": 1}) == 400
    batch_id = _submit(client, [_line(0), _line(1)])
    wait_until(lambda: client.batches.retrieve(batch_id).request_counts.completed == 1, "one line", 30)  # type: ignore[union-attr]
    assert _post(f"{emu.origin}/_emulator/batch_release", {}) == 200
    assert _finished(client, batch_id).request_counts.completed == 2
    assert not [e for e in emu.log if "_emulator" in e.path]  # control calls are not logged


def _post(url: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_command_line_keeps_batches_in_the_folder_it_is_given(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.Popen([sys.executable, "-m", "image_widget.emulator", "--batch-folder", str(tmp_path),
                             "--batch-step", "0.5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": src})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        with urllib.request.urlopen(url.removesuffix("/v1") + "/_emulator/config", timeout=5) as resp:
            assert json.loads(resp.read())["batch_step_s"] == 0.5
        client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
        uploaded = client.files.create(file=("in.jsonl", b"{}", "application/jsonl"), purpose="batch")
        assert (tmp_path / "files" / f"{uploaded.id}.json").is_file()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_file_mixing_models_fails_validation_naming_them(own: tuple[Emulator, openai.OpenAI]) -> None:
    _, client = own
    batch = _finished(client, _submit(client, [_line(0), _line(1, model="gpt-image-1-mini"), _line(2)]))
    assert batch.status == "failed"
    (error,) = batch.errors.data
    assert (error.code, error.line) == ("mismatched_model", 2)
    assert "'gpt-image-1-mini'" in error.message
    assert "'gpt-image-2'" in error.message
    assert batch.output_file_id is None


def test_output_expires_after_is_checked_and_applied(own: tuple[Emulator, openai.OpenAI]) -> None:
    """`output_expires_after` (BatchFileExpirationAfter: anchor created_at, 3600–2592000 s) is refused out of
    range and, in range, sets when the output file expires."""
    _emu, client = own
    uploaded = client.files.create(file=("in.jsonl", json.dumps(_line(0)).encode(), "application/jsonl"),
                                   purpose="batch")
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/images/generations", completion_window="24h",
                              output_expires_after={"anchor": "created_at", "seconds": 5})
    assert refused.value.param == "output_expires_after.seconds"
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/images/generations",
                                  completion_window="24h",
                                  output_expires_after={"anchor": "created_at", "seconds": 7200})
    done = _finished(client, batch.id)
    assert done.output_file_id is not None
    output = client.files.retrieve(done.output_file_id)
    assert output.expires_at == output.created_at + 7200
