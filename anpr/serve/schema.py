"""The shapes of the API's answers, for the OpenAPI document (``/openapi.json``, ``/docs``).

The routes build plain dicts (validating every answer through these models would cost more than
reading the plate); these models only describe them, and a test checks the two agree.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    kind: str = Field(description="stable name of the problem, e.g. too_many_pixels, body_too_large")
    message: str = Field(description="what went wrong and what to send instead")


class PlateResult(BaseModel):
    """One image read into a plate: the fields of ``anpr predict --json`` (without ``path``)."""

    text: str = Field(description="the reading")
    confidence: float = Field(description="probability of the reading under the model (calibrated)")
    valid_format: bool | None = Field(description="the reading follows the plate grammar (null: no grammar)")
    review: bool = Field(description="confidence below the server's --min-confidence: worth a person's look")
    free_text: str | None = Field(None, description="the unconstrained reading, when the grammar changed it")
    alternatives: list[tuple[str, float]] | None = Field(None, description="n best valid readings, likeliest first")
    agreement: float | None = Field(
        None, description="share of the crop's views and the reader's models whose own reading is this text"
    )


class ImageError(BaseModel):
    """One image that could not be read; the other images of the request are still read."""

    error: ErrorDetail


class ReadResponse(BaseModel):
    results: list[PlateResult | ImageError] = Field(description="one per image, in the order sent")


class ErrorResponse(BaseModel):
    error: ErrorDetail
    results: list[PlateResult | ImageError] | None = Field(None, description="per image, when images were read")


class TextCheck(BaseModel):
    text: str = Field(description="the text as a label (upper case, no spaces or dashes)")
    valid_format: bool | None = Field(description="the plate grammar accepts it (null: no grammar)")


class Review(BaseModel):
    image: str = Field(description="the crop's file name under images/ (the hash of its bytes)")
    text: str = Field(description="the label saved in labels.txt")
    decision: str = Field(description="accepted | alternative | corrected")
    read_text: str | None
    read_confidence: float | None
    read_valid_format: bool | None
    alternatives: list[tuple[str, float]]
    reviewed_at: str = Field(description="ISO 8601, UTC")


class Reviews(BaseModel):
    count: int
    recent: list[Review] = Field(description="the latest reviews, newest first")


READ_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"image": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                "required": ["image"],
            },
            "encoding": {"image": {"contentType": "image/jpeg, image/png, image/bmp, image/webp"}},
        },
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"images": {"type": "array", "items": {"type": "string", "format": "byte"}}},
                "required": ["images"],
            }
        },
    },
}

REVIEW_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "image": {"type": "string", "format": "binary", "description": "the crop, as sent to /read"},
                    "text": {"type": "string", "description": "the confirmed plate text"},
                    "decision": {"type": "string", "enum": ["accepted", "alternative", "corrected"]},
                    "allow_invalid": {"type": "string", "description": "'true' saves a text the grammar rejects"},
                },
                "required": ["image", "text", "decision"],
            }
        }
    },
}
