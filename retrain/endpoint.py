"""``retrain endpoint``: the HTTP scoring service, a FastAPI app on uvicorn.

The logic is the serving package's (``serving.invocations`` parses and answers,
``serving.live`` scores, ``serving.follow`` follows the aliases, ``serving.log_writer``
logs); this module only maps it to HTTP. Every refusal is a JSON ``error`` object like the
command line's (``kind``, ``message``) with a status that says whose fault it is: 400 for a body
that is not a table, 413 for a body over ``serving.endpoint.max_body_bytes``, 422 for rows
that fail a check (``failed_checks`` lists them) or carry unknown columns. A refused request
is logged nowhere. Scoring runs in FastAPI's worker threads; each request takes the current
``Serving`` once at its start and finishes on it whatever the follower does meanwhile.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request  # at module level: FastAPI reads the route annotations from here

if TYPE_CHECKING:
    from base.settings import ModelConfig


def status_for(error: Exception) -> int:
    """The HTTP status of a refusal: the client's body (400/413) or the rows it holds (422)."""
    from base.errors import Kind, RetrainError
    from serving.invocations import BodyTooLarge

    if isinstance(error, BodyTooLarge):
        return 413
    if isinstance(error, RetrainError) and error.kind is Kind.DATA_INVALID:
        return 422
    return 400


def build_app(config: "ModelConfig", follow: bool = True) -> FastAPI:
    """The app of one model; the follower and the writer live as long as the app."""
    from fastapi.responses import JSONResponse, Response

    from base.errors import RetrainError
    from serving.follow import ChampionFollower
    from serving.invocations import answer_bytes, parse_invocation
    from serving.live import score_request
    from serving.log_writer import LogWriter

    follower = ChampionFollower(config)
    writer = LogWriter(config)
    scoring = threading.Lock()  # one request scores at a time: the thread cap and a GX fallback are process-wide

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        writer.start()
        if follow:
            follower.start()
        yield
        follower.stop()
        writer.close()

    app = FastAPI(title=f"retrain endpoint: {config.name}", lifespan=lifespan)
    app.state.follower, app.state.writer = follower, writer

    def refuse(error: RetrainError) -> JSONResponse:
        body = {"error": {"kind": error.kind.value, "message": error.message}, **error.extra()}
        return JSONResponse(body, status_code=status_for(error))

    @app.post("/invocations")
    async def invoke(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        raw = await request.body()
        return await run_in_threadpool(answer, raw, request.headers.get("content-type", "application/json"))

    def answer(raw: bytes, content_type: str) -> Response:
        serving = follower.current  # taken once: this request finishes on it
        try:
            frame = parse_invocation(raw, content_type, config)
            with scoring:
                live = score_request(config, serving, frame)
        except RetrainError as error:
            return refuse(error)
        writer.submit(live)
        return Response(answer_bytes(live.result.rows), media_type="application/json")

    @app.get("/health")
    @app.get("/ping")
    def health() -> dict[str, Any]:
        serving, seen = follower.current, follower.status
        return {
            "status": "ok",
            "model": config.name,
            "version": serving.champion.version,
            "challenger": None if serving.challenger is None else serving.challenger.version,
            "poll_seconds": follower.poll_seconds,
            "polls": seen.polls,
            "last_poll": seen.last_poll,
            "not_loaded": dict(seen.refused),
            "log": writer.counts.__dict__,
        }

    @app.get("/version")
    def version() -> dict[str, Any]:
        serving = follower.current
        return {
            "model": config.name,
            "version": serving.champion.version,
            "since": serving.since,
            "challenger": None if serving.challenger is None else serving.challenger.version,
            "threshold": serving.champion.calibration.threshold,
        }

    return app


def run_app(app: FastAPI, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM; the writer flushes what was answered before the process ends."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
