"""Argument checks shared by the layers and models.

Every check raises a `ValueError` that names the argument, says what was
expected and ends with `Received: ...`, so that bad input never surfaces as a
backend traceback. NumPy integers and floats count as integers and numbers
(they are `numbers.Integral` and `numbers.Real`), and come back as Python
ones, so that configurations stay JSON.
"""

import numbers


def check_positive_int(name, value):
    """Returns `value` as an int if it is an integer > 0, otherwise raises."""
    if not _is_integer(value) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return int(value)


def check_optional_positive_int(name, value):
    """Returns `value` if it is None or an integer > 0, otherwise raises."""
    if value is None:
        return None
    return check_positive_int(name, value)


def check_indices(name, value, size):
    """Returns `value` as a list of ints if it is a non-empty list or tuple
    of integers in [0, size), otherwise raises."""
    if (not isinstance(value, (list, tuple)) or not value or not all(
            _is_integer(index) and 0 <= index < size for index in value)):
        raise ValueError(
            f"`{name}` must be a non-empty list of indices, each in "
            f"[0, {size}). Received: {name}={value!r}"
        )
    return [int(index) for index in value]


def check_positive_number(name, value):
    """Returns `value` as a float if it is a finite number > 0, otherwise
    raises."""
    if not _is_number(value) or not 0.0 < value < float("inf"):
        raise ValueError(
            f"`{name}` must be a positive number. Received: {name}={value!r}"
        )
    return float(value)


def check_fraction(name, value):
    """Returns `value` if it is a number in [0, 1), otherwise raises."""
    if not _is_number(value):
        raise ValueError(
            f"`{name}` must be a number in [0, 1). Received: {name}={value!r}"
        )
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"`{name}` must be a number in [0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_bool(name, value):
    """Returns `value` if it is a Python bool, otherwise raises."""
    if not isinstance(value, bool):
        raise ValueError(
            f"`{name}` must be True or False. Received: {name}={value!r}"
        )
    return value


def check_class_names(class_names, num_classes):
    """Returns class names as a list of `num_classes` strings, or None."""
    if class_names is None:
        return None
    names = list(class_names)
    if len(names) != num_classes or not all(
        isinstance(name, str) for name in names
    ):
        raise ValueError(
            f"`class_names` must be {num_classes} strings, one per class. "
            f"Received: class_names with {len(names)} entries"
        )
    return names


def check_choice(name, value, choices):
    """Returns `value` if it is one of `choices`, otherwise raises."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value


def check_divisible(name, value, divisor_name, divisor):
    """Raises unless `value` is a multiple of `divisor`."""
    if value % divisor:
        raise ValueError(
            f"`{name}` must be divisible by `{divisor_name}` ({divisor}). "
            f"Received: {name}={value}"
        )


def check_optional_positive_multiple(name, value, divisor_name, divisor):
    """Returns `value` if it is None or a positive multiple of `divisor`,
    otherwise raises (as `check_positive_int` or `check_divisible`)."""
    if value is None:
        return None
    value = check_positive_int(name, value)
    check_divisible(name, value, divisor_name, divisor)
    return value


def check_rank(name, shape, expected_ranks):
    """Raises unless `shape` has one of `expected_ranks` (batch included)."""
    if len(shape) not in expected_ranks:
        expected = " or ".join(str(rank) for rank in expected_ranks)
        raise ValueError(
            f"`{name}` must have rank {expected} (batch dimension included). "
            f"Received: {name}.shape={tuple(shape)}"
        )


def check_grid(name, value, num_elements=None):
    """Returns a grid shape as a tuple of positive ints, otherwise raises.

    Args:
        name: str. The argument's name, for error messages.
        value: sequence of ints. The grid's size along each axis.
        num_elements: int or None. If given, the number of points the grid
            must have.
    """
    try:
        grid = tuple(value)
    except TypeError:
        grid = ()
    if not grid or any(
        not _is_integer(size) or size <= 0 for size in grid
    ):
        raise ValueError(
            f"`{name}` must be a non-empty sequence of positive integers. "
            f"Received: {name}={value!r}"
        )
    points = 1
    for size in grid:
        points *= size
    if num_elements is not None and points != num_elements:
        raise ValueError(
            f"`{name}` must have {num_elements} points, one per output. "
            f"Received: {name}={value!r} with {points} points"
        )
    return tuple(int(size) for size in grid)


def freeze_resolution(value):
    """Returns a sequence as a tuple (a config's JSON list included)."""
    if value is None or _is_number(value):
        return _python_number(value)
    return tuple(value)


def resolve_per_dimension(name, value, num_dims):
    """Turns a number or a sequence into a tuple with one entry per dimension.

    Args:
        name: str. The argument's name, for error messages.
        value: int, float or sequence of them. One value for every dimension,
            or one per dimension.
        num_dims: int. The number of dimensions.

    Returns:
        A tuple of `num_dims` positive numbers.
    """
    if _is_number(value):
        values = (value,) * num_dims
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(
                f"`{name}` must be a positive number or a sequence of "
                f"{num_dims} positive numbers. Received: {name}={value!r}"
            ) from None
    if len(values) != num_dims:
        raise ValueError(
            f"`{name}` must have one entry per position dimension "
            f"({num_dims}). Received: {name}={value!r} "
            f"with {len(values)} entries"
        )
    for entry in values:
        if not _is_number(entry):
            raise ValueError(
                f"`{name}` entries must be positive numbers. "
                f"Received: {name}={value!r}"
            )
        if entry <= 0:
            raise ValueError(
                f"`{name}` entries must be positive. Received: {name}={value!r}"
            )
    return tuple(_python_number(entry) for entry in values)


def resolve_int_per_dimension(name, value, num_dims):
    """Like `resolve_per_dimension`, for positive integers only.

    Args:
        name: str. The argument's name, for error messages.
        value: int or sequence of ints. One value for every dimension, or
            one per dimension.
        num_dims: int. The number of dimensions.

    Returns:
        A tuple of `num_dims` positive integers.
    """
    values = resolve_per_dimension(name, value, num_dims)
    for entry in values:
        if not _is_integer(entry):
            raise ValueError(
                f"`{name}` must be a positive integer or a sequence of "
                f"{num_dims} positive integers. Received: {name}={value!r}"
            )
    return values


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _python_number(value):
    """A NumPy scalar as the Python int or float it holds (None as None)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    return None if value is None else float(value)
