"""The request side of image_widget: from a call to saved images, over the openai SDK.

Modules, in the order a request meets them:

* `api` — the public calls (`generate`, `edit`, `vary`, `rerun`, their async twins, `astream`);
* `options` — `RunOptions`, the connection and run keyword arguments, parsed once;
* `wire` — `Request`, what a request is as the API will see it;
* `request` — `run`, the one request path (validate, cache, send, save);
* `edits` — edits that line up with their input (`size="match"`, held pixels, detail crops, expand);
* `finish` — each returned image of those brought back to the input and composited (raw kept too);
* `backend` — which server answers (OpenAI, a custom server, the offline emulator) and its clients;
* `models` — the server's own model list and dates (`GET /v1/models`, `iw.models()`), once per session;
* `sdk` — the openai SDK adapter (calls, streaming, errors translated);
* `persist` — records, saved images and inputs, cost per image;
* `result` — `Result`.

Failures are `image_widget.base.errors`; threads and loops are `image_widget.base.runtime`. Nothing is imported
here, so `import image_widget.client.backend` stays light.
"""
