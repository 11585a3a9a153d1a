"""Per-turn overhead of a conversation (issue 20): `iw.Chat.send` against a bare SDK `responses.create` loop.

Both run the same three-turn conversation (each turn continuing the previous response by
`previous_response_id`) against the emulator in its own process, interleaved, and decode each turn's image
with PIL. Ours also checks the turn, prices it before and after, writes the image and its record (atomically,
before it is returned) and indexes it. The figure is the median time of one turn.

    python benchmarks/run.py --only conversation
"""

from __future__ import annotations

import base64
import io
import tempfile
import time
from statistics import median

import image_widget as iw
from bench_python import KEY, _emulator_process
from common import Figure

TURNS = ("a red fox in snow", "make it night", "add a lantern")
TOOL = {"type": "image_generation", "model": "gpt-image-2", "size": "1024x1024", "quality": "low"}


def per_turn_overhead(conversations: int = 15) -> list[Figure]:
    import openai
    from PIL import Image

    ours_s: list[float] = []
    bare_s: list[float] = []
    with _emulator_process() as url, tempfile.TemporaryDirectory() as folder:
        client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)

        def bare() -> None:
            previous = None
            for prompt in TURNS:
                start = time.perf_counter()
                response = client.responses.create(model="gpt-5.5", input=prompt, tools=[TOOL],  # type: ignore[list-item]
                                                   tool_choice={"type": "image_generation"},
                                                   previous_response_id=previous)
                result = next(item.result for item in response.output if item.type == "image_generation_call")
                Image.open(io.BytesIO(base64.b64decode(result or ""))).load()
                previous = response.id
                bare_s.append(time.perf_counter() - start)

        def ours() -> None:
            chat = iw.Chat(base_url=url, api_key=KEY, folder=folder, size="1024x1024", quality="low")
            for prompt in TURNS:
                start = time.perf_counter()
                chat.send(prompt)
                ours_s.append(time.perf_counter() - start)

        for _ in range(2):  # warm both paths (imports, connections, the index)
            bare()
            ours()
        ours_s.clear()
        bare_s.clear()
        for _ in range(conversations):
            ours()
            bare()
        client.close()
    t_ours, t_bare = median(ours_s), median(bare_s)
    return [Figure("conversation turn (Chat.send, 3-turn threads)", t_ours * 1000, "ms", t_bare * 1000,
                   "bare SDK responses.create + PIL decode", "<= 1.10x (store writes included)",
                   t_ours / t_bare <= 1.10, {"turns": len(ours_s)})]
