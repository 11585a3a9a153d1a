"""Former home of the widget's pure payload builders, kept so existing imports keep working.

They now live in `image_widget.widget`: `options` (option rules), `plan` (the request and its
problems), `banners` (the error banner, scrubbing) and `payloads` (results, history, compare, cost).
"""

from image_widget.widget.banners import ORG_SETTINGS_URL, ErrorBanner, error_banner, scrub
from image_widget.widget.options import (
    DEFAULT_OPTIONS,
    MODES,
    OPTION_KEYS,
    Mode,
    clamp_options,
    merge_options,
    models_for_picker,
)
from image_widget.widget.payloads import (
    COMPARE_FIELDS,
    HISTORY_RUNS,
    HISTORY_THUMB_PX,
    PREVIEW_PX,
    RESULT_THUMB_PX,
    Notice,
    compare_item,
    compare_records,
    cost_payload,
    history_run,
    merge_history,
    notice,
    result_item,
)
from image_widget.widget.plan import Plan, plan_request, problems_dict, problems_of

__all__ = [
    "COMPARE_FIELDS",
    "DEFAULT_OPTIONS",
    "HISTORY_RUNS",
    "HISTORY_THUMB_PX",
    "MODES",
    "OPTION_KEYS",
    "ORG_SETTINGS_URL",
    "PREVIEW_PX",
    "RESULT_THUMB_PX",
    "ErrorBanner",
    "Mode",
    "Notice",
    "Plan",
    "clamp_options",
    "compare_item",
    "compare_records",
    "cost_payload",
    "error_banner",
    "history_run",
    "merge_history",
    "merge_options",
    "models_for_picker",
    "notice",
    "plan_request",
    "problems_dict",
    "problems_of",
    "result_item",
    "scrub",
]
