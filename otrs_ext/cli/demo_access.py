"""The demo's ways in: an agent with a known password, the website's intake key and that agent's API key.

The seeded agents' passwords are their logins, but each sees only his department's queues, and OTRS's
``root@localhost`` has a Unix ``crypt`` password, which otrs-ext refuses. So the demo adds its own agent with
``rw`` on every group: he sees every demo ticket on the agent screens and through his API key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from schema_maps import OtrsSchema

from ..api.keys import ApiKeys
from ..seed.org import sha256_hex

DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class DemoAccess:
    login: str
    password: str
    agent_id: int
    intake_key: str  # what the website's client sends tickets with
    agent_key: str  # acts as the demo agent


def create_demo_access(engine: Engine, schema: OtrsSchema, own_schema: str = "") -> DemoAccess:
    """Add the demo agent (in one transaction) and create both API keys."""
    # Znuny's default CryptType sha2: the SHA-256 hex digest, one of the forms auth/passwords.py checks
    stored = sha256_hex(DEMO_PASSWORD)
    t = schema.tables
    audit = {"create_time": "2026-01-01 00:00:00", "create_by": 1, "change_time": "2026-01-01 00:00:00",
             "change_by": 1}
    with engine.begin() as conn:
        agent_id = conn.execute(t.users.insert().values(
            login=DEMO_LOGIN, pw=stored, first_name="Demo", last_name="Agent", valid_id=1, **audit,
        )).inserted_primary_key[0]
        group_ids = conn.execute(select(t.groups.c.id).where(t.groups.c.valid_id == 1)).scalars().all()
        # OTRS 5 has the column
        value = {"permission_value": 1} if schema.traits.group_user_permission_value else {}
        conn.execute(t.group_user.insert(), [
            {"user_id": agent_id, "group_id": group_id, "permission_key": "rw", **value, **audit}
            for group_id in group_ids])
    keys = ApiKeys(engine, own_schema)
    return DemoAccess(
        login=DEMO_LOGIN, password=DEMO_PASSWORD, agent_id=int(agent_id),
        intake_key=keys.create("intake", name="demo website"),
        agent_key=keys.create("agent", name=f"demo agent {DEMO_LOGIN}", agent_id=int(agent_id)))
