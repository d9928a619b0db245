"""Errors raised by the model store. Every message is one clear line meant for a user."""


class ModelStoreError(Exception):
    """Base class: anything the model core reports as a user-facing failure.

    Besides the English message, a problem a bot may have to say in its user's language has a
    ``code`` (of :data:`PROBLEMS`) and its ``params``; "" for one only the command line meets.
    """

    def __init__(self, message: str, code: str = "", **params: object):
        super().__init__(message)
        self.code = code
        self.params = params


class CorpusError(ModelStoreError):
    """A training or evaluation text is unusable (missing, binary, not UTF-8, empty, too short).

    Its codes: :data:`PROBLEMS` ``["corpus"]``.
    """


# The problems a user can meet, by kind (the exception), code and the parameters of each.
PROBLEMS: dict[str, dict[str, tuple[str, ...]]] = {}
PROBLEMS["corpus"] = {  # CorpusError: an uploaded text that can't be trained on
    "empty": (),
    "unprintable": (),
    "one_char": ("char",),
    "too_short": ("chars", "min"),
    "too_short_to_split": ("chars",),
    "damaged": ("encoding", "byte"),
    "utf16_without_bom": (),
    "binary": (),
    "not_utf8": ("byte", "position"),
}


class ModelNotFoundError(ModelStoreError):
    """No model of that name in the store."""


class ArtifactError(ModelStoreError):
    """A model's files are missing, truncated, corrupted or of an unknown format."""


class InvalidNameError(ModelStoreError):
    """A model name that is not allowed."""


class SeedError(ModelStoreError):
    """A seed that the model cannot continue (empty, or no character the model knows).

    Its codes: :data:`PROBLEMS` ``["seed"]``.
    """


PROBLEMS["seed"] = {"empty": (), "unknown_chars": ("chars",)}


class TrainingCancelled(ModelStoreError):
    """The caller's ``stop()`` (e.g. a training callback's ``should_stop``) asked to stop: while
    a text was prepared or while training ran."""


class TrainingDiverged(ModelStoreError):
    """The training loss stopped being a finite number (NaN or infinite): training stopped."""
