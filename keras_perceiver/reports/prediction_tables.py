"""Predictions as CSV: a row per example, or a row per file."""

import csv


def write_predictions(path, probabilities):
    """A CSV row per example: its predicted class and every probability.

    Args:
        path: str or path of the CSV file.
        probabilities: array of shape `(examples, classes)`.

    Example:

    >>> write_predictions("predictions.csv", np.array([[0.2, 0.8]]))
    """
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["example", "predicted_class"]
            + [f"p{c}" for c in range(probabilities.shape[1])]
        )
        for index, row in enumerate(probabilities):
            writer.writerow(
                [index, int(row.argmax())] + [f"{p:.6f}" for p in row]
            )


def write_top_classes(path, paths, results):
    """A CSV row per file: its top classes and their probabilities.

    Args:
        path: str or path of the CSV file.
        paths: list of str. The files classified.
        results: one list per file of `(class name, probability)` pairs
            (`keras_perceiver.models.class_ranking.top_classes`).

    Example:

    >>> write_top_classes("top.csv", ["cat.png"], [[("cat", 0.9)]])
    """
    num_classes = len(results[0])
    header = ["file"] + [
        f"{kind}_{rank}" for rank in range(1, num_classes + 1)
        for kind in ("class", "probability")
    ]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for file_path, top in zip(paths, results):
            writer.writerow([file_path] + [
                value for name, probability in top
                for value in (name, f"{probability:.6f}")
            ])
