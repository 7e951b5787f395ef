"""SQLAlchemy Core definitions of the OTRS tables otrs-ext reads and writes, built from a generation's traits.

Column names, types, nullability and lengths follow the genuine ``*schema.mysql.sql`` files of each version
(checked by ``tests/schema_maps/test_conformance.py``). Foreign keys are omitted on purpose: OTRS adds them in
``schema-post`` after its initial data, and otrs-ext never creates them in a real installation.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.mysql import LONGBLOB, MEDIUMTEXT

from ._traits import Traits

AddTable = Callable[[str, Table], None]  # registers a table under its uniform name

LongBlob = LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb")
MediumText = Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb")


def _audit(change: bool = True) -> list[Column]:
    cols = [Column("create_time", DateTime, nullable=False), Column("create_by", Integer, nullable=False)]
    if change:
        cols += [Column("change_time", DateTime, nullable=False), Column("change_by", Integer, nullable=False)]
    return cols


def _surrogate(t: Traits) -> list[Column]:
    """Znuny 7.1 put an id primary key in front of the former key-less tables."""
    return [Column("id", BigInteger, primary_key=True, autoincrement=True)] if t.surrogate_ids else []


def _lookup(md: MetaData, name: str, t: Traits, *extra: Column, tail: list[Column] | None = None,
            valid: bool = True, comments: bool = True, id_type: type = SmallInteger, index: str | None = None) -> Table:
    """The id/name/valid shape shared by states, priorities, lock types, sender types and the like."""
    cols: list[Column] = [
        Column("id", id_type, primary_key=True, autoincrement=True),
        Column("name", String(t.name_len), nullable=False),
    ]
    if comments:
        cols.append(Column("comments", String(250)))
    cols.extend(extra)
    if valid:
        cols.append(Column("valid_id", SmallInteger, nullable=False))
    cols.extend(tail or [])
    return Table(name, md, *cols, *_audit(), Index(index or f"{name}_name", "name", unique=True))


def build_tables(t: Traits) -> tuple[MetaData, dict[str, Table]]:
    """Every mapped table of generation ``t`` under its uniform name (``groups`` whatever its real name)."""
    md = MetaData()
    tables: dict[str, Table] = {}

    def add(uniform: str, table: Table) -> None:
        tables[uniform] = table

    add("valid", _lookup(md, "valid", t, valid=False, comments=False))
    add("users", Table(
        "users", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("login", String(t.name_len), nullable=False),
        Column("pw", String(t.password_len), nullable=False),
        Column("title", String(50)),
        Column("first_name", String(100), nullable=False),
        Column("last_name", String(100), nullable=False),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
        Index("users_login", "login", unique=True),
    ))
    add("user_preferences", Table(
        "user_preferences", md, *_surrogate(t),
        Column("user_id", Integer, nullable=False),
        Column("preferences_key", String(150), nullable=False),
        Column("preferences_value", LongBlob),
        Index("user_preferences_user_id", "user_id"),
    ))
    add("groups", _lookup(md, t.group_table, t, id_type=Integer, index="groups_name"))
    group_user_cols = [
        *_surrogate(t),
        Column("user_id", Integer, nullable=False),
        Column("group_id", Integer, nullable=False),
        Column("permission_key", String(20), nullable=False),
    ]
    if t.group_user_permission_value:
        group_user_cols.append(Column("permission_value", SmallInteger, nullable=False))
    add("group_user", Table(
        "group_user", md, *group_user_cols, *_audit(),
        Index("group_user_group_id", "group_id"), Index("group_user_user_id", "user_id"),
    ))
    add("roles", _lookup(md, "roles", t, id_type=Integer))
    add("role_user", Table(
        "role_user", md, *_surrogate(t),
        Column("user_id", Integer, nullable=False),
        Column("role_id", Integer, nullable=False),
        *_audit(),
        Index("role_user_role_id", "role_id"), Index("role_user_user_id", "user_id"),
    ))
    add("group_role", Table(
        "group_role", md, *_surrogate(t),
        Column("role_id", Integer, nullable=False),
        Column("group_id", Integer, nullable=False),
        Column("permission_key", String(20), nullable=False),
        Column("permission_value", SmallInteger, nullable=False),
        *_audit(),
        Index("group_role_group_id", "group_id"), Index("group_role_role_id", "role_id"),
    ))
    _customers(md, t, add)
    _queues(md, t, add)
    _ticket_lookups(md, t, add)
    _tickets(md, t, add)
    _articles(md, t, add)
    _dynamic_fields(md, t, add)
    _services(md, t, add)
    _links(md, t, add)
    _daemon_and_config(md, t, add)
    return md, tables


def _customers(md: MetaData, t: Traits, add: AddTable) -> None:
    add("customer_company", Table(
        "customer_company", md,
        Column("customer_id", String(150), primary_key=True),
        Column("name", String(t.name_len), nullable=False),
        Column("street", String(200)),
        Column("zip", String(200)),
        Column("city", String(200)),
        Column("country", String(200)),
        Column("url", String(200)),
        Column("comments", String(250)),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
        Index("customer_company_name", "name", unique=True),
    ))
    add("customer_user", Table(
        "customer_user", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("login", String(t.name_len), nullable=False),
        Column("email", String(150), nullable=False),
        Column("customer_id", String(150), nullable=False),
        Column("pw", String(t.password_len)),
        Column("title", String(50)),
        Column("first_name", String(100), nullable=False),
        Column("last_name", String(100), nullable=False),
        Column("phone", String(150)),
        Column("fax", String(150)),
        Column("mobile", String(150)),
        Column("street", String(150)),
        Column("zip", String(200)),
        Column("city", String(200)),
        Column("country", String(200)),
        Column("comments", String(250)),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
        Index("customer_user_login", "login", unique=True),
    ))
    if t.customer_companies:
        add("customer_user_customer", Table(
            "customer_user_customer", md, *_surrogate(t),
            Column("user_id", String(t.customer_user_customer_user_id_len), nullable=False),
            Column("customer_id", String(150), nullable=False),
            *_audit(),
            Index("customer_user_customer_customer_id", "customer_id"),
            Index("customer_user_customer_user_id", "user_id"),
        ))


def _queues(md: MetaData, t: Traits, add: AddTable) -> None:
    for name in ("salutation", "signature"):
        add(name, _lookup(md, name, t, Column("text", Text, nullable=False),
                          Column("content_type", String(250))))
    add("system_address", Table(
        "system_address", md,
        Column("id", SmallInteger, primary_key=True, autoincrement=True),
        Column("value0", String(200), nullable=False),
        Column("value1", String(200), nullable=False),
        Column("value2", String(200)),
        Column("value3", String(200)),
        Column("queue_id", Integer, nullable=False),
        Column("comments", String(250)),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
    ))
    add("follow_up_possible", _lookup(md, "follow_up_possible", t))
    add("queue", Table(
        "queue", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(t.name_len), nullable=False),
        Column("group_id", Integer, nullable=False),
        Column("unlock_timeout", Integer),
        Column("first_response_time", Integer),
        Column("first_response_notify", SmallInteger),
        Column("update_time", Integer),
        Column("update_notify", SmallInteger),
        Column("solution_time", Integer),
        Column("solution_notify", SmallInteger),
        Column("system_address_id", SmallInteger, nullable=False),
        Column("calendar_name", String(100)),
        Column("default_sign_key", String(100)),
        Column("salutation_id", SmallInteger, nullable=False),
        Column("signature_id", SmallInteger, nullable=False),
        Column("follow_up_id", SmallInteger, nullable=False),
        Column("follow_up_lock", SmallInteger, nullable=False),
        Column("comments", String(250)),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
        Index("queue_name", "name", unique=True),
        Index("queue_group_id", "group_id"),
    ))


def _ticket_lookups(md: MetaData, t: Traits, add: AddTable) -> None:
    def color() -> list[Column]:
        return [Column("color", String(25), nullable=False)] if t.colors else []

    add("ticket_state_type", _lookup(md, "ticket_state_type", t, valid=False))
    add("ticket_state", _lookup(md, "ticket_state", t, Column("type_id", SmallInteger, nullable=False),
                                tail=color()))
    add("ticket_priority", _lookup(md, "ticket_priority", t, comments=False, tail=color()))
    add("ticket_lock_type", _lookup(md, "ticket_lock_type", t, comments=False))
    add("ticket_type", _lookup(md, "ticket_type", t, comments=False))
    add("ticket_history_type", _lookup(md, "ticket_history_type", t))
    add("article_sender_type", _lookup(md, "article_sender_type", t))
    if t.article_split:
        add("communication_channel", Table(
            "communication_channel", md,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("name", String(t.name_len), nullable=False),
            Column("module", String(200), nullable=False),
            Column("package_name", String(200), nullable=False),
            Column("channel_data", LongBlob, nullable=False),
            Column("valid_id", SmallInteger, nullable=False),
            *_audit(),
            Index("communication_channel_name", "name", unique=True),
        ))
    else:
        add("article_type", _lookup(md, "article_type", t))


def _tickets(md: MetaData, t: Traits, add: AddTable) -> None:
    unix = [Column("create_time_unix", BigInteger, nullable=False)] if t.create_time_unix else []
    ticket = Table(
        "ticket", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("tn", String(50), nullable=False),
        Column("title", String(t.title_len)),
        Column("queue_id", Integer, nullable=False),
        Column("ticket_lock_id", SmallInteger, nullable=False),
        Column("type_id", SmallInteger),
        Column("service_id", Integer),
        Column("sla_id", Integer),
        Column("user_id", Integer, nullable=False),
        Column("responsible_user_id", Integer, nullable=False),
        Column("ticket_priority_id", SmallInteger, nullable=False),
        Column("ticket_state_id", SmallInteger, nullable=False),
        Column("customer_id", String(150)),
        Column("customer_user_id", String(t.customer_user_id_len)),
        Column("timeout", Integer, nullable=False),
        Column("until_time", Integer, nullable=False),
        Column("escalation_time", Integer, nullable=False),
        Column("escalation_update_time", Integer, nullable=False),
        Column("escalation_response_time", Integer, nullable=False),
        Column("escalation_solution_time", Integer, nullable=False),
        Column("archive_flag", SmallInteger, nullable=False, server_default="0"),
        *unix,
        *_audit(),
        Index("ticket_tn", "tn", unique=True),
        Index("ticket_archive_flag", "archive_flag"),
        Index("ticket_create_time", "create_time"),
        Index("ticket_customer_id", "customer_id"),
        Index("ticket_customer_user_id", "customer_user_id"),
        Index("ticket_escalation_time", "escalation_time"),
        Index("ticket_queue_id", "queue_id"),
        Index("ticket_queue_view", "ticket_state_id", "ticket_lock_id"),
        Index("ticket_responsible_user_id", "responsible_user_id"),
        Index("ticket_ticket_lock_id", "ticket_lock_id"),
        Index("ticket_ticket_priority_id", "ticket_priority_id"),
        Index("ticket_ticket_state_id", "ticket_state_id"),
        Index("ticket_timeout", "timeout"),
        Index("ticket_title", "title"),
        Index("ticket_type_id", "type_id"),
        Index("ticket_until_time", "until_time"),
        Index("ticket_user_id", "user_id"),
    )
    add("ticket", ticket)
    add("ticket_history", Table(
        "ticket_history", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("name", String(200), nullable=False),
        Column("history_type_id", SmallInteger, nullable=False),
        Column("ticket_id", BigInteger, nullable=False),
        Column("article_id", BigInteger),
        Column("type_id", SmallInteger, nullable=False),
        Column("queue_id", Integer, nullable=False),
        Column("owner_id", Integer, nullable=False),
        Column("priority_id", SmallInteger, nullable=False),
        Column("state_id", SmallInteger, nullable=False),
        *_audit(),
        Index("ticket_history_article_id", "article_id"),
        Index("ticket_history_create_time", "create_time"),
        Index("ticket_history_history_type_id", "history_type_id"),
        Index("ticket_history_ticket_id", "ticket_id"),
    ))
    add("ticket_flag", Table(
        "ticket_flag", md, *_surrogate(t),
        Column("ticket_id", BigInteger, nullable=False),
        Column("ticket_key", String(50), nullable=False),
        Column("ticket_value", String(50)),
        *_audit(change=False),
        Index("ticket_flag_per_user", "ticket_id", "ticket_key", "create_by", unique=True),
        Index("ticket_flag_ticket_id", "ticket_id"),
    ))
    add("ticket_watcher", Table(
        "ticket_watcher", md, *_surrogate(t),
        Column("ticket_id", BigInteger, nullable=False),
        Column("user_id", Integer, nullable=False),
        *_audit(),
        Index("ticket_watcher_ticket_id", "ticket_id"),
        Index("ticket_watcher_user_id", "user_id"),
    ))
    add("time_accounting", Table(
        "time_accounting", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("ticket_id", BigInteger, nullable=False),
        Column("article_id", BigInteger),
        Column("time_unit", Numeric(10, 2), nullable=False),
        *_audit(),
        Index("time_accounting_ticket_id", "ticket_id"),
    ))
    if t.article_split:  # OTRS 5 kept the counter in var/log/TicketCounter.log
        add("ticket_number_counter", Table(
            "ticket_number_counter", md,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("counter", BigInteger, nullable=False),
            Column("counter_uid", String(32), nullable=False),
            Column("create_time", DateTime),
            Index("ticket_number_counter_uid", "counter_uid", unique=True),
            Index("ticket_number_counter_create_time", "create_time"),
        ))


def _mime_columns(t: Traits) -> list[Column]:
    """The a_* columns: one MEDIUMTEXT per address field since OTRS 6, TEXT in OTRS 5."""
    addr = MediumText if t.article_split else Text
    cols = [
        Column("a_from", addr),
        Column("a_reply_to", addr),
        Column("a_to", addr),
        Column("a_cc", addr),
    ]
    if t.article_split:
        cols.append(Column("a_bcc", addr))
    cols += [
        Column("a_subject", Text),
        Column("a_message_id", Text),
        Column("a_message_id_md5", String(32)),
        Column("a_in_reply_to", addr),
        Column("a_references", addr),
        Column("a_content_type", String(250)),
        Column("a_body", MediumText, nullable=t.article_split),
        Column("incoming_time", Integer, nullable=False),
        Column("content_path", String(250)),
    ]
    return cols


def _attachment_table(md: MetaData, name: str, t: Traits) -> Table:
    return Table(
        name, md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("article_id", BigInteger, nullable=False),
        Column("filename", String(250)),
        Column("content_size", String(30)),
        Column("content_type", Text),
        Column("content_id", String(250)),
        Column("content_alternative", String(50)),
        Column("disposition", String(15)),
        Column("content", LongBlob, nullable=t.article_split),
        *_audit(),
        Index(f"{name}_article_id", "article_id"),
    )


def _plain_table(md: MetaData, name: str) -> Table:
    return Table(
        name, md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("article_id", BigInteger, nullable=False),
        Column("body", LongBlob, nullable=False),
        *_audit(),
        Index(f"{name}_article_id", "article_id"),
    )


def _articles(md: MetaData, t: Traits, add: AddTable) -> None:
    if t.article_split:
        add("article", Table(
            "article", md,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("ticket_id", BigInteger, nullable=False),
            Column("article_sender_type_id", SmallInteger, nullable=False),
            Column("communication_channel_id", BigInteger, nullable=False),
            Column("is_visible_for_customer", SmallInteger, nullable=False),
            Column("search_index_needs_rebuild", SmallInteger, nullable=False, server_default="1"),
            Column("insert_fingerprint", String(64)),
            *_audit(),
            Index("article_article_sender_type_id", "article_sender_type_id"),
            Index("article_communication_channel_id", "communication_channel_id"),
            Index("article_search_index_needs_rebuild", "search_index_needs_rebuild"),
            Index("article_ticket_id", "ticket_id"),
        ))
        add("article_data_mime", Table(
            "article_data_mime", md,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("article_id", BigInteger, nullable=False),
            *_mime_columns(t),
            *_audit(),
            Index("article_data_mime_article_id", "article_id"),
            Index("article_data_mime_message_id_md5", "a_message_id_md5"),
        ))
        add("article_data_mime_plain", _plain_table(md, "article_data_mime_plain"))
        add("article_data_mime_attachment", _attachment_table(md, "article_data_mime_attachment", t))
        add("article_search_index", Table(
            "article_search_index", md,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("ticket_id", BigInteger, nullable=False),
            Column("article_id", BigInteger, nullable=False),
            Column("article_key", String(t.name_len), nullable=False),
            Column("article_value", MediumText),
            Index("article_search_index_article_id", "article_id", "article_key"),
            Index("article_search_index_ticket_id", "ticket_id", "article_key"),
        ))
    else:
        add("article", Table(
            "article", md,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("ticket_id", BigInteger, nullable=False),
            Column("article_type_id", SmallInteger, nullable=False),
            Column("article_sender_type_id", SmallInteger, nullable=False),
            *_mime_columns(t),
            Column("valid_id", SmallInteger, nullable=False),
            *_audit(),
            Index("article_article_sender_type_id", "article_sender_type_id"),
            Index("article_article_type_id", "article_type_id"),
            Index("article_message_id_md5", "a_message_id_md5"),
            Index("article_ticket_id", "ticket_id"),
        ))
        add("article_plain", _plain_table(md, "article_plain"))
        add("article_attachment", _attachment_table(md, "article_attachment", t))
    add("article_flag", Table(
        "article_flag", md, *_surrogate(t),
        Column("article_id", BigInteger, nullable=False),
        Column("article_key", String(50), nullable=False),
        Column("article_value", String(50)),
        *_audit(change=False),
        Index("article_flag_article_id", "article_id"),
        Index("article_flag_article_id_create_by", "article_id", "create_by"),
    ))


def _dynamic_fields(md: MetaData, t: Traits, add: AddTable) -> None:
    add("dynamic_field", Table(
        "dynamic_field", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("internal_field", SmallInteger, nullable=False, server_default="0"),
        Column("name", String(t.name_len), nullable=False),
        Column("label", String(200), nullable=False),
        Column("field_order", Integer, nullable=False),
        Column("field_type", String(200), nullable=False),
        Column("object_type", String(100), nullable=False),
        Column("config", LongBlob),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
        Index("dynamic_field_name", "name", unique=True),
    ))
    positions = [
        Column("index_value", SmallInteger),
        Column("index_set", SmallInteger),
    ] if t.dynamic_field_value_positions else []
    add("dynamic_field_value", Table(
        "dynamic_field_value", md,
        Column("id", BigInteger if t.dynamic_field_value_positions else Integer,
               primary_key=True, autoincrement=True),
        Column("field_id", Integer, nullable=False),
        Column("object_id", BigInteger, nullable=False),
        Column("value_text", Text),
        Column("value_date", DateTime),
        Column("value_int", BigInteger),
        *positions,
        Index("dynamic_field_value_field_values", "object_id", "field_id"),
    ))


def _services(md: MetaData, t: Traits, add: AddTable) -> None:
    add("service", Table(
        "service", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(t.name_len), nullable=False),
        Column("valid_id", SmallInteger, nullable=False),
        Column("comments", String(250)),
        *_audit(),
        Index("service_name", "name", unique=True),
    ))
    add("sla", Table(
        "sla", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(t.name_len), nullable=False),
        Column("calendar_name", String(100)),
        Column("first_response_time", Integer, nullable=False),
        Column("first_response_notify", SmallInteger),
        Column("update_time", Integer, nullable=False),
        Column("update_notify", SmallInteger),
        Column("solution_time", Integer, nullable=False),
        Column("solution_notify", SmallInteger),
        Column("valid_id", SmallInteger, nullable=False),
        Column("comments", String(250)),
        *_audit(),
        Index("sla_name", "name", unique=True),
    ))


def _links(md: MetaData, t: Traits, add: AddTable) -> None:
    """LinkObject's tables: the ParentChild link a merge writes, and the links a merge moves over."""
    for name in ("link_type", "link_state"):
        add(name, Table(
            name, md,
            Column("id", SmallInteger, primary_key=True, autoincrement=True),
            Column("name", String(50), nullable=False),
            Column("valid_id", SmallInteger, nullable=False),
            *_audit(),
            Index(f"{name}_name", "name", unique=True),
        ))
    add("link_object", Table(
        "link_object", md,
        Column("id", SmallInteger, primary_key=True, autoincrement=True),
        Column("name", String(100), nullable=False),
        Index("link_object_name", "name", unique=True),
    ))
    add("link_relation", Table(
        "link_relation", md, *_surrogate(t),
        Column("source_object_id", SmallInteger, nullable=False),
        Column("source_key", String(50), nullable=False),
        Column("target_object_id", SmallInteger, nullable=False),
        Column("target_key", String(50), nullable=False),
        Column("type_id", SmallInteger, nullable=False),
        Column("state_id", SmallInteger, nullable=False),
        *_audit(change=False),
        Index("link_relation_view", "source_object_id", "source_key", "target_object_id", "target_key", "type_id",
              unique=True),
        Index("link_relation_list_source", "source_object_id", "source_key", "state_id"),
        Index("link_relation_list_target", "target_object_id", "target_key", "state_id"),
    ))


