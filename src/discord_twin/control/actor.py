"""Acting as a human user: post, edit, react, open threads, run commands, click, submit modals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..components import BUTTON, find_component, modal_submission
from ..errors import TwinError
from ..ops import NewFile
from ..payloads import channel_payload, member_payload, role_payload, user_payload
from ..state import PUBLIC_THREAD, Application, Channel, Command, Message, TypingEvent, User
from .handles import InteractionHandle

if TYPE_CHECKING:
    from .twin import Twin

# Application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, USER, CHANNEL, ROLE, MENTIONABLE = 1, 2, 6, 7, 8, 9


def mention(user: User) -> str:
    return f"<@{user.id}>"


class Actor:
    """A human user acting in the twin (what a test does instead of clicking in Discord)."""

    def __init__(self, twin: Twin, user: User) -> None:
        self.twin = twin
        self.user = user

    def send(
        self,
        channel: Channel,
        content: str = "",
        *,
        reply_to: Message | None = None,
        mentions: Iterable[User] = (),
        embeds: list[dict[str, Any]] | None = None,
        files: dict[str, bytes] | None = None,
        nonce: str | None = None,
    ) -> Message:
        """Post as this user; `mentions` are prepended as `<@id>` like a client would."""
        prefix = " ".join(mention(u) for u in mentions)
        text = f"{prefix} {content}".strip() if prefix else content
        message, _ = self.twin.ops.post_message(
            channel,
            self.user.id,
            content=text,
            embeds=embeds,
            files=[NewFile(name, data) for name, data in (files or {}).items()],
            nonce=nonce,
            message_reference={"message_id": reply_to.id} if reply_to else None,
        )
        return message

    def edit(self, message: Message, content: str) -> Message:
        return self.twin.ops.edit_message(message, {"content": content})

    def delete(self, message: Message) -> None:
        self.twin.ops.delete_message(message)

    def react(self, message: Message, emoji: str) -> None:
        self.twin.ops.react(message, emoji, self.user.id)

    def unreact(self, message: Message, emoji: str) -> None:
        self.twin.ops.react(message, emoji, self.user.id, add=False)

    def typing(self, channel: Channel) -> TypingEvent:
        return self.twin.ops.typing(channel, self.user.id)

    def create_thread(
        self, channel: Channel, name: str, *, from_message: Message | None = None
    ) -> Channel:
        return self.twin.ops.create_thread(
            channel, name, self.user.id, type=PUBLIC_THREAD, from_message=from_message
        )

    # ---- interactions ---------------------------------------------------------------------
    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        app: Application | None = None,
    ) -> InteractionHandle:
        """Run `/name` (or `"group sub"` for subcommands) with option values by name."""
        channel, app, command = self._command(name, channel, app)
        data = self._command_data(command, name, options or {}, channel)
        return self._interact(app, 2, channel, data)

    def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        channel: Channel | None = None,
        app: Application | None = None,
    ) -> InteractionHandle:
        """Type 4: the user is typing option `focused`; the bot answers with choices."""
        channel, app, command = self._command(name, channel, app)
        data = self._command_data(command, name, options, channel, focused=focused)
        return self._interact(app, 4, channel, data)

    def click(self, message: Message, custom_id: str) -> InteractionHandle:
        component = self._component(message, custom_id)
        if component.get("type") != BUTTON:
            raise ValueError(f"{custom_id!r} is not a button")
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return self._component_interaction(message, data)

    def select(self, message: Message, custom_id: str, values: list[str]) -> InteractionHandle:
        component = self._component(message, custom_id)
        data = {"custom_id": custom_id, "component_type": component["type"], "values": values}
        return self._component_interaction(message, data)

    def submit_modal(
        self, opened_by: InteractionHandle, values: dict[str, str | list[str]]
    ) -> InteractionHandle:
        """Fill and submit the modal that `opened_by` answered with (callback type 9)."""
        modal = opened_by.modal
        if modal is None:
            raise ValueError("that interaction was not answered with a modal")
        source = opened_by.interaction
        channel = self.twin.channel(source.channel_id)
        data = {
            "custom_id": modal["custom_id"],
            "components": modal_submission(modal.get("components") or [], values),
        }
        message = self.twin.store.messages.get(source.message_id) if source.message_id else None
        app = self.twin.store.applications[source.application_id]
        return self._interact(app, 5, channel, data, message=message)

    def _component(self, message: Message, custom_id: str) -> dict[str, Any]:
        component = find_component(message.components, custom_id)
        if component is None:
            raise ValueError(f"message {message.id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        return component

    def _component_interaction(self, message: Message, data: dict[str, Any]) -> InteractionHandle:
        """A click goes to the application that posted the message, as on Discord."""
        store = self.twin.store
        app = (
            store.applications.get(message.application_id)
            if message.application_id is not None
            else store.application_for_bot(message.author_id)
        )
        if app is None:
            raise ValueError(f"message {message.id} was not posted by an application")
        channel = self.twin.channel(message.channel_id)
        return self._interact(app, 3, channel, data, message=message)

    def _interact(
        self,
        app: Application,
        type: int,
        channel: Channel,
        data: dict[str, Any],
        *,
        message: Message | None = None,
    ) -> InteractionHandle:
        interaction = self.twin.ops.create_interaction(
            app.id, type, self.user.id, channel, data, message=message
        )
        return InteractionHandle(self.twin, interaction)

    def _command(
        self, name: str, channel: Channel | None, app: Application | None
    ) -> tuple[Channel, Application, Command]:
        """The command `/name` visible in `channel`: the guild's, then global ones. Without `app`
        the one application that registered that name is meant; several is an error, since a
        Discord user would have to pick one."""
        channel = channel or (self.twin.seed.channel if self.twin.seed else None)
        if channel is None:
            raise ValueError("no channel given and no default seed")
        root = name.split()[0]
        apps = [app] if app is not None else self._apps_in(channel)
        found: list[tuple[Application, Command]] = []
        for candidate in apps:
            command = self._find_command(candidate, root, channel)
            if command is not None:
                found.append((candidate, command))
        if not found:
            raise TwinError(404, 10063, f"Unknown application command /{root}")
        if len(found) > 1:
            names = ", ".join(a.name for a, _ in found)
            raise ValueError(f"/{root} is registered by several applications ({names}); pass app=")
        return channel, found[0][0], found[0][1]

    def _apps_in(self, channel: Channel) -> list[Application]:
        store = self.twin.store
        guild = store.guilds.get(channel.guild_id) if channel.guild_id else None
        return [
            a
            for a in store.applications.values()
            if guild is None or a.bot_user_id in guild.members
        ]

    def _find_command(self, app: Application, root: str, channel: Channel) -> Command | None:
        scopes = [channel.guild_id, None] if channel.guild_id else [None]
        for guild_id in scopes:
            for command in self.twin.ops.commands(app.id, guild_id):
                if command.name == root and command.type == 1:
                    return command
        return None

    def _command_data(
        self,
        command: Command,
        name: str,
        values: dict[str, Any],
        channel: Channel,
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        resolved: dict[str, dict[str, Any]] = {}
        declared = command.options
        path = name.split()[1:]
        nested: list[dict[str, Any]] = []
        container = nested
        for part in path:
            spec = next((o for o in declared if o.get("name") == part), None)
            if spec is None:
                raise ValueError(f"/{command.name} has no subcommand {part!r}")
            entry: dict[str, Any] = {"name": part, "type": spec["type"], "options": []}
            container.append(entry)
            container = entry["options"]
            declared = spec.get("options") or []
        for opt_name, value in values.items():
            spec = next((o for o in declared if o.get("name") == opt_name), None)
            if spec is None:
                raise ValueError(f"/{name} has no option {opt_name!r}")
            container.append(self._option(spec, value, resolved, channel, opt_name == focused))
        data: dict[str, Any] = {
            "id": str(command.id),
            "name": command.name,
            "type": command.type,
            "options": nested,
        }
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        if resolved:
            data["resolved"] = resolved
        return data

    def _option(
        self,
        spec: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        channel: Channel,
        focused: bool,
    ) -> dict[str, Any]:
        otype = int(spec["type"])
        store = self.twin.store
        guild = store.guilds.get(channel.guild_id) if channel.guild_id else None
        if otype in (USER, CHANNEL, ROLE, MENTIONABLE) and hasattr(value, "id"):
            value = value.id
        if otype in (USER, MENTIONABLE) and int(value) in store.users:
            user = store.users[int(value)]
            resolved.setdefault("users", {})[str(user.id)] = dict(user_payload(user))
            if guild is not None and user.id in guild.members:
                member = {
                    k: v
                    for k, v in member_payload(
                        store, guild.members[user.id], with_permissions=True
                    ).items()
                    if k != "user"
                }
                resolved.setdefault("members", {})[str(user.id)] = member
        elif otype == CHANNEL and int(value) in store.channels:
            resolved.setdefault("channels", {})[str(value)] = {
                **channel_payload(store.channels[int(value)]),
                "permissions": str((1 << 53) - 1),
            }
        elif otype == ROLE and guild is not None and int(value) in guild.roles:
            resolved.setdefault("roles", {})[str(value)] = dict(
                role_payload(guild.roles[int(value)])
            )
        option: dict[str, Any] = {"name": spec["name"], "type": otype}
        option["value"] = str(value) if otype in (USER, CHANNEL, ROLE, MENTIONABLE) else value
        if focused:
            option["focused"] = True
        return option
