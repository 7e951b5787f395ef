"""Request and response bodies of API v1. The same models validate requests and make the OpenAPI document."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Source = Literal["site-authorized", "site-anonymous", "email", "api"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AttachmentIn(_In):
    filename: str = Field(min_length=1, max_length=250)
    content_type: str = Field("application/octet-stream", max_length=250)
    content: str = Field(description="file content, base64")
    disposition: Literal["attachment", "inline"] = "attachment"
    content_id: str | None = Field(None, max_length=250)

    @field_validator("content")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None
        return value

    def data(self) -> bytes:
        return base64.b64decode(self.content)


class ArticleIn(_In):
    subject: str = Field("", max_length=3800)
    body: str = Field(min_length=1)
    content_type: Literal["text/plain", "text/html"] = "text/plain"
    from_: str = Field("", alias="from", max_length=3800)
    to: str = Field("", max_length=3800)
    cc: str = Field("", max_length=3800)
    channel: Literal["Email", "Phone", "Internal"] | None = None
    sender_type: Literal["agent", "customer", "system"] | None = None
    visible_for_customer: bool | None = None
    time_units: float | None = Field(None, ge=0, le=100000)


class TicketCreate(_In):
    title: str = Field(min_length=1, max_length=255)
    queue: str = Field(min_length=1, max_length=200)
    customer_user: str | None = Field(None, max_length=250)
    customer_id: str | None = Field(None, max_length=150)
    priority: str = "3 normal"
    state: str = "new"
    type: str | None = None
    owner: str | None = Field(None, description="login of the owner (agent keys only)")
    source: Source = "api"
    dynamic_fields: dict[str, Any] = Field(default_factory=dict)
    article: ArticleIn | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list)


class ArticleCreate(ArticleIn):
    attachments: list[AttachmentIn] = Field(default_factory=list)
    move_to: str | None = Field(None, description="also move the ticket into this queue")


class OwnerSet(_In):
    owner: str = Field(min_length=1, description="login of the new owner")


class QueueSet(_In):
    queue: str = Field(min_length=1)


class StateSet(_In):
    state: str = Field(min_length=1, description="e.g. 'closed successful', 'open', 'pending reminder'")
    pending_until: datetime | None = Field(None, description="for pending states, in OTRS's time zone")


class PrioritySet(_In):
    priority: str = Field(min_length=1)


class TitleSet(_In):
    title: str = Field(min_length=1, max_length=255)


class CustomerTokenRequest(_In):
    customer_user: str = Field(min_length=1, max_length=250, description="login of the OTRS customer user")


class Created(BaseModel):
    id: int
    number: str
    article_id: int | None = None


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = Field(default_factory=list, description="one {path, message} per bad field")
