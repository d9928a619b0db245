"""English: every message the bot shows in Discord, by key (the source of the translations).

Placeholders in braces are filled by :func:`bot.i18n.t`; user data in them is already escaped
or put in code spans by the caller. Keep Discord's own names as Discord shows them (Manage
Server, /commands with their English names).

Why a job failed or is retried (``reason.<code>``) is the English of :mod:`jobs.reasons`, the
worker's own sentences.
"""

from jobs import reasons

MESSAGES: dict[str, str] = {
    # -- errors (the command tree's handler) ----------------------------------------------
    "error.unexpected": "Something went wrong on my side; it has been logged. Please try again.",
    "error.cooldown": "Slow down: you can use this again in {seconds} s.",
    "error.missing_permissions": "You need the {permissions} permission for that.",
    "error.no_dm": "That command works in a server, not in DMs.",
    "error.check_failed": "You can't use that command here.",
    "error.bad_value": "That value doesn't work for this option: {value}.",
    "error.model": "{detail}",
    "permission.manage_guild": "Manage Server",
    # -- models ----------------------------------------------------------------------------
    "model.not_found": (
        "There is no model called {name} here. "
        "See `/model list` for the models this server can use."
    ),
    "model.damaged_builtin": (
        "The model `{name}` is unavailable: its files are damaged ({problem}). "
        "Try another model; the bot's operator can fix it."
    ),
    "model.damaged_server": (
        "The model `{name}` is unavailable: its files are damaged ({problem}). "
        "Try another model; its owner can fix it (`/model delete`)."
    ),
    "model.deleted_while_writing": "The model `{name}` was deleted while I was writing.",
    "model.stopped_working": "The model `{name}` stopped working; it has been logged.",
    "model.busy": "The model `{name}` is not available right now; try again.",
    "model.shutting_down": "The bot is shutting down; try again in a minute.",
    "model.builtin": "built-in",
    "model.server": "server",
    "model.by": "by {user}",
    "model.unavailable": "unavailable",
    "loss.nats": "{loss} nats/char",
    "loss.unknown": "unknown",
    # -- /generate and the replies' buttons -------------------------------------------------
    "generate.seed_empty": "The seed is empty: give me some text to continue.",
    "generate.too_long": "The longest I write here is {limit} characters.",
    "generate.out_of_range": "Out of range: temperature 0-2, top_p 0.01-1, length 1 or more.",
    "generate.bad_seed": (
        "I can't continue that seed: {detail}. The model `{name}` only knows the characters "
        "of the text it was trained on."
    ),
    "generate.footer": "{model} · temperature {temperature}",
    "generate.chars": "{count} characters",
    "generate.skipped": "skipped unknown characters: {chars}",
    "generate.writing": "writing…",
    "bot.restarting": "I'm restarting; try again in a moment.",
    "generate.stopped": "stopped: press Continue",
    "generate.attached": "full text attached",
    "button.continue": "Continue",
    "button.regenerate": "Regenerate",
    "buttons.busy": "I'm already continuing this text; wait until it is done.",
    "buttons.model_gone": (
        "The model this text was written with has been deleted, so I can't go on with it. "
        "Try `/generate` with another model."
    ),
    "buttons.unreadable": (
        "I can't read this reply's text back, so I can't go on with it. "
        "Start again with `/generate`."
    ),
    "continue.still_writing": "That reply is still being written; try again when it is done.",
    "continue.unreadable": "I can't read that reply's text back any more, so I can't continue it.",
    "download.try_again": (
        "I couldn't download the reply's text from Discord just now ({why}); try again in a moment."
    ),
    "download.timeout": "it took too long",
    "download.network_error": "network error",
    "continue.empty": "That message has no text for me to continue.",
    "continue.attachments_only": (
        "That message has only attachments; I can continue the text of a message."
    ),
    "continue.embeds_only": (
        "That message has only embeds (like a bot's card); I can continue the text of a message."
    ),
    # -- /model ----------------------------------------------------------------------------
    "list.title": "Models on this server",
    "list.damaged": "unavailable: its files are damaged",
    "list.base": "base {base}",
    "list.loss": "held-out loss {loss} · created {date}",
    "list.default": "default",
    "list.footer": "page {page}/{pages} · lower loss = closer to the style",
    "list.previous": "Previous",
    "list.next": "Next",
    "list.not_yours": "Run `/model list` yourself to page.",
    "card.title": "Model {name}",
    "card.made_by": "Made by",
    "card.base": "Base model",
    "card.from_scratch": "— (trained from scratch)",
    "card.loss": "{loss} ({bits} bits/char)",
    "card.network": "Network",
    "card.network_value": "{layers}× LSTM({units}), {vocab} characters",
    "card.training": "{epochs} epochs, {minutes} min",
    "card.sample": "Sample (temperature 0.5)",
    "card.created": "created",
    "default.set": (
        "`{name}` is now this server's default model: `/generate` and "
        "*Continue this text* use it when no model is named."
    ),
    "default.gone": "`{name}` has just been deleted, so it can't be this server's default.",
    "delete.builtin": "`{name}` is a built-in model; it can't be deleted.",
    "delete.not_allowed": "Only the model's owner or someone with Manage Server can delete it.",
    "delete.ask": "Delete `{name}`? Its weights go too; this can't be undone.",
    "delete.confirm": "Delete",
    "delete.cancel": "Cancel",
    "delete.deleting": "Deleting `{name}`…",
    "delete.done": "Deleted `{name}` (its weights and its record).",
    "delete.was_default": (
        "It was this server's default model: `/generate` now uses the built-in default, "
        "`{default}`."
    ),
    "delete.gone": "`{name}` has already been deleted; nothing else was.",
    "delete.kept": "Nothing was deleted.",
    "delete.not_yours": "Only the person who asked can confirm.",
    # -- /train ----------------------------------------------------------------------------
    "train.bad_name": (
        "{name} can't be a model name: use 2-32 lowercase letters, digits, - or _, "
        "starting with a letter or digit."
    ),
    "train.not_txt": "{file} is not a .txt file. Upload plain UTF-8 text.",
    "train.file_empty": "That file is empty.",
    "train.file_too_big": (
        "That file is {size} bytes; the limit is {limit} bytes ({mb} MB). Upload a shorter text."
    ),
    "train.name_taken": "There is already a model called `{name}` here.",
    "train.too_many_models": (
        "This server has {count} models, the most it may have. "
        "Delete one with `/model delete` first."
    ),
    "train.bad_text": "{detail}",
    "train.refused": "{detail}",
    "train.download_failed": (
        "I couldn't download {file} from Discord ({why}). Please upload it again."
    ),
    "train.download_try_again": (
        "I couldn't download {file} from Discord just now ({why}); try `/train` again in a moment."
    ),
    "train.queued": (
        "Queued job #{id}: training `{name}` ({how}, {effort} effort) on {chars} characters."
    ),
    "train.position": "It is number {position} in the queue.",
    "train.progress_here": "Progress will appear in this channel; `/job cancel` stops it.",
    "effort.quick": "quick",
    "effort.normal": "normal",
    "effort.thorough": "thorough",
    # -- /job and the channel's job messages -----------------------------------------------
    "status.queued": "queued",
    "status.running": "running",
    "status.succeeded": "succeeded",
    "status.failed": "failed",
    "status.cancelled": "cancelled",
    "job.not_found": "There is no job #{id} on this server.",
    "job.none_yours": "You have no training jobs on this server. Try `/train`.",
    "job.none_here": "No training jobs on this server yet.",
    "job.list_title": "Training jobs",
    "job.cancel_not_allowed": "Only the job's owner or someone with Manage Server can cancel it.",
    "job.already_finished": "Job #{id} has already ended: {status}.",
    "job.cancelled_before_start": "Cancelled job #{id} before it started.",
    "job.stopping": "Stopping job #{id}; the worker stops within a few seconds.",
    "job.place": "place {position} in the queue",
    "job.cancelling": "cancelling",
    "job.by": "by {user}",
    "job.ago": "{duration} ago",
    "job.title": "{icon} Training `{name}` (job #{id}, {how})",
    "job.how_finetune": "fine-tuning {base}",
    "job.how_scratch": "from scratch",
    "job.waiting": "Waiting for a worker…",
    "job.starting": "Starting…",
    "job.epoch": "epoch {epoch}/{epochs} · loss {loss}",
    "job.heldout": "held-out {loss}",
    "job.speed": "{speed} characters/s · ETA {eta}",
    "job.learned_little": "Finished, but `{name}` learned little: see the result.",
    "job.done": "Done: `{name}` is ready. Try `/generate`.",
    "job.failed": "Training failed: {error}",
    "job.unknown_reason": "unknown reason",
    "job.cancelled": "Cancelled.",
    "job.device": "training on {device}",
    "job.sample_after": "Sample after epoch {epoch}",
    "note.starting": "Starting training…",
    "note.resuming": "Resuming after epoch {epoch}…",
    "note.retrying": "Retrying: {reason}",
    "result.title": "✅ `{name}` is trained",
    "result.title_little": "⚠️ `{name}` is trained but learned little",
    "result.usage": "use it with `/generate model:{name}`",
    "result.description": "by {user} · {usage}",
    "result.description_little": (
        "by {user} · {shortfall} {advice} You can still {usage}, or delete it with `/model delete`."
    ),
    "result.chars": "{chars} characters",
    "result.new_chars": ", {count} new",
    "result.training": "{epochs} epochs{steps} in {duration}",
    "result.steps": " ({steps} steps)",
    "field.heldout": "Held-out loss",
    "field.corpus": "Corpus",
    "field.training": "Training",
    "field.sample": "Sample",
    "outcome.figures": "{loss} nats/char ({others})",
    "outcome.base": "base model: {loss}",
    "outcome.uniform": "uniform guess: {loss}",
    "outcome.below_uniform": (
        "Its held-out loss ({loss}) is no better than guessing every character uniformly "
        "({uniform})."
    ),
    "outcome.below_base": (
        "Its held-out loss ({loss}) is no better than its base model's ({base}): it did not "
        "learn this text's style."
    ),
    "advice.more_small": (
        "More text would help most (this one had {chars} characters; {small} or more learn "
        "a style well)"
    ),
    "advice.more": "A longer text would help",
    "advice.scratch": (
        "{more}; training from scratch needs far more text than fine-tuning (the default)."
    ),
    "advice.enough_effort": "{more}.",
    "advice.effort": "{more}, and so would `effort:thorough`.",
    # -- model store problems (model_store.errors.PROBLEMS): an upload, a seed -------------
    "seed.empty": "the seed is empty",
    "seed.unknown_chars": "the model knows none of the characters in the seed ({chars})",
    "corpus.empty": "The file is empty.",
    "corpus.unprintable": (
        "The file is mostly unprintable characters, not plain text: upload a .txt file."
    ),
    "corpus.one_char": (
        "The file has only one distinct character ({char}); there is no style to learn in it."
    ),
    "corpus.too_short": (
        "The file is too short to learn from ({chars} characters; at least {min})."
    ),
    "corpus.too_short_to_split": "The text is too short to train on ({chars} characters).",
    "corpus.damaged": (
        "The file is marked as {encoding} but is damaged at byte {byte}; save it as UTF-8 "
        "(in Notepad: File > Save as > Encoding: UTF-8)."
    ),
    "corpus.utf16_without_bom": (
        "The file looks like UTF-16 without a byte-order mark, which can't be read reliably; "
        "save it as UTF-8 (in Notepad: File > Save as > Encoding: UTF-8)."
    ),
    "corpus.binary": (
        "The file looks binary (it contains NUL bytes), not plain text: upload a .txt file "
        "saved as UTF-8."
    ),
    "corpus.not_utf8": (
        "The file is not UTF-8 (byte {byte} at position {position} is not valid UTF-8; the "
        "file may be Windows-1252 or Latin-1): save it as UTF-8 (in Notepad: File > Save as > "
        "Encoding: UTF-8)."
    ),
    **{f"reason.{code}": text for code, text in reasons.ENGLISH.items()},
    # -- /privacy --------------------------------------------------------------------------
    "privacy.kept": " (this bot's operator keeps them: LSTM_BOT_KEEP_CORPORA)",
    "privacy.text": (
        "**What lstm-bot stores**\n"
        "• **Uploaded texts** (`/train`): stored with the training job in the bot's job "
        "queue, sent to the training worker, and deleted as soon as the job ends{keep}.\n"
        "• **Models**: the trained weights and a model card (name, who made it, base model, "
        "corpus size, training figures). Only this server can see or use its models.\n"
        "• **Jobs**: for each training job, who started it, in which channel, the language "
        "of their Discord (for the job's messages), its status and progress log (losses, "
        "samples). Kept so `/job list` can show them.\n"
        "• **Server settings**: this server's default model (`/model default`).\n"
        "• **Replies being written**: the ids of the message, its channel and server, the "
        "model, the options and the writer's Discord language, only while the reply is "
        "written (so that a restart can finish it); never its text.\n"
        "• **Not stored**: `/generate` seeds and results, the messages *Continue this text* "
        "is used on, and channel messages. The Continue and Regenerate buttons read the text "
        "back from the bot's own reply (its message, or its `generated.txt`); they carry "
        "only the model and the options. The bot never reads message history.\n\n"
        "**How to delete it**\n"
        "• `/job cancel` stops a job and deletes its uploaded text.\n"
        "• `/model delete` removes a model's weights, its card and its record (its owner or "
        "anyone with Manage Server).\n"
        "• To have everything of this server removed, ask the bot's operator."
    ),
}

COMMANDS: dict[str, str] = {}  # the commands' own texts are English
