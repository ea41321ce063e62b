"""Plain-text transcripts of a channel, for snapshot assertions and the runner's console.

No ids or timestamps: the same conversation always renders the same text.
"""

from __future__ import annotations

from typing import Any

from .components import iter_components
from .state import EPHEMERAL, LOADING, SUPPRESS_NOTIFICATIONS, Channel, Message, Store

_BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link", 6: "premium"}


def render_channel(store: Store, channel: Channel) -> str:
    """Messages oldest first; threads started here appear where they were created."""
    lines = [_header(store, channel)]
    items: list[tuple[int, Message | Channel]] = [
        (m.id, m) for m in store.live_messages(channel.id)
    ]
    if not channel.is_thread:
        items += [(t.id, t) for t in store.threads(parent_id=channel.id)]
    for _, item in sorted(items, key=lambda pair: pair[0]):
        if isinstance(item, Channel):
            lines.append(_thread_line(item))
        else:
            lines.extend(render_message(store, item))
    return "\n".join(lines) + "\n"


def _header(store: Store, channel: Channel) -> str:
    if channel.is_thread:
        parent = store.channels.get(channel.parent_id or 0)
        state = " [archived]" if channel.archived else ""
        state += " [locked]" if channel.locked else ""
        return f"# {parent.name if parent else '?'} > {channel.name}{state}"
    return f"# {channel.name}"


def _thread_line(thread: Channel) -> str:
    state = ", archived" if thread.archived else ""
    count = thread.message_count
    noun = "message" if count == 1 else "messages"
    return f"  >> thread {thread.name!r} ({count} {noun}{state})"


def author_name(store: Store, message: Message) -> str:
    user = store.users.get(message.author_id)
    name = user.display_name if user else str(message.author_id)
    return f"{name} [bot]" if user and user.bot else name


def render_message(store: Store, message: Message) -> list[str]:
    marks = []
    if message.reference_message_id is not None:
        ref = store.messages.get(message.reference_message_id)
        marks.append(f"(reply to {author_name(store, ref) if ref else '?'})")
    if message.flags & EPHEMERAL or message.ephemeral_for is not None:
        marks.append("(ephemeral)")
    if message.flags & SUPPRESS_NOTIFICATIONS:
        marks.append("(silent)")
    if message.flags & LOADING:
        marks.append("(thinking...)")
    if message.edited_at is not None:
        marks.append("(edited)")
    head = " ".join([f"{author_name(store, message)}:", *marks])
    body = message.content.splitlines() or [""]
    lines = [f"{head} {body[0]}".rstrip()]
    lines += [f"  {line}" for line in body[1:]]
    for embed in message.embeds:
        lines.append(f"  [embed] {_embed_text(embed)}")
    for attachment in message.attachments:
        lines.append(f"  [file] {attachment.filename} ({len(attachment.data)} bytes)")
    components = _components_text(message.components)
    if components:
        lines.append(f"  {components}")
    if message.reactions:
        reactions = " ".join(f"{e}x{len(u)}" for e, u in message.reactions.items() if u)
        if reactions:
            lines.append(f"  [reactions] {reactions}")
    return lines


def _embed_text(embed: dict[str, Any]) -> str:
    parts = [str(embed[k]) for k in ("title", "description") if embed.get(k)]
    parts += [f"{f.get('name')}: {f.get('value')}" for f in embed.get("fields") or []]
    return " | ".join(parts)


def _components_text(components: list[dict[str, Any]]) -> str:
    out = []
    for component in iter_components(components):
        ctype = component.get("type")
        if ctype == 2:
            style = _BUTTON_STYLES.get(int(component.get("style", 2)), "?")
            label = component.get("label") or (component.get("emoji") or {}).get("name") or ""
            disabled = " disabled" if component.get("disabled") else ""
            out.append(f"[button {style}{disabled}: {label}]")
        elif ctype in (3, 5, 6, 7, 8):
            labels = [o.get("label", "") for o in component.get("options") or []]
            placeholder = component.get("placeholder") or "select"
            out.append(f"[select {placeholder}: {', '.join(labels)}]".replace(": ]", "]"))
        elif ctype == 10:
            out.append(f"[text] {component.get('content', '')}")
    return " ".join(out)
