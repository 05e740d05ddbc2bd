"""The review page's web app (FastAPI, Jinja2 templates, no JavaScript build step).

Every path but the sign-in form and ``/health`` needs a signed-in reviewer: an anonymous
visitor's page request is sent to the sign-in form, anything else gets 401, and neither shows
a row. Forms carry the session's CSRF token. An answer is recorded under the session's name.
Blocking work (the database, the registry) runs in the server's thread pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from retrain.review_web.accounts import Gatekeeper
from retrain.review_web.pages import AnswersRefused, Order, ReviewSite, Show, overview, queue_view, record
from retrain.review_web.sessions import COOKIE, SESSION_HOURS, Session, Sessions

OPEN_PATHS = ("/login", "/health")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def create_app(site: ReviewSite, gate: Gatekeeper, sessions: Sessions) -> FastAPI:
    """The app for one home's (or one team's) review queue."""
    app = FastAPI(title="Retrain review", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def require_reviewer(request: Request, call_next: Any) -> Response:
        session = sessions.read(request.cookies.get(COOKIE))
        request.state.session = session
        if request.url.path in OPEN_PATHS or (session is not None and session.user):
            return await call_next(request)
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return PlainTextResponse("sign in first", status_code=401)

    @app.get("/health")
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        session = request.state.session or sessions.fresh()
        return _page(request, sessions, "login.html", session, {})

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        session = request.state.session
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        if session is None or not session.token_matches(str(form.get("csrf", ""))):
            return _page(
                request, sessions, "login.html", sessions.fresh(), {"error": "the form expired; sign in again"}, 400
            )
        if not await run_in_threadpool(gate.sign_in, name, password):
            wait = " (too many tries: wait 15 minutes)" if gate.locked(name) else ""
            return _page(request, sessions, "login.html", session, {"error": f"wrong name or password{wait}"}, 401)
        return _redirect(request, "/", sessions, sessions.fresh(name))

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        if not request.state.session.token_matches(str(form.get("csrf", ""))):
            return PlainTextResponse("the form expired; reload the page", status_code=400)
        return _redirect(request, "/login", sessions, sessions.fresh())

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        return _page(request, sessions, "index.html", request.state.session, {"models": overview(site)})

    @app.get("/models/{model}", response_class=HTMLResponse)
    def model_page(request: Request, model: str, batch: str = "", show: Show = Show.PENDING,
                   order: Order = Order.LEAST_CONFIDENT, done: int = 0, start: int = 0) -> Response:  # fmt: skip
        who = request.state.session.user
        message = f"{done} answer(s) recorded by {who}" if done else None
        return _queue_page(request, model, batch, show, order, message, None, start=start)

    @app.post("/models/{model}/answers", response_class=HTMLResponse)
    async def answer(request: Request, model: str) -> Response:
        from serving.review_queue import AnswerChanged, NotQueued, Reply

        form = await request.form()
        session: Session = request.state.session
        batch, show, order = (
            str(form.get("batch", "")),
            _choice(Show, form.get("show"), Show.PENDING),
            _choice(Order, form.get("order"), Order.LEAST_CONFIDENT),
        )
        if not session.token_matches(str(form.get("csrf", ""))):
            return _queue_page(request, model, batch, show, order, None, "the form expired; reload the page", 400)
        replies = [
            Reply(key[6:], str(value).strip(), str(form.get(f"seen:{key[6:]}", "")) or None)
            for key, value in form.multi_items()
            if key.startswith("label:") and str(value).strip()
        ]
        try:
            done = await run_in_threadpool(record, site, model, replies, str(session.user))
        except (AnswersRefused, NotQueued, AnswerChanged) as exc:
            status = 409 if isinstance(exc, AnswerChanged) else 400
            return _queue_page(request, model, batch, show, order, None, str(exc), status)
        start = int(str(form.get("start", "0"))) if str(form.get("start", "0")).isdigit() else 0
        query = urlencode({"batch": batch, "show": show.value, "order": order.value, "start": start, "done": len(done)})
        return RedirectResponse(f"/models/{model}?{query}", status_code=303)

    def _queue_page(request: Request, model: str, batch: str, show: Show, order: Order,
                    message: str | None, error: str | None, status: int = 200, start: int = 0) -> Response:  # fmt: skip
        view = queue_view(site, model, batch or None, show, order, start)
        context = {
            "view": view,
            "batch": batch,
            "show": show.value,
            "order": order.value,
            "message": message,
            "error": error,
        }
        return _page(request, sessions, "model.html", request.state.session, context, status)

    return app


def _choice(kind: Any, value: Any, default: Any) -> Any:
    """A filter's value from a form, its default when absent or unknown."""
    return kind(value) if value in {m.value for m in kind} else default


def _page(request: Request, sessions: Sessions, name: str, session: Session, context: dict[str, Any],
          status: int = 200) -> Response:  # fmt: skip
    response = TEMPLATES.TemplateResponse(request, name, {**context, "session": session}, status_code=status)
    _set_cookie(request, response, sessions, session)
    return response


def _redirect(request: Request, to: str, sessions: Sessions, session: Session) -> Response:
    response = RedirectResponse(to, status_code=303)
    _set_cookie(request, response, sessions, session)
    return response


def _set_cookie(request: Request, response: Response, sessions: Sessions, session: Session) -> None:
    """Served over HTTPS (a TLS proxy in front sets X-Forwarded-Proto), the cookie travels over HTTPS only."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE, sessions.write(session), max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax", secure=secure
    )
