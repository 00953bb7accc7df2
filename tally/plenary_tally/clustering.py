"""Clustering, as the 2024 re-analysis did it and as Pol.is does it. numpy and scikit-learn, no Django.

`components` splits the components on the score axis with 1-D k-means; `opinion_groups`
places voters by their votes (PCA to two dimensions) and groups them with k-means, to set
beside the working groups they vote for. Fixed seeds and many restarts: the same input
gives the same result.
"""

import warnings
from collections.abc import Mapping

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from .model import VoterMatrix, voter_matrix

RESTARTS = 25


def _kmeans(points: np.ndarray, k: int, seed: int) -> KMeans:
    # one thread: these are small problems, where starting a thread pool costs more than it saves
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")  # duplicate points: fewer distinct clusters than k is reported below
        return KMeans(n_clusters=k, n_init=RESTARTS, random_state=seed).fit(points)


def _round(x: float) -> float:
    return round(float(x), 6)


def components(scores: Mapping[str, float], *, k: int, seed: int, silhouette: bool = True) -> dict:
    """1-D k-means on the components' scores: clusters ordered by centre, highest first."""
    keys = sorted(scores, key=lambda key: (-scores[key], key))
    values = np.array([[float(scores[key])] for key in keys])
    distinct = len(np.unique(values))
    k_used = min(k, distinct)
    result: dict = {"k": k, "seed": seed, "centres": [], "clusters": [], "silhouette": {}}
    if k_used < 1:
        return result
    model = _kmeans(values, k_used, seed)
    order = np.argsort(-model.cluster_centers_.ravel(), kind="stable")
    rank = {int(label): position for position, label in enumerate(order)}
    result["centres"] = [_round(model.cluster_centers_[label][0]) for label in order]
    result["clusters"] = [[] for _ in order]
    for key, label in zip(keys, model.labels_, strict=True):
        result["clusters"][rank[int(label)]].append(key)
    if k_used < k:
        result["note"] = f"only {distinct} distinct scores: {k_used} clusters"
    if silhouette:
        result["silhouette"] = silhouettes(values, seed=seed)
    return result


def silhouettes(points: np.ndarray, *, seed: int, ks: range = range(2, 7)) -> dict[str, float]:
    """Silhouette score of the k-means split for each k the data allows."""
    distinct = len(np.unique(points, axis=0))
    scores = {}
    for k in ks:
        if k > distinct - 1 or k >= len(points):
            continue
        labels = _kmeans(points, k, seed).labels_
        if len(set(labels)) > 1:
            scores[str(k)] = _round(silhouette_score(points, labels))
    return scores


def opinion_groups(
    voters: Mapping[str, tuple[str, Mapping[tuple[str, str], int]]] | VoterMatrix,
    *,
    cells: list[tuple[str, str]],
    k: int,
    seed: int,
) -> dict:
    """Voters placed by their votes (missing votes count 0), PCA to 2-D, then k-means.

    `voters` maps each voter to (working group, {(component, criterion): value}), or is the
    `VoterMatrix` of the same (what the server and `analysis.tally` read, at any size).
    """
    matrix = voter_matrix(voters, cells)
    names = matrix.names
    result: dict = {"k": k, "seed": seed, "points": [], "crosstab": {}, "explained_variance": []}
    if len(names) < 3:
        result["note"] = "fewer than three voters"
        return result
    n_components = min(2, len(names), len(cells))
    # Many voters on a ballot of a few hundred cells: PCA from the covariance matrix, as scikit-learn itself
    # chooses for such tall data (the same axes, to 1e-13; ten times faster). Otherwise the full SVD.
    tall = len(names) >= 10 * len(cells)
    pca = PCA(n_components=n_components, svd_solver="covariance_eigh" if tall else "full")
    with np.errstate(invalid="ignore", divide="ignore"):  # identical voters: no variance to explain
        coords = pca.fit_transform(matrix.values)
    if n_components < 2:
        coords = np.hstack([coords, np.zeros((len(names), 2 - n_components))])
    k_used = max(1, min(k, len(np.unique(coords.round(9), axis=0))))
    model = _kmeans(coords, k_used, seed)
    order = np.argsort(-model.cluster_centers_[:, 0], kind="stable")  # left to right on the first axis
    rank = {int(label): position + 1 for position, label in enumerate(order)}
    crosstab: dict[str, dict[str, int]] = {}
    xs, ys = (_round(v) for v in coords[:, 0]), (_round(v) for v in coords[:, 1])
    for name, group, x, y, label in zip(names, matrix.groups, xs, ys, model.labels_.tolist(), strict=True):
        cluster = rank[label]
        result["points"].append({"voter": name, "group": group, "x": x, "y": y, "cluster": cluster})
        crosstab.setdefault(str(cluster), {}).setdefault(group, 0)
        crosstab[str(cluster)][group] += 1
    result["crosstab"] = {c: dict(sorted(g.items())) for c, g in sorted(crosstab.items())}
    result["explained_variance"] = [_round(v) for v in np.nan_to_num(pca.explained_variance_ratio_)]
    return result
