"""Apple's GPUs (Metal): not a device chainrule computes on."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
