"""Request and response bodies of API v1. The same models validate requests and make the OpenAPI document."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class TypeSet(_In):
    type: str = Field(min_length=1, description="name of an OTRS ticket type, e.g. 'Incident'")


class ResponsibleSet(_In):
    responsible: str = Field(min_length=1, description="login of the new responsible agent")


class CustomerSet(_In):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    customer_user: str | None = Field(None, min_length=1, max_length=250,
                                      description="login of the customer user (or a free-text customer)")
    customer_id: str | None = Field(None, max_length=150, description="customer company id; when left out with a "
                                    "customer_user, the customer user's company ('' for an unknown one)")

    @model_validator(mode="after")
    def _something(self) -> CustomerSet:
        if self.customer_user is None and self.customer_id is None:
            raise ValueError("give customer_user, customer_id or both")
        return self


class PendingTimeSet(_In):
    pending_until: datetime | None = Field(
        description="in OTRS's time zone unless an offset is given; null resets it. The ticket must be in a "
                    "pending state to get a time (set one with PUT .../state)")


class DynamicFieldSet(_In):
    value: Any = Field(description="text, a number, a date ('YYYY-MM-DD'), a date-time ('YYYY-MM-DD HH:MM:SS'), "
                                   "0/1 for a checkbox, a list for a multiselect; null clears the field")


class MergeInto(_In):
    main_ticket_id: int = Field(ge=1, description="id of the ticket to merge into; it keeps the articles")


class TagAdd(_In):
    tag: str = Field(min_length=1, max_length=120, description="a manual tag of the catalogue: 'manual:vip' or 'vip'")


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
