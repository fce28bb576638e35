"""Training: the fit loop, metrics, checkpoints, recipes, and the train/evaluate/predict jobs."""
from .callbacks import BestModel, CSVLogger, EpochLog, TensorBoardLogger  # noqa: F401
from .metrics import accuracy, confusion_matrix, precision_recall_f1, report  # noqa: F401
from .summary import summary  # noqa: F401
from .trainer import Callback, History, Trainer  # noqa: F401
