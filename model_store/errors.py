"""Errors raised by the model store. Every message is one clear line meant for a user."""


class ModelStoreError(Exception):
    """Base class: anything the model core reports as a user-facing failure."""


class CorpusError(ModelStoreError):
    """A training or evaluation text is unusable (missing, binary, not UTF-8, empty, too short).

    Besides the English message: ``code`` (one of :data:`CORPUS_PROBLEMS`, or "" for a problem
    only the command line meets) and its ``params``, so a bot can say it in its user's language.
    """

    def __init__(self, message: str, code: str = "", **params: object):
        super().__init__(message)
        self.code = code
        self.params = params


# The problems an uploaded text can have, by code, with the parameters each one has.
CORPUS_PROBLEMS: dict[str, tuple[str, ...]] = {
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
    """A seed that the model cannot continue (empty, or no character the model knows)."""


class TrainingDiverged(ModelStoreError):
    """The training loss stopped being a finite number (NaN or infinite): training stopped."""
