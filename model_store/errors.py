"""Errors raised by the model store. Every message is one clear line meant for a user."""


class ModelStoreError(Exception):
    """Base class: anything the model core reports as a user-facing failure."""


class CorpusError(ModelStoreError):
    """A training or evaluation text is unusable (missing, binary, not UTF-8, empty, too short)."""


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
