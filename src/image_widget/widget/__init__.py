"""The `ImageWidget` package: the widget class and, around it, one module per job.

`core` (the class: traits, public methods, option refresh), `serialization` (the `mask` and `history`
trait values and their wire form), `markup` (the `markup` trait), `commands` (messages from the page),
`inputs` (input images and chunked uploads), `runs` (jobs, previews, results, cost), `thumbs`,
`connection` (the key, scrubbing), and the pure payload builders `options`, `plan`, `banners`,
`payloads` (tested without a kernel).
"""

from image_widget.widget.core import _FALLBACK_ESM as _FALLBACK_ESM  # the wheel check reads these two
from image_widget.widget.core import _STATIC as _STATIC
from image_widget.widget.core import ImageWidget

__all__ = ["ImageWidget"]
