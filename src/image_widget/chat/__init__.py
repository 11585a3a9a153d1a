"""Conversations through the Responses API: `Chat` (session), one turn checked and built (`turn`), sent and
read (`call`), priced before and after (`money`)."""

from image_widget.chat.session import Chat

__all__ = ["Chat"]
