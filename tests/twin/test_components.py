from __future__ import annotations

import discord
from discord import app_commands

from discord_twin import Twin


class Approve(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Approve", style=discord.ButtonStyle.success, custom_id="approve")
    async def approve(
        self, interaction: discord.Interaction[discord.Client], button: discord.ui.Button[Approve]
    ) -> None:
        button.disabled = True
        await interaction.response.edit_message(content="approved", view=self)

    @discord.ui.select(
        custom_id="model",
        placeholder="model",
        options=[discord.SelectOption(label="fast"), discord.SelectOption(label="smart")],
    )
    async def model(
        self, interaction: discord.Interaction[discord.Client], select: discord.ui.Select[Approve]
    ) -> None:
        await interaction.response.send_message(f"model: {select.values[0]}")


class Rename(discord.ui.Modal, title="Rename"):
    name: discord.ui.TextInput[Rename] = discord.ui.TextInput(label="New name", custom_id="name")

    async def on_submit(self, interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message(f"renamed to {self.name.value}")


async def test_button_click_updates_message_and_select_replies(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("approve this?", view=Approve())
    message = twin.store.messages[sent.id]
    assert "[button success: Approve]" in twin.render(twin.seed.channel)

    owner = twin.user(twin.seed.owner)
    click = owner.click(message, "approve")
    await click.wait_response()
    assert click.response_type == 7
    updated = await twin.wait_for_message(
        lambda m: m.id == sent.id and m.content == "approved", edits=True
    )
    assert "[button success disabled: Approve]" in twin.render(twin.seed.channel)
    assert updated.components

    pick = owner.select(message, "model", ["smart"])
    assert (await pick.wait_message()).content == "model: smart"


async def test_modal_opens_and_submits(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    tree = app_commands.CommandTree(twin_client)

    @tree.command(name="rename", description="Open a modal")
    async def rename(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_modal(Rename())

    await tree.sync()
    owner = twin.user(twin.seed.owner)
    opened = await owner.slash("rename").wait_response()
    assert opened.modal is not None and opened.modal["title"] == "Rename"
    submitted = owner.submit_modal(opened, {"name": "new-name"})
    assert (await submitted.wait_message()).content == "renamed to new-name"


async def test_autocomplete_returns_choices(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    tree = app_commands.CommandTree(twin_client)

    async def projects(
        interaction: discord.Interaction[discord.Client], current: str
    ) -> list[app_commands.Choice[str]]:
        names = ["alpha", "beta", "alphabet"]
        return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

    @tree.command(name="open", description="Open a project")
    @app_commands.autocomplete(project=projects)
    async def open_project(interaction: discord.Interaction[discord.Client], project: str) -> None:
        await interaction.response.send_message(project)

    await tree.sync()
    handle = twin.user(twin.seed.owner).autocomplete("open", {"project": "al"}, focused="project")
    await handle.wait_response()
    assert handle.choices == [
        {"name": "alpha", "value": "alpha"},
        {"name": "alphabet", "value": "alphabet"},
    ]


async def test_permissions_follow_roles_and_owner(twin: Twin, twin_client: discord.Client) -> None:
    assert twin.seed is not None
    tree = app_commands.CommandTree(twin_client)
    seen: dict[str, tuple[bool, bool]] = {}

    @tree.command(name="whoami", description="Report permissions")
    async def whoami(interaction: discord.Interaction[discord.Client]) -> None:
        perms = interaction.permissions
        seen[interaction.user.name] = (perms.administrator, perms.manage_guild)
        await interaction.response.send_message("ok", ephemeral=True)

    await tree.sync()
    guild = twin.seed.guild
    manager_role = twin.create_role(guild, "managers", permissions=0x20)
    bob, carol = twin.create_user("bob"), twin.create_user("carol")
    twin.add_member(guild, bob, roles=[manager_role])
    twin.add_member(guild, carol)
    for user in (twin.seed.owner, bob, carol):
        await twin.user(user).slash("whoami").wait_response()
    assert seen == {"owner": (True, True), "bob": (False, True), "carol": (False, False)}


async def test_bot_edits_components_away_and_reacts(
    twin: Twin, twin_client: discord.Client
) -> None:
    assert twin.seed is not None
    channel = twin_client.get_channel(twin.seed.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("pick one", view=Approve())
    assert twin.store.messages[sent.id].components
    await sent.edit(content="picked", view=None)
    stored = twin.store.messages[sent.id]
    assert stored.components == [] and stored.content == "picked"
    await sent.add_reaction("✅")
    assert stored.reactions == {"✅": {twin.seed.bot.id}}
    assert "[reactions] ✅x1" in twin.render(twin.seed.channel)
