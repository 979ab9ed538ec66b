"""The HTTP routes: reading (``/read``), health, metrics, the review page and its endpoints.

Every refusal is an :class:`~anpr.serve.errors.ApiError` answered as ``{"error": {kind, message}}``
(404s and 405s included), so clients handle one shape. The review endpoints, which write files,
take ``Authorization: Bearer <token>`` when the server was started with a token, and refuse
requests another web site's page sends from the user's browser (its ``Origin`` is not ours).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from anpr import __version__
from anpr.serve import schema
from anpr.serve.batching import QueueFull
from anpr.serve.engine import ReadEngine
from anpr.serve.errors import ApiError
from anpr.serve.images import ImageProblem, check_image
from anpr.serve.metrics import Metrics
from anpr.serve.review import DECISIONS, ReviewStore, TextProblem, settle_text
from anpr.serve.settings import ServeSettings
from anpr.serve.uploads import parse_upload, read_body

PAGE_FILES = {  # URL name -> content type; the page is these files and nothing else
    "index.html": "text/html; charset=utf-8",
    "review.js": "text/javascript; charset=utf-8",
    "review.css": "text/css; charset=utf-8",
}
# The page loads nothing from elsewhere; images it shows are the user's own files (blob: URLs).
PAGE_POLICY = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'"
ERRORS = {404: "not_found", 405: "method_not_allowed"}


def build_app(settings: ServeSettings, reader: Any = None) -> FastAPI:
    """The server's ASGI app; ``reader`` is loaded from ``settings.model`` when not given."""
    metrics = Metrics()
    engine = ReadEngine(settings, reader, on_batch=metrics.on_batch)
    store = ReviewStore(settings.review_dir) if settings.review_dir is not None else None
    page = {name: (files("anpr.serve").joinpath("page", name).read_bytes(), kind) for name, kind in PAGE_FILES.items()}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await engine.start()
        yield
        await engine.stop()

    app = FastAPI(
        title="anpr serve",
        version=__version__,
        summary="Indian number plates read from cropped plate images, and a page to review doubtful reads.",
        lifespan=lifespan,
    )
    app.state.engine, app.state.metrics, app.state.store = engine, metrics, store

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        kind = ERRORS.get(err.status_code, "http_error")
        return error_response(ApiError(err.status_code, kind, f"{request.method} {request.url.path}: {err.detail}"))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        return error_response(ApiError(422, "bad_request", problems))

    @app.post(
        "/read",
        summary="Read the plates of one or several crops",
        response_model=None,
        openapi_extra={"requestBody": schema.READ_REQUEST_BODY},
        responses={
            200: {"model": schema.ReadResponse, "description": "every image answered, each read or with its error"},
            "4XX": {"model": schema.ErrorResponse, "description": "nothing in the request could be read"},
            503: {"model": schema.ErrorResponse, "description": "model not ready yet, or too many images waiting"},
        },
    )
    async def read(request: Request) -> JSONResponse:
        """Multipart field ``image`` (repeat it for several) or JSON ``{"images": [base64, ...]}``."""
        start, status = time.perf_counter(), 500
        try:
            records = await read_images(request)
            problem = first_problem(records)
            status = problem.status if problem else 200
            body = {"results": records} if problem is None else {**problem.to_record(), "results": records}
            return JSONResponse(body, status_code=status)
        except ApiError as err:
            status = err.status
            metrics.on_request_error(err.kind)
            return error_response(err)
        finally:
            metrics.on_request("read", status, time.perf_counter() - start)

    async def read_images(request: Request, upload=None) -> list[dict[str, Any]]:
        if not engine.ready:
            raise ApiError(503, "not_ready", engine.failure or "the model is loading; retry in a moment")
        if upload is None:
            body = await read_body(request, settings.limits)
            upload = parse_upload(request.headers.get("content-type", ""), body, settings.limits.max_images)
        if not upload.images:
            raise ApiError(400, "no_images", "no image in the request: multipart field 'image' or JSON 'images'")
        try:
            results = await engine.read(upload.images)
        except QueueFull as err:
            raise ApiError(503, "overloaded", f"{err}: retry later") from None
        records = [r.to_record() if isinstance(r, ImageProblem) else r for r in results]
        metrics.on_results(records)
        return records

    @app.get("/healthz", summary="The process is up and answering")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="The model is loaded and warmed up",
        responses={503: {"description": "still loading, or the model failed to load"}},
    )
    async def readyz() -> JSONResponse:
        if engine.ready:
            return JSONResponse({"status": "ready", "model": settings.model})
        status = "failed" if engine.failure else "loading"
        return JSONResponse({"status": status, "reason": engine.failure}, status_code=503)

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics_page() -> Response:
        return Response(metrics.exposition(engine.batcher.queued), media_type=metrics.content_type)

    @app.get("/info", summary="What the page needs to know: model, options, limits, review settings")
    async def info() -> dict:
        grammar = engine.reader.decoder.grammar if engine.ready else None
        look = engine.reader.second_look if engine.ready else None
        small = engine.reader.small_crops if engine.ready else None
        return {
            "model": settings.model,
            "version": __version__,
            "ready": engine.ready,
            "grammar": grammar.name if grammar is not None else None,
            "min_confidence": settings.decoding.min_confidence,
            "n_best": settings.decoding.n_best,
            "second_look": {"below": look.below, "views": list(look.views)} if look else None,
            "small_crops": {"below_height": small.below_height, "reader": small.reader.source} if small else None,
            "max_images": settings.limits.max_images,
            "max_body_bytes": settings.limits.max_body_bytes,
            "review": {"enabled": store is not None, "token_required": settings.token is not None},
        }

    @app.get("/validate", summary="Whether a typed text is a label and fits the plate grammar", response_model=None)
    async def validate(text: str) -> JSONResponse:
        require_ready()
        try:
            label, valid = settle_text(text, engine.reader.charset, engine.reader.decoder.grammar)
        except TextProblem as err:
            raise ApiError(422, "bad_text", str(err)) from None
        return JSONResponse({"text": label, "valid_format": valid})

    @app.post(
        "/review",
        summary="Save a reviewed crop with its confirmed text (token required when the server has one)",
        response_model=None,
        openapi_extra={"requestBody": schema.REVIEW_REQUEST_BODY},
        responses={200: {"model": schema.Review}, "4XX": {"model": schema.ErrorResponse}},
    )
    async def review(request: Request) -> JSONResponse:
        start, status = time.perf_counter(), 500
        try:
            record = await save_review(request)
            status = 200
            return JSONResponse(record)
        except ApiError as err:
            status = err.status
            metrics.on_request_error(err.kind)
            return error_response(err)
        finally:
            metrics.on_request("review", status, time.perf_counter() - start)

    async def save_review(request: Request) -> dict[str, Any]:
        require_writer(request)
        body = await read_body(request, settings.limits)
        upload = parse_upload(request.headers.get("content-type", ""), body, 1)
        fields = upload.fields
        if len(upload.images) != 1 or isinstance(upload.images[0], str):
            raise ApiError(400, "no_images", "send exactly one crop in the multipart field 'image'")
        decision = fields.get("decision", "")
        if decision not in DECISIONS:
            raise ApiError(422, "bad_decision", f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
        try:
            extension = check_image(upload.images[0], settings.limits.max_pixels)
            text, valid = settle_text(fields.get("text", ""), engine.reader.charset, engine.reader.decoder.grammar)
        except ImageProblem as problem:
            raise ApiError(problem.status, problem.kind, problem.message) from None
        except TextProblem as err:
            raise ApiError(422, "bad_text", str(err)) from None
        if valid is False and fields.get("allow_invalid", "").lower() != "true":
            why = f"{text} does not fit any plate format of the grammar (allow_invalid=true saves it anyway)"
            raise ApiError(422, "invalid_format", why)
        (read,) = await read_images(request, upload)  # the model's own reading, for the side file
        if "error" in read:
            problem = read["error"]
            raise ApiError(422, problem["kind"], problem["message"])
        record = await asyncio.to_thread(store.save, upload.images[0], extension, text, decision, read)
        metrics.on_review(decision)
        return record

    @app.get("/reviews", summary="How many crops were reviewed, and the latest", response_model=schema.Reviews)
    async def reviews(request: Request, limit: int = 20) -> dict:
        require_writer(request)
        records = await asyncio.to_thread(store.records)
        return {"count": len(records), "recent": records[::-1][: max(0, limit)]}

    def require_ready() -> None:
        if not engine.ready:
            raise ApiError(503, "not_ready", engine.failure or "the model is loading; retry in a moment")

    def require_writer(request: Request) -> None:
        """The review endpoints: enabled, asked by our own page or a script, with the token."""
        require_ready()
        if store is None:
            raise ApiError(403, "review_disabled", "reviews are not saved: start the server with --review-dir DIR")
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise ApiError(403, "foreign_origin", f"requests from pages of {origin} may not save reviews")
        if settings.token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
                raise ApiError(401, "unauthorized", "send the server's token as 'Authorization: Bearer <token>'")

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return page_response("index.html")

    @app.get("/page/{name}", include_in_schema=False)
    async def page_file(name: str) -> Response:
        if name not in page:  # a fixed set of files held in memory: no path is ever built from the URL
            raise ApiError(404, "not_found", f"no page file {name!r}")
        return page_response(name)

    def page_response(name: str) -> Response:
        data, kind = page[name]
        headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"}
        return Response(data, media_type=kind, headers=headers)

    return app


def first_problem(records: list[dict[str, Any]]) -> ImageProblem | None:
    """The request's answer when no image was read: the first image's problem, else None."""
    if not records or any("error" not in r for r in records):
        return None
    errors = [r["error"] for r in records]
    if len(errors) == 1:
        return ImageProblem(errors[0]["kind"], errors[0]["message"])
    return ImageProblem(
        errors[0]["kind"], f"none of the {len(errors)} images could be read; first: {errors[0]['message']}"
    )


def error_response(err: ApiError) -> JSONResponse:
    headers = {"Connection": "close"} if err.close else None
    return JSONResponse(err.body(), status_code=err.status, headers=headers)
