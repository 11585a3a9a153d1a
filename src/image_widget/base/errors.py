"""What can go wrong with a request, and what to tell a person about it — in one place.

* One exception hierarchy: `APIRequestError` and a subclass per kind of failure, so callers catch what
  they care about (`except RateLimitedError`) instead of comparing strings.
* One advice table (`ADVICE`): for each kind, the hint appended to the Python message and the title
  and next step of the widget's error banner.
* One scrubber (`scrub`): keys never reach a message, a banner, a log or a saved file.

`translate_error` turns an SDK (or transport) exception into one of ours. Nothing here imports openai.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

_KEY_RE = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")
ORG_SETTINGS_URL = "https://platform.openai.com/settings/organization/general"


class Scrubber(Protocol):
    """What `translate_error` needs of a backend: to take its key out of a text (errors sit below client/)."""

    def scrub(self, text: str) -> str: ...


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove every given secret and anything shaped like an OpenAI key from `text`."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted key]")
    return _KEY_RE.sub("sk-[redacted]", text)


# --------------------------------------------------------------------------------------------- hierarchy


class APIRequestError(RuntimeError):
    """The API (or the connection to it) failed. The message says what happened and what to do next."""

    default_kind: ClassVar[str] = "api_error"

    def __init__(  # noqa: PLR0913 - keyword-only fields of the error, as the SDK reports them
            self, message: str, *, status: int | None = None, code: str | None = None,
                 param: str | None = None, request_id: str | None = None, hint: str | None = None,
                 retry_may_bill: bool | None = None, origin: str | None = None,
                 saved: Sequence[Path] = ()) -> None:
        advice = advice_for(type(self))
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        self.hint = advice.hint if hint is None else hint
        self.retry_may_bill = advice.may_bill if retry_may_bill is None else retry_may_bill
        self.origin = origin
        """The name of the SDK or transport exception this one translates, if any."""
        self.detail = message
        self.saved: list[Path] = list(saved)
        """Images of this request that arrived and were saved before it failed (a stream that broke)."""
        self.retry_after_s: float | None = None
        """How long the server asked to wait before trying again (its `retry-after-ms` / `retry-after`)."""
        text = message + (f" — {self.hint}" if self.hint else "")
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state: running `__init__` again on the finished message would add the hint twice."""
        return (_unpickle, (type(self), self.args, self.__dict__))

    @property
    def may_have_billed(self) -> bool:
        """The request may have reached the server and been billed (a 5xx, a timeout, a broken stream): never a
        refusal (4xx) or a 429, which the server turned away before doing any work."""
        return bool(self.retry_may_bill) and not isinstance(self, RateLimitedError)

    @property
    def kind(self) -> str:
        """A short label (the API's error code, else the SDK exception's name, else ours); kept for
        code written before the subclasses existed."""
        return self.code or self.origin or self.default_kind


def _unpickle(cls: type[APIRequestError], args: tuple[Any, ...], state: dict[str, Any]) -> APIRequestError:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class InvalidRequestError(APIRequestError):
    """400: the server refused a parameter."""


class ModerationBlockedError(InvalidRequestError):
    """The safety system refused the prompt or the input images."""


class AuthenticationFailedError(APIRequestError):
    """401: the key was missing or wrong."""


class NotPermittedError(APIRequestError):
    """403: the project or organisation may not use this model."""


class UnverifiedOrganisationError(NotPermittedError):
    """403 because the organisation is not verified (image models need it)."""


class ResourceNotFoundError(APIRequestError):
    """404: no such model, or a wrong base_url."""


class RequestConflictError(APIRequestError):
    """408 or 409: the server did not take the request (it timed out reading it, or a conflict) and asks to try
    again; the SDK has no class of its own for 408."""


class UnprocessableRequestError(APIRequestError):
    """422: the server could not process the request's parameters."""


class RateLimitedError(APIRequestError):
    """429: too many requests."""


class QuotaExceededError(RateLimitedError):
    """429 because the account ran out of credit."""


class ServerFailedError(APIRequestError):
    """5xx: the server failed."""


class RequestTimedOutError(APIRequestError):
    """No answer within `timeout`."""


class ConnectionFailedError(APIRequestError):
    """The server could not be reached, or the connection dropped."""


class StreamError(APIRequestError):
    """A streamed answer went wrong after the request was accepted."""


class StreamEventError(StreamError):
    """The server sent an error event mid-stream."""


class MalformedEventError(StreamError):
    """The server sent an event that is not valid JSON."""


class IncompleteStreamError(StreamError):
    """The stream ended without a final image."""

    default_kind = "stream"


class BrokenStreamError(StreamError):
    """A stream that broke after it had begun.

    Inside the request path a subclass (`client.sdk.StreamBroke`) carries what arrived whole before the break,
    which is then saved (it is paid for); the error the caller sees names those files in `saved`.
    """


