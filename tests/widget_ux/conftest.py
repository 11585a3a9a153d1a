"""The widget fixtures of tests/test_widget.py, shared with the tests of issue 14's widget behaviour."""

from test_widget import make_widget  # noqa: F401 - the fixture, found by name
