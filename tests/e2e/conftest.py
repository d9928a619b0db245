"""End-to-end fixtures: the real bot (discord.py) against the in-repo fake Discord server."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.client import LSTMBot
from bot.settings import Settings
from fake_discord import FakeDiscord, FakeGuild, FakeUser
from fake_discord.testing import running_bot
from model_store import ModelStore

DEFAULT = "basic"  # the tests' built-in model: a tiny one, so tests stay fast


@dataclass
class Env:
    fake: FakeDiscord
    bot: LSTMBot
    guild_a: FakeGuild
    guild_b: FakeGuild
    alice: FakeUser  # member of A
    bob: FakeUser  # member of B
    carol: FakeUser  # member of A, no special permissions
    admin: FakeUser  # member of A with Manage Server
    settings: Settings

    async def add_guild_model(self, guild: FakeGuild, owner: FakeUser, name: str, artifact):
        store = ModelStore(self.settings.guild_model_path / str(guild.id))
        path = store.save(dataclasses.replace(artifact, name=name))
        return await self.bot.registry.add(
            name=name, guild_id=guild.id, owner_id=owner.id, card=artifact.card, path=str(path)
        )


@pytest.fixture
def builtin_dir(tmp_path: Path, tiny_model) -> Path:
    root = tmp_path / "builtin"
    ModelStore(root).save(dataclasses.replace(tiny_model.artifact, name=DEFAULT))
    return root


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", default_model=DEFAULT, generate_cooldown=0)


@pytest.fixture
async def env(settings: Settings, builtin_dir: Path) -> AsyncIterator[Env]:
    async with FakeDiscord(quiet_period=0.05) as fake:
        guild_a, guild_b = fake.add_guild("Guild A"), fake.add_guild("Guild B")
        alice, bob = fake.add_user("alice"), fake.add_user("bob")
        carol, admin = fake.add_user("carol"), fake.add_user("admin")
        fake.add_member(guild_a, alice)
        fake.add_member(guild_a, carol)
        fake.add_member(guild_a, admin, permissions=discord.Permissions(manage_guild=True))
        fake.add_member(guild_b, bob)
        bot = LSTMBot(settings, sync_commands=True, builtin_root=builtin_dir)
        async with running_bot(fake, bot):
            yield Env(fake, bot, guild_a, guild_b, alice, bob, carol, admin, settings)
        fake.assert_no_violations()