class BadResponseError(APIRequestError):
    """The server answered, but not with usable images."""


class EmptyResponseError(BadResponseError):
    """The answer held no images."""

    default_kind = "empty"


class ResponseFormatError(BadResponseError):
    """An image came back as a URL instead of base64 data."""

    default_kind = "format"


class CorruptImageError(BadResponseError):
    """Some returned images were unreadable (the readable ones are saved)."""

    default_kind = "corrupt"


# --------------------------------------------------------------------------------------------- advice


@dataclass(frozen=True)
class Advice:
    """What to say about one kind of failure: after the Python message, and on the widget's banner."""

    hint: str = ""
    """Appended to the exception's message (lower case, no full stop)."""
    title: str = "Request failed"
    banner: str = ""
    """The banner's next step."""
    may_bill: bool = False
    """A retry of this kind of failure may be billed (the API has no idempotency key)."""
    own_hint_first: bool = False
    """The banner prefers the exception's own hint, `banner` being the fallback."""
    retry_note: bool = False
    """The banner adds " A retry may be billed." when the exception says so."""


_MAY_BILL = "(a retry may be billed)"
_STREAM_BROKE = ("the connection was open and the server was answering when it broke off; try again "
                 "(a retry may be billed), or turn partial previews off")
ADVICE: dict[type[APIRequestError], Advice] = {
    APIRequestError: Advice(banner="Try again.", own_hint_first=True),
    InvalidRequestError: Advice("fix the parameter named in the message", "Invalid request",
                                "Fix the option named in the message and try again."),
    ModerationBlockedError: Advice(
        "the request was blocked by moderation; rephrase the prompt", "Blocked by moderation",
        "Rephrase the prompt (and check the input images): the safety system refused this request."),
    AuthenticationFailedError: Advice("check OPENAI_API_KEY (or the api_key you passed)", "Authentication failed",
                                      "Check OPENAI_API_KEY (or the api_key you passed)."),
    NotPermittedError: Advice("your organisation may need verification: "
                              "platform.openai.com/settings/organization/general", "Permission denied",
                              "Check that your project may use this model.", own_hint_first=True),
    UnverifiedOrganisationError: Advice(
        "your organisation may need verification: platform.openai.com/settings/organization/general",
        "Organisation not verified", f"Verify your organisation at {ORG_SETTINGS_URL} — image models need it; "
        "access can take up to 15 minutes to arrive after verifying."),
    ResourceNotFoundError: Advice("check the model name and the base_url", "Not found",
                                  "Check the model name and the base_url.", own_hint_first=True),
    RequestConflictError: Advice("try again in a moment"),
    UnprocessableRequestError: Advice("fix the request parameters"),
    RateLimitedError: Advice(f"rate limited; wait a little and try again {_MAY_BILL}", "Rate limited",
                             "Wait a minute before trying again; each retry of an image request may be billed.",
                             may_bill=True),
    QuotaExceededError: Advice(f"rate limited; wait a little and try again {_MAY_BILL}", "Quota exceeded",
                               "Add credit or raise the limit in your OpenAI billing settings.", may_bill=True),
    ServerFailedError: Advice(f"the server failed; try again {_MAY_BILL}", "Server error",
                              "The server failed; try again in a moment.", may_bill=True, retry_note=True),
    RequestTimedOutError: Advice(
        f"the request timed out; try a smaller size or lower quality, or raise timeout= {_MAY_BILL}",
        "Request timed out", "Try a smaller size or lower quality (or raise timeout=).", may_bill=True,
        retry_note=True),
    ConnectionFailedError: Advice(f"could not reach the server; check the network and base_url {_MAY_BILL}",
                                  "Connection failed", "Check the network connection and the base_url.",
                                  may_bill=True, retry_note=True),
    StreamError: Advice(may_bill=True),
    StreamEventError: Advice(f"the server reported an error mid-stream; try again {_MAY_BILL}", may_bill=True),
    MalformedEventError: Advice(f"the server sent a malformed event; try again {_MAY_BILL}", may_bill=True),
    IncompleteStreamError: Advice("try again; partial previews were not saved as results", may_bill=True),
    BrokenStreamError: Advice(_STREAM_BROKE, may_bill=True),
    BadResponseError: Advice(),
    EmptyResponseError: Advice("try again; nothing was returned to save", may_bill=True),
    ResponseFormatError: Advice("GPT image models always return base64; check the server"),
    CorruptImageError: Advice("try again; the images that did arrive are on disk", may_bill=True),
}


def advice_for(kind: type[APIRequestError]) -> Advice:
    """The row of `kind`, or of its nearest ancestor in the table (a caller's own subclass)."""
    for cls in kind.__mro__:
        if issubclass(cls, APIRequestError) and cls in ADVICE:
            return ADVICE[cls]
    return ADVICE[APIRequestError]


