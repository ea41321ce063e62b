"""The Discord side: the discord.py client, slash commands, and who may use them."""
