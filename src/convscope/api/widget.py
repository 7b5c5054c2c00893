"""`Model.widget()`: the live page inside Jupyter or VS Code (anywidget), no server.

The widget loads the page's own module (web/app.js) and style; its requests arrive as
widget messages {"id", "kind", "body"} and are answered by api.live, exactly as the
server answers them over HTTP: {"id", "result"} or {"id", "error"}.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import missing_extra
from .live import WEB, Live, RequestError
from .model import Model


def widget(model: Model) -> Any:
    try:
        import anywidget
    except ImportError:
        raise missing_extra("Model.widget()", "widget", "anywidget") from None

    class LiveWidget(anywidget.AnyWidget):
        _esm = (WEB / "app.js").read_text(encoding="utf-8")
        _css = (WEB / "style.css").read_text(encoding="utf-8")

        def __init__(self, live: Live) -> None:
            super().__init__()
            self.live = live
            self.on_msg(self._on_message)

        def answer(self, message: Any) -> dict[str, Any]:
            """The reply to one request message (what the page's transport awaits)."""
            if not isinstance(message, dict) or "kind" not in message:
                return {"id": None, "error": "a request is {id, kind, body}"}
            try:
                result = self.live.handle(str(message["kind"]), message.get("body"))
                return {"id": message.get("id"), "result": result}
            except RequestError as error:
                return {"id": message.get("id"), "error": str(error)}

        def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
            self.send(self.answer(content))

    return LiveWidget(Live(model))
