"""The story of one ticket: who writes when, and which screens an agent uses, recorded by ``TicketRecorder``.

A story is planned first (article kinds, the state each agent answer sets, the gaps between actions); if the
plan would end after ``now`` the gaps are squeezed proportionally, so every row lies in the past and the order
of events never changes. Then it is played: the first customer message (e-mail via PostMaster, phone call
taken by an agent, or customer-portal web request), an optional dispatch move, agent replies / phone calls /
internal notes and customer follow-ups, and a final action that leaves the ticket in the drawn final state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .recorder import CLOSED, PENDING, ROOT, TicketRecorder, agent_message_id, customer_message_id
from .text import Body

if TYPE_CHECKING:
    from .org import Agent
    from .tickets import Batch, Ids, TicketFactory

Step = tuple[str, int, object]  # (kind, gap in seconds before it, argument)
HOUR = 3600


def _gap(f: TicketFactory, mean: float, floor: int = 30) -> int:
    return floor + int(f.rng.expovariate(1.0 / mean))


def plan(f: TicketFactory, articles: int, final: str, moved: bool) -> list[Step]:
    rng = f.rng
    steps: list[Step] = [("create", 0, None)]
    if moved:
        steps.append(("move", rng.randint(120, 90 * 60), None))
    kinds: list[str] = []
    prev = "C"
    for _ in range(articles - 1):
        r = rng.random()
        if final == "new":  # nobody has answered yet: more mail from the customer, maybe a colleague's note
            kind = "C" if r < 0.6 else "N"
        elif prev == "C":
            kind = "R" if r < 0.72 else ("N" if r < 0.92 else "P")
        elif prev in "RP":
            kind = "C" if r < 0.65 else ("N" if r < 0.8 else "R")
        else:
            kind = "R" if r < 0.7 else ("C" if r < 0.85 else "N")
        kinds.append(kind)
        prev = kind
    final_type = f.state_type[final]
    asked = False
    for i, kind in enumerate(kinds):
        last = i == len(kinds) - 1
        if kind == "C":
            if asked:
                mood = "info"
            elif last and final_type == CLOSED:
                mood = "good"
            else:
                mood = rng.choice(("bad", "bad", "info", "good"))
            steps.append(("C", _gap(f, 9 * HOUR, 300), mood))
            asked = False
        elif kind == "N":
            steps.append(("N", _gap(f, 40 * 60), None))
        else:
            cron = False
            if last:
                if final_type == CLOSED and rng.random() < 0.75:
                    cron = final == "closed successful" and rng.random() < 0.25
                    nxt = "pending auto close+" if cron else final
                elif final_type in PENDING:
                    nxt = final
                else:
                    nxt = "open"
            else:
                nxt = "pending reminder" if kinds[i + 1] == "C" and rng.random() < 0.2 else "open"
            pend = rng.randint(1, 7) * 86_400 + rng.randrange(86_400) if f.state_type[nxt] in PENDING else 0
            asked = not last and kinds[i + 1] == "C" and rng.random() < 0.5
            steps.append((kind, _gap(f, 3 * HOUR, 60), (nxt, asked, pend)))
            if cron:  # the PendingCheck daemon job closes it once the pending time has passed
                steps.append(("cron", pend + rng.randint(0, 2 * HOUR), None))
    if final != "new":
        steps.append(("end", _gap(f, 2 * HOUR), None))
    return steps


def schedule(steps: list[Step], created: int, now: int) -> tuple[list[int], float]:
    """Absolute times of the steps, squeezed to end by ``now``; also the squeeze factor (1.0 = none)."""
    total = sum(gap for _, gap, _ in steps)
    room = now - created
    scale = 1.0 if total <= room else room / total
    times, t = [], created
    for _, gap, _ in steps:
        t += int(gap * scale)
        times.append(t)
    return times, scale


def play(f: TicketFactory, batch: Batch, ids: Ids, created: int) -> TicketRecorder:
    """Draw and record one ticket created at ``created``; return its recorder (already finished)."""
    rng, text = f.rng, f.text
    customer = f.pick_customer()
    topic = f.pick_topic()
    queue = f.pick_queue(topic)
    final = f.pick_final_state(f.now - created)
    channel = f.pick_channel()
    moved = channel != "Phone" and queue is not f.dispatch and rng.random() < 0.12
    rec = TicketRecorder(f, batch, ids, created, customer, f.dispatch if moved else queue, f.pick_priority())
    main = f.last_ticket_of.get(customer.login)
    if final == "merged" and main is None:
        final = "closed successful"
    ctx = text.context(lang=customer.lang, customer=customer, topic=topic, tn=rec.tn,
                       old_tn=main[0] if main else f.recent_tn(rec.tn), created=created)
    owners = f.org.owners[queue.id]
    steps = plan(f, f.article_count(), final, moved)
    times, scale = schedule(steps, created, f.now)
    lang = customer.lang
    cust_addr = f"{customer.full_name} <{customer.email}>"

    def sys_addr() -> str:
        q = rec.queue
        return f"{q.title_ru if lang == 'ru' else q.title_en} <{q.address}>"

    def agent_for() -> Agent:
        return f.agents_by_id[rec.owner_id] if rec.owner_id != ROOT else rng.choice(owners)

    # --- the first message ---------------------------------------------------------------------------------
    t0 = times[0]
    subject = ctx["subject"]
    if channel == "Phone":  # the agent phone screen: created by the agent, owner set without locking
        creator = rng.choice(owners)
        rec.creator = creator.id
        rec.state = "new" if final == "new" else "open"
    rec.hist("NewTicket", f"%%{rec.tn}%%{rec.queue.name}%%{rec.priority}%%{rec.state}%%{rec.tid}", t0,
             rec.creator)
    rec.hist("CustomerUpdate", f"%%CustomerID={customer.customer_id};CustomerUser={customer.login};", t0,
             rec.creator)
    if channel == "Email":
        files = f.files.customer_files(ctx) if rng.random() < 0.08 else ()
        rec.article(t0, ROOT, "customer", "Email", 1, cust_addr, sys_addr(), subject,
                    text.customer_first(ctx), ("EmailCustomer", "%%"), files=files,
                    message_id=customer_message_id(rng, customer), from_name=customer.full_name)
    elif channel == "Phone":
        subject = text.phone_subject(ctx)
        rec.article(t0, rec.creator, "customer", "Phone", 1, cust_addr, rec.queue.name, subject,
                    text.phone_customer(ctx), ("PhoneCallCustomer", "%%"))
        rec.set_owner(f.agents_by_id[rec.creator], t0, rec.creator)
    else:
        files = f.files.customer_files(ctx) if rng.random() < 0.05 else ()
        rec.article(t0, ROOT, "customer", "Internal", 1, f'"{customer.full_name}" <{customer.email}>',
                    rec.queue.name, subject, text.customer_first(ctx, signature=False),
                    ("WebRequestCustomer", "%%"), files=files)
    rec.title = subject
    reply_subject = f"RE: [Ticket#{rec.tn}] {subject}"
    last_sender, last_who = "customer", customer.full_name
    priority_change = final != "new" and rng.random() < 0.06

    for (kind, _, arg), t in zip(steps[1:], times[1:], strict=True):
        if kind == "move":
            mover = f.lead if queue.id in f.lead_queues else rng.choice(owners)
            rec.move(queue, t, mover.id)
        elif kind == "C":
            channel_c = "Internal" if channel == "Internal" else "Email"
            if f.state_type[rec.state] in (CLOSED, *PENDING):  # PostMaster reopens (PostmasterFollowUpState)
                rec.set_state("open", t, ROOT)
            body = text.customer_followup(ctx, str(arg), rec.last_body, last_who, rec.last_when)
            files = f.files.customer_files(ctx) if arg == "info" and rng.random() < 0.1 else ()
            if channel_c == "Email":
                rec.article(t, ROOT, "customer", "Email", 1, cust_addr, sys_addr(), reply_subject, body,
                            ("FollowUp", f"%%{rec.tn}%%"), files=files,
                            message_id=customer_message_id(rng, customer), from_name=customer.full_name)
            else:
                rec.article(t, ROOT, "customer", "Internal", 1, f'"{customer.full_name}" <{customer.email}>',
                            rec.queue.name, reply_subject, body, ("FollowUp", "%%"), files=files)
            if last_sender == "agent":  # unlock-timeout reset for a customer answer to an agent (§4.3.9)
                rec.reset_unlock_time(t, ROOT)
            last_sender, last_who = "customer", customer.full_name
        elif kind in ("R", "P"):
            nxt, ask, pend = arg  # type: ignore[misc]
            agent = agent_for()
            rec.take(agent, t)
            if priority_change:
                rec.set_priority(rng.choice(("4 high", "5 very high", "2 low")), t, agent.id)
                priority_change = False
            _agent_answer(f, rec, ctx, kind, agent, t, cust_addr, reply_subject, ask, last_who)
            until = t + int(pend * scale)
            if nxt == "pending auto close+" and f.state_type[final] != CLOSED:
                # not yet due, or the PendingCheck job would have closed it already
                until = max(until, f.now + rng.randint(HOUR, 3 * 86_400))
            rec.set_state(nxt, t, agent.id, until)
            last_sender, last_who = "agent", agent.full_name
        elif kind == "N":
            if final == "new":
                agent = rng.choice(owners)
            elif rec.owner_id == ROOT:
                agent = rng.choice(owners)
                rec.take(agent, t)
            else:
                agent = agent_for() if rng.random() < 0.8 else rng.choice(owners)
            rec.article(t, agent.id, "agent", "Internal", 0, f"{agent.full_name} <{agent.email}>", "",
                        text.note_subject(ctx), text.note(ctx), ("AddNote", "%%Note"),
                        html=rng.random() < 0.3)
            rec.reset_unlock_time(t, agent.id)
            last_sender = "agent"
        elif kind == "cron":
            rec.set_state("closed successful", t, ROOT)
        elif kind == "end":
            _end(f, rec, final, main, agent_for, t)
    rec.finish()
    return rec


def _agent_answer(f: TicketFactory, rec: TicketRecorder, ctx: dict, kind: str, agent: Agent, t: int,
                  cust_addr: str, subject: str, ask: bool, last_who: str) -> None:
    rng, q = f.rng, rec.queue
    title = q.title_ru if ctx["lang"] == "ru" else q.title_en
    ctx["agent"], ctx["dept"], ctx["dept_email"] = agent.full_name, title, q.address
    if kind == "R":  # the compose screen: an e-mail from the queue's system address
        body = f.text.agent_reply(ctx, ask=ask, previous=rec.last_body, who=last_who, when=rec.last_when)
        files = f.files.agent_files(ctx) if rng.random() < 0.03 else ()
        rec.article(t, agent.id, "agent", "Email", 1, f"{agent.full_name} via {title} <{q.address}>",
                    cust_addr, subject, body, ("SendAnswer", f"%%{cust_addr}"), html=rng.random() < 0.4,
                    files=files, message_id=agent_message_id(rng, t),
                    from_name=f"{agent.full_name} via {title}")
    else:  # an outbound phone call noted by the agent
        rec.article(t, agent.id, "agent", "Phone", 1, f"{agent.full_name} <{agent.email}>", cust_addr,
                    subject, f.text.phone_agent(ctx), ("PhoneCallAgent", "%%"))
    rec.reset_unlock_time(t, agent.id)


def _end(f: TicketFactory, rec: TicketRecorder, final: str, main: tuple[str, int] | None,
         agent_for: Callable[[], Agent], t: int) -> None:
    """Leave the ticket in its final state with the screens an agent would use."""
    rng = f.rng
    agent = agent_for()
    if rec.owner_id == ROOT:
        rec.take(agent, t)
    kind = f.state_type[final]
    if kind in PENDING:
        until = t + rng.randint(1, 7) * 86_400
        if kind == "pending auto":
            until = max(until, f.now + rng.randint(HOUR, 3 * 86_400))
        rec.set_state(final, t, agent.id, until)
    elif final == "open":
        rec.set_state("open", t, agent.id)
        if rec.lock == "unlock" and rng.random() < 0.6:
            rec.take(agent, t)
        elif rec.lock == "lock" and rng.random() < 0.2:
            rec.unlock(t, agent.id)
    elif final == "merged" and main is not None:  # TicketMerge: note, Merged, state merged, unlock
        main_tn, main_id = main
        rec.article(t, agent.id, "agent", "Internal", 1, f"{agent.full_name} <{agent.email}>", "",
                    "Ticket Merged", Body([f"Merged Ticket {rec.tn} to {main_tn}."]), ("AddNote", "%%Note"))
        rec.hist("Merged", f"%%{rec.tn}%%{rec.tid}%%{main_tn}%%{main_id}", t, agent.id)
        rec.set_state("merged", t, agent.id)
    else:  # closed successful / unsuccessful, removed
        rec.set_state(final, t, agent.id)
