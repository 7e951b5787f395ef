"""Writes the way OTRS's Perl code writes them: one auto-committed statement at a time, no transaction
(OTRS_INTERNALS §3-4), for the Znuny 6+ article layout."""

from __future__ import annotations

from sqlalchemy import Engine, text


def _run(engine: Engine, sql: str, **params: object) -> int:
    with engine.begin() as conn:  # one statement, one commit: as DBI with AutoCommit
        return conn.execute(text(sql), params).lastrowid


def _history_type(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM ticket_history_type WHERE name = :n"), {"n": name}).scalar_one()


def history(engine: Engine, ticket_id: int, kind: str, name: str, *, article_id: int | None = None,
            queue_id: int = 2, user: int = 1) -> int:
    return _run(engine, "INSERT INTO ticket_history (name, history_type_id, ticket_id, article_id, type_id, "
                "queue_id, owner_id, priority_id, state_id, create_time, create_by, change_time, change_by) "
                "VALUES (:name, :t, :tid, :aid, 1, :q, 1, 3, 1, NOW(), :u, NOW(), :u)",
                name=name, t=_history_type(engine, kind), tid=ticket_id, aid=article_id, q=queue_id, u=user)


def create_ticket(engine: Engine, tn: str, title: str, *, queue_id: int = 2, with_history: bool = True) -> int:
    ticket_id = _run(engine, "INSERT INTO ticket (tn, title, queue_id, ticket_lock_id, type_id, user_id, "
                     "responsible_user_id, ticket_priority_id, ticket_state_id, timeout, until_time, "
                     "escalation_time, escalation_update_time, escalation_response_time, escalation_solution_time, "
                     "archive_flag, create_time, create_by, change_time, change_by) VALUES (:tn, :title, :q, 1, 1, "
                     "1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, NOW(), 1, NOW(), 1)", tn=tn, title=title, q=queue_id)
    if with_history:
        history(engine, ticket_id, "NewTicket", f"%%{tn}%%Raw%%3 normal%%new%%{ticket_id}", queue_id=queue_id)
    return ticket_id


def add_note(engine: Engine, ticket_id: int, subject: str, body: str, *, attachments: tuple[str, ...] = (),
             with_history: bool = True) -> int:
    article_id = _run(engine, "INSERT INTO article (ticket_id, article_sender_type_id, communication_channel_id, "
                      "is_visible_for_customer, search_index_needs_rebuild, insert_fingerprint, create_time, "
                      "create_by, change_time, change_by) VALUES (:t, 1, 3, 1, 1, 'fp-1', NOW(), 1, NOW(), 1)",
                      t=ticket_id)
    _run(engine, "INSERT INTO article_data_mime (article_id, a_from, a_reply_to, a_to, a_cc, a_bcc, a_subject, "
         "a_message_id, a_in_reply_to, a_references, a_content_type, a_body, incoming_time, content_path, "
         "create_time, create_by, change_time, change_by) VALUES (:a, 'Agent <a@x.test>', '', 'c@x.test', '', '', "
         ":s, 'fp-1', '', '', 'text/plain; charset=utf-8', :b, UNIX_TIMESTAMP(), '2026/11/26', NOW(), 1, NOW(), 1)",
         a=article_id, s=subject, b=body)
    _run(engine, "UPDATE article_data_mime SET a_message_id = '' WHERE article_id = :a", a=article_id)
    for name in attachments:
        _run(engine, "INSERT INTO article_data_mime_attachment (article_id, filename, content_size, content_type, "
             "content_id, content_alternative, disposition, content, create_time, create_by, change_time, change_by) "
             "VALUES (:a, :f, '5', 'text/plain', '', '', 'attachment', 'hello', NOW(), 1, NOW(), 1)",
             a=article_id, f=name)
    if with_history:
        history(engine, ticket_id, "AddNote", "%%Note", article_id=article_id)
    return article_id


def move(engine: Engine, ticket_id: int, queue_id: int) -> None:
    _run(engine, "UPDATE ticket SET queue_id = :q, change_time = NOW(), change_by = 1 WHERE id = :t",
         q=queue_id, t=ticket_id)
    history(engine, ticket_id, "Move", f"%%Misc%%{queue_id}%%Raw%%2", queue_id=queue_id)