def _daemon_and_config(md: MetaData, t: Traits, add: AddTable) -> None:
    """OTRS's daemon queue, where otrs-ext hands OTRS's event modules their work, and the configuration those
    modules act on: SysConfig (OTRS 6+), notifications, GenericAgent jobs and GenericInterface web services."""
    add("scheduler_task", Table(
        "scheduler_task", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("ident", BigInteger, nullable=False),
        Column("name", String(150)),
        Column("task_type", String(150), nullable=False),
        Column("task_data", LongBlob, nullable=False),
        Column("attempts", SmallInteger, nullable=False),
        Column("lock_key", BigInteger, nullable=False),
        Column("lock_time", DateTime),
        Column("lock_update_time", DateTime),
        Column("create_time", DateTime, nullable=False),
        Index("scheduler_task_ident", "ident", unique=True),
        Index("scheduler_task_ident_id", "ident", "id"),
        Index("scheduler_task_lock_key_id", "lock_key", "id"),
    ))
    if t.sysconfig_tables:
        add("sysconfig_default", Table(
            "sysconfig_default", md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("name", String(t.name_len), nullable=False),
            Column("description", LongBlob, nullable=False),
            Column("navigation", String(200), nullable=False),
            *(Column(flag, SmallInteger, nullable=False) for flag in (
                "is_invisible", "is_readonly", "is_required", "is_valid", "has_configlevel",
                "user_modification_possible", "user_modification_active")),
            Column("user_preferences_group", String(250)),
            Column("xml_content_raw", LongBlob, nullable=False),
            Column("xml_content_parsed", LongBlob, nullable=False),
            Column("xml_filename", String(250), nullable=False),
            Column("effective_value", LongBlob, nullable=False),
            Column("is_dirty", SmallInteger, nullable=False),
            Column("exclusive_lock_guid", String(32), nullable=False),
            Column("exclusive_lock_user_id", Integer),
            Column("exclusive_lock_expiry_time", DateTime),
            *_audit(),
            Index("sysconfig_default_name", "name", unique=True),
        ))
        add("sysconfig_modified", Table(
            "sysconfig_modified", md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("sysconfig_default_id", Integer, nullable=False),
            Column("name", String(t.name_len), nullable=False),
            Column("user_id", Integer),
            Column("is_valid", SmallInteger, nullable=False),
            Column("user_modification_active", SmallInteger, nullable=False),
            Column("effective_value", LongBlob, nullable=False),
            Column("is_dirty", SmallInteger, nullable=False),
            Column("reset_to_default", SmallInteger, nullable=False),
            *_audit(),
            Index("sysconfig_modified_per_user", "sysconfig_default_id", "user_id", unique=True),
        ))
        # One row per deployment of a modified setting: the deployed value of a modification still being
        # edited (is_dirty = 1) is its newest row here (Znuny's ModifiedSettingVersionGetLast).
        add("sysconfig_modified_version", Table(
            "sysconfig_modified_version", md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("sysconfig_default_version_id", Integer, nullable=False),
            Column("name", String(t.name_len), nullable=False),
            Column("user_id", Integer),
            Column("is_valid", SmallInteger, nullable=False),
            Column("user_modification_active", SmallInteger, nullable=False),
            Column("effective_value", LongBlob, nullable=False),
            Column("reset_to_default", SmallInteger, nullable=False),
            *_audit(),
        ))
    add("notification_event", Table(
        "notification_event", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(t.name_len), nullable=False),
        Column("valid_id", SmallInteger, nullable=False),
        Column("comments", String(250)),
        *_audit(),
        Index("notification_event_name", "name", unique=True),
    ))
    add("notification_event_item", Table(
        "notification_event_item", md, *_surrogate(t),
        Column("notification_id", Integer, nullable=False),
        Column("event_key", String(t.name_len), nullable=False),
        Column("event_value", String(t.name_len), nullable=False),
        Index("notification_event_item_notification_id", "notification_id"),
    ))
    add("generic_agent_jobs", Table(
        "generic_agent_jobs", md, *_surrogate(t),
        Column("job_name", String(t.name_len), nullable=False),
        Column("job_key", String(200), nullable=False),
        Column("job_value", Text if t.generic_agent_value_text else String(200)),
        Index("generic_agent_jobs_job_name", "job_name"),
    ))
    add("gi_webservice_config", Table(
        "gi_webservice_config", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(t.name_len), nullable=False),
        Column("config", LongBlob, nullable=False),
        *([Column("config_md5", String(32), nullable=False)] if t.webservice_config_md5 else []),
        Column("valid_id", SmallInteger, nullable=False),
        *_audit(),
        Index("gi_webservice_config_name", "name", unique=True),
    ))