# --------------------------------------------------------------------------------------------- translation

_FROM_SDK: dict[str, type[APIRequestError]] = {
    "BadRequestError": InvalidRequestError,
    "AuthenticationError": AuthenticationFailedError,
    "PermissionDeniedError": NotPermittedError,
    "NotFoundError": ResourceNotFoundError,
    "ConflictError": RequestConflictError,
    "UnprocessableEntityError": UnprocessableRequestError,
    "RateLimitError": RateLimitedError,
    "InternalServerError": ServerFailedError,
    "APITimeoutError": RequestTimedOutError,
    "APIConnectionError": ConnectionFailedError,
    "APIError": StreamEventError,  # the SDK raises the bare APIError for an error event in a stream
    "JSONDecodeError": MalformedEventError,
}
_UNVERIFIED_CODES = ("organization_not_verified", "org_not_verified")


def translate_error(exc: BaseException, backend: Scrubber) -> APIRequestError:
    """Turn an SDK (or transport) exception into an `APIRequestError` with a next step and no key."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    code_text = str(code) if code else None
    message = backend.scrub(f"{name}: {getattr(exc, 'message', None) or str(exc) or name}")
    kind = (_FROM_SDK.get(name) or (RequestConflictError if status == 408 else None)
            or (ServerFailedError if (status or 0) >= 500 else APIRequestError))
    may_bill = advice_for(kind).may_bill or (status or 0) >= 500
    if code_text == "moderation_blocked":
        kind = ModerationBlockedError
    elif kind is NotPermittedError and ("verif" in message.lower() or code_text in _UNVERIFIED_CODES):
        kind = UnverifiedOrganisationError
    elif kind is RateLimitedError and code_text == "insufficient_quota":
        kind = QuotaExceededError
    error = kind(message, status=status, code=code_text, param=getattr(exc, "param", None),
                 request_id=getattr(exc, "request_id", None), retry_may_bill=may_bill, origin=name)
    error.retry_after_s = _retry_after(getattr(getattr(exc, "response", None), "headers", None))
    return error


def _retry_after(headers: Any) -> float | None:
    """The wait a 429 or 503 asks for, in seconds: `retry-after-ms` (OpenAI's), else `retry-after` in seconds
    (an HTTP date is left to the caller's own backoff)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name))
        except (TypeError, ValueError):
            continue
        if value >= 0:
            return value * scale
    return None


# --------------------------------------------------------------------------------------------- banner


def banner_text(exc: APIRequestError) -> tuple[str, str, str]:
    """The widget banner's (title, message, next step) for `exc`.

    Chosen from the status, code and message rather than the class alone: a broken stream keeps its
    cause's status, and the server's words ("verify", "moderation") say more than the status does.
    """
    message = str(exc.detail or exc)
    kind = _banner_kind(exc, message.lower())
    advice = ADVICE[kind]
    if kind is InvalidRequestError and exc.param:
        step = f"Fix the option '{exc.param}' and try again."
    elif advice.own_hint_first:
        step = exc.hint or advice.banner
    else:
        step = advice.banner
    if advice.retry_note and exc.retry_may_bill:
        step += " A retry may be billed."
    return advice.title, message, step


def _banner_kind(exc: APIRequestError, lowered: str) -> type[APIRequestError]:
    status, code, kind = exc.status, exc.code, exc.kind.lower()
    if code == "moderation_blocked" or ("moderation" in lowered and status == 400):
        return ModerationBlockedError
    if status == 403:
        verify = "verif" in lowered or code in _UNVERIFIED_CODES
        return UnverifiedOrganisationError if verify else NotPermittedError
    if status == 401:
        return AuthenticationFailedError
    if status == 429:
        return QuotaExceededError if code == "insufficient_quota" else RateLimitedError
    if "timeout" in kind or "timed out" in lowered:
        return RequestTimedOutError
    if "connection" in kind:
        return ConnectionFailedError
    if status == 400:
        return InvalidRequestError
    if status == 404:
        return ResourceNotFoundError
    if status is not None and status >= 500:
        return ServerFailedError
    return APIRequestError


_PAID = "image_widget_paid_usd"


def mark_paid(exc: BaseException, usd: float) -> None:
    """Note on a failure that it came after a paid answer (its images could not be saved): what was paid, for a
    budget that counts the failed call (`paid_before_failing`)."""
    setattr(exc, _PAID, usd)


def paid_before_failing(exc: BaseException) -> float | None:
    """What a request had paid when it failed after its answer came (`mark_paid`); None: nothing known."""
    paid = getattr(exc, _PAID, None)
    return paid if isinstance(paid, float | int) else None


class BudgetError(ValueError):
    """A cost would pass a budget (`max_cost`, or the classroom's `IMAGE_WIDGET_BUDGET_USD`), or cannot be
    bounded; nothing was sent. The message names the budget, what was spent and what is left."""
