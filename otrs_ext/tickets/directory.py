"""Customers, customer companies and queues as the OTRS UI shows them beside a ticket.

Customers are read from OTRS's own ``customer_user`` / ``customer_company`` tables (the default
CustomerUser backend); installations that keep customers in LDAP see only what OTRS mirrored there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from schema_maps import OtrsSchema

from ..errors import NotFound
from .permissions import Permissions

VALID_ID = 1


@dataclass(frozen=True)
class CompanyView:
    customer_id: str
    name: str
    city: str | None
    country: str | None
    url: str | None
    valid: bool


@dataclass(frozen=True)
class CustomerView:
    login: str
    email: str
    first_name: str
    last_name: str
    title: str | None
    phone: str | None
    mobile: str | None
    customer_id: str
    company: CompanyView | None
    company_ids: tuple[str, ...]  # every company whose tickets the customer may see
    valid: bool

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class QueueView:
    queue_id: int
    name: str  # full name, sub-queues joined with ::
    parent: str | None
    group: str
    valid: bool
    unlock_timeout: int  # minutes; 0 = never
    comments: str | None


class Directory:
    def __init__(self, engine: Engine, schema: OtrsSchema, permissions: Permissions) -> None:
        self.engine = engine
        self.schema = schema
        self.permissions = permissions

    def customer(self, login: str) -> CustomerView:
        """The customer user ``login`` (compared case-insensitively, as OTRS does) with their companies."""
        cu = self.schema.tables.customer_user
        with self.engine.connect() as conn:
            row = conn.execute(select(cu).where(func.lower(cu.c.login) == login.lower())).mappings().first()
            if row is None:
                raise NotFound(f"no customer user {login!r}")
            company_ids = self.permissions.customer_company_ids(conn, row["login"])
        company = self._company_or_none(row["customer_id"])
        return CustomerView(
            login=row["login"], email=row["email"], first_name=row["first_name"], last_name=row["last_name"],
            title=row["title"], phone=row["phone"], mobile=row["mobile"], customer_id=row["customer_id"],
            company=company, company_ids=tuple(sorted(company_ids)), valid=row["valid_id"] == VALID_ID,
        )

    def company_of(self, login: str) -> str:
        """The company (customer id) of the customer user ``login``; '' for a login OTRS does not know here (a
        free-text customer), as OTRS's customer screen and GenericInterface fill it in."""
        cu = self.schema.tables.customer_user
        with self.engine.connect() as conn:
            found = conn.execute(select(cu.c.customer_id).where(func.lower(cu.c.login) == login.lower())).first()
        return (found[0] or "") if found is not None else ""

    def customer_by_address(self, login_or_email: str) -> CustomerView | None:
        """The customer user OTRS's GenericInterface finds for a ticket's CustomerUser: by login, else the valid
        customer user with this email address (CustomerSearch PostMasterSearch, case-insensitive, first found),
        else None (a free-text customer)."""
        try:
            return self.customer(login_or_email)
        except NotFound:
            pass
        cu = self.schema.tables.customer_user
        with self.engine.connect() as conn:
            login = conn.execute(select(cu.c.login).where(
                func.lower(cu.c.email) == login_or_email.lower(), cu.c.valid_id == VALID_ID)
                .order_by(cu.c.id).limit(1)).scalar()
        return None if login is None else self.customer(login)

    def company(self, customer_id: str) -> CompanyView:
        company = self._company_or_none(customer_id)
        if company is None:
            raise NotFound(f"no customer company {customer_id!r}")
        return company

    def queues(self, user_id: int, permission: str = "ro", *, valid_only: bool = True) -> list[QueueView]:
        """The queues the agent holds ``permission`` on, by name (parents before their sub-queues)."""
        q, groups = self.schema.tables.queue, self.schema.tables.groups
        with self.engine.connect() as conn:
            allowed = self.permissions.agent_queue_ids(conn, user_id, permission, valid_only=valid_only)
            if not allowed:
                return []
            rows = conn.execute(
                select(q.c.id, q.c.name, q.c.valid_id, q.c.unlock_timeout, q.c.comments, groups.c.name.label("group"))
                .join(groups, groups.c.id == q.c.group_id).where(q.c.id.in_(allowed)).order_by(q.c.name)
            ).mappings()
            return [QueueView(queue_id=r["id"], name=r["name"],
                              parent=r["name"].rsplit("::", 1)[0] if "::" in r["name"] else None,
                              group=r["group"], valid=r["valid_id"] == VALID_ID,
                              unlock_timeout=r["unlock_timeout"] or 0, comments=r["comments"]) for r in rows]

    def _company_or_none(self, customer_id: str) -> CompanyView | None:
        cc = self.schema.tables.customer_company
        with self.engine.connect() as conn:
            row = conn.execute(select(cc).where(cc.c.customer_id == customer_id)).mappings().first()
        if row is None:
            return None
        return CompanyView(customer_id=row["customer_id"], name=row["name"], city=row["city"],
                           country=row["country"], url=row["url"], valid=row["valid_id"] == VALID_ID)
