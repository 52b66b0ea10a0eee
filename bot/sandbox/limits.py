"""Discord's message limits, checked the way Discord does: a 400 with an error tree, or a 413."""

from __future__ import annotations

from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
COMPONENT_ROWS_MAX = 5
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024


def _too_long(limit: int) -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}


def embed_length(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for fld in embed.get("fields") or []:
        total += len(fld.get("name") or "") + len(fld.get("value") or "")
    return total


def validate_message(
    payload: dict[str, Any], *, has_files: bool, creating: bool = True
) -> dict[str, Any] | None:
    """Return Discord's error body for an invalid message payload, or None when it is fine."""
    errors: dict[str, Any] = {}
    content = payload.get("content")
    if content is not None and len(str(content)) > CONTENT_MAX:
        errors["content"] = _too_long(CONTENT_MAX)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors["embeds"] = _too_long(EMBEDS_MAX)
    total = 0
    for index, embed in enumerate(embeds):
        problems: dict[str, Any] = {}
        if len(embed.get("title") or "") > EMBED_TITLE_MAX:
            problems["title"] = _too_long(EMBED_TITLE_MAX)
        if len(embed.get("description") or "") > EMBED_DESCRIPTION_MAX:
            problems["description"] = _too_long(EMBED_DESCRIPTION_MAX)
        if len((embed.get("footer") or {}).get("text") or "") > FOOTER_MAX:
            problems["footer"] = {"text": _too_long(FOOTER_MAX)}
        if len((embed.get("author") or {}).get("name") or "") > AUTHOR_MAX:
            problems["author"] = {"name": _too_long(AUTHOR_MAX)}
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            problems["fields"] = _too_long(EMBED_FIELDS_MAX)
        for findex, fld in enumerate(fields):
            field_problems: dict[str, Any] = {}
            if not fld.get("name") or len(fld["name"]) > FIELD_NAME_MAX:
                field_problems["name"] = _too_long(FIELD_NAME_MAX)
            if not fld.get("value") or len(fld["value"]) > FIELD_VALUE_MAX:
                field_problems["value"] = _too_long(FIELD_VALUE_MAX)
            if field_problems:
                problems.setdefault("fields", {})[str(findex)] = field_problems
        if problems:
            errors.setdefault("embeds", {})[str(index)] = problems
        total += embed_length(embed)
    if total > EMBED_TOTAL_MAX and "embeds" not in errors:
        errors["embeds"] = {
            "_errors": [
                {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}
            ]
        }
    if len(payload.get("components") or []) > COMPONENT_ROWS_MAX:
        errors["components"] = _too_long(COMPONENT_ROWS_MAX)
    if errors:
        return {"code": 50035, "message": "Invalid Form Body", "errors": errors}
    empty = creating and not (
        content or embeds or payload.get("components") or payload.get("attachments") or has_files
    )
    if empty:
        return {"code": 50006, "message": "Cannot send an empty message"}
    return None
