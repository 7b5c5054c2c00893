"""`convscope serve`: the live page for one model, on 127.0.0.1 (Starlette + uvicorn).

    GET  /                 the page (web/index.html; plain ES modules, nothing fetched
                           from a network)
    GET  /static/<file>    its script and style
    GET  /api/model        the explanation and each layer's geometry
    POST /api/predict      {"pixels": [[28 x 28]]} or {"image": "<base64>"}
    POST /api/position     one value's arithmetic;  POST /api/channel  one filter
    POST /api/test         a test image by index or at random, through the model
    POST /api/attribution  {"pixels" or "image", "method", "target"?}: one attribution map

Bodies over MAX_BODY bytes get 413, malformed JSON or images 400, the wrong shape 422,
always as {"error": "..."}; never a traceback. One forward pass at a time (api.live).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from typing import Any, TextIO

from ..core.errors import ConvscopeError
from .live import MAX_BODY, WEB, Live, RequestError
from .model import Model

STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DRAIN = 4 * MAX_BODY  # a body up to this is read (and dropped) so the client hears its 413


def app(model: Model) -> Any:
    """The Starlette application serving `model`."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    service = Live(model)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def body_of(request: Request) -> Any:
        too_large = RequestError(413, f"the request body is over {MAX_BODY:,} bytes")
        declared = request.headers.get("content-length")
        if declared is not None and not declared.isdigit():
            raise RequestError(400, "the Content-Length header is not a number")
        if declared is not None and int(declared) > DRAIN:
            raise too_large  # not read at all: the connection closes
        chunks, size = [], 0
        async for chunk in request.stream():  # a lying or absent length: count as it comes
            size += len(chunk)
            if size > DRAIN:
                raise too_large
            if size <= MAX_BODY:
                chunks.append(chunk)  # past the limit, read and dropped: the client gets its 413
        if size > MAX_BODY:
            raise too_large
        try:
            return json.loads(b"".join(chunks) or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise RequestError(400, f"the body is not JSON ({err})") from None

    async def api(request: Request) -> Response:
        kind = request.path_params["kind"]
        try:
            body = None if request.method == "GET" else await body_of(request)
            if (request.method == "GET") != (kind == "model"):
                return error(405, f"/api/{kind} takes {'GET' if kind == 'model' else 'POST'}")
            return JSONResponse(await run_in_threadpool(service.handle, kind, body))
        except RequestError as err:
            return error(err.status, str(err))
        except Exception as err:  # a bug: say so in one line, keep serving
            return error(500, f"internal error: {type(err).__name__}: {err}")

    async def page(request: Request) -> Response:
        return FileResponse(WEB / "index.html", media_type="text/html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return error(404, f"no such file: {name}")
        return FileResponse(WEB / name, media_type=STATIC[name])

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)  # browsers ask; there is none

    return Starlette(
        routes=[
            Route("/", page),
            Route("/favicon.ico", no_icon),
            Route("/static/{name}", static),
            Route("/api/{kind}", api, methods=["GET", "POST"]),
        ]
    )


def free_port(host: str, start: int) -> int | None:
    for port in range(start, start + 50):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
                return port
            except OSError:
                continue
    return None


def check_host(host: str, allow_remote: bool, err: TextIO) -> None:
    if host in LOOPBACK:
        return
    if not allow_remote:
        raise ConvscopeError(
            f"--host {host} would serve beyond this machine",
            hint="the page has no login: add --allow-remote if you really mean it",
        )
    err.write(f"convscope: warning: serving on {host}: anyone who can reach it can use it\n")


def serve(
    model: Model,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    allow_remote: bool = False,
    open_browser: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> None:
    """Serve the page until Ctrl-C (uvicorn stops cleanly on it)."""
    import uvicorn

    check_host(host, allow_remote, err)
    if free_port(host, port) != port:
        suggestion = free_port(host, port + 1)
        hint = f"try --port {suggestion}" if suggestion else "try another --port"
        raise ConvscopeError(f"port {port} on {host} is in use", hint=hint)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    out.write(f"Serving {model.summary()} at {url} (Ctrl-C stops)\n")
    out.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app(model), host=host, port=port, log_level="warning")
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops, then re-raises the Ctrl-C
        uvicorn.Server(config).run()
    out.write("Stopped.\n")
