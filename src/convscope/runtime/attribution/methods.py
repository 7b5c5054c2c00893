"""Attribution maps: which input pixels a class score depends on, by six methods.

Each map is (N, H, W) on the input's grid, for one class per image (the predicted one
unless a target is given). A colour image's channels are combined per pixel as the
papers do: the largest |gradient| of the three for saliency and SmoothGrad (Simonyan et
al. 2014, sec. 3.1), the sum for gradient x input and integrated gradients (so that the
map still sums to the score's change); occlusion covers all channels at once. The
gradient methods follow the class's score before any final softmax (its logit), as
Captum does with a model that returns logits; occlusion follows the probability, as
Zeiler & Fergus did.

- saliency: |d score / d x| (Simonyan, Vedaldi, Zisserman 2014; Captum's Saliency).
- gradient_x_input: x * d score / d x (Shrikumar et al. 2016; Captum's InputXGradient).
- smoothgrad: the mean of |gradient| over noisy copies x + N(0, sigma^2), sigma a
  fraction of the input's range (Smilkov et al. 2017; Captum's NoiseTunnel(Saliency)).
- integrated_gradients: (x - x') * the path integral of the gradient from the baseline
  x' (black) to x, by Gauss-Legendre quadrature (Sundararajan et al. 2017; Captum's
  IntegratedGradients and its default method). Its sum equals score(x) - score(x') up to
  the quadrature's error, which is reported.
- gradcam: ReLU(sum_k mean(d score / d A_k) * A_k) over a conv layer's channels A_k
  (Selvaraju et al. 2017; Captum's LayerGradCam with relu_attributions=True), upsampled
  bilinearly to the input's size.
- occlusion: the probability's mean drop over the patches (of the background value)
  that cover each pixel (Zeiler & Fergus 2014; Captum's Occlusion).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ...core import spec as s
from ...core.errors import ConvscopeError
from ..heads import head_probabilities
from ..nn.model import KerasModel
from ..splits import divides_by_255, pixels
from ..train import EVAL_BATCH, eval_batch

METHODS = (
    "saliency",
    "gradient_x_input",
    "smoothgrad",
    "integrated_gradients",
    "gradcam",
    "occlusion",
)


@dataclass(frozen=True)
class Settings:
    """Each method's knobs, with the defaults the papers and Captum use."""

    steps: int = 50  # integrated gradients: quadrature points (Captum's default)
    samples: int = 50  # smoothgrad: noisy copies (Smilkov et al. use 50)
    noise: float = 0.15  # smoothgrad: sigma as a fraction of the input's range (10-20%)
    seed: int = 0  # smoothgrad's noise
    layer: str | None = None  # gradcam: a conv layer's name (default: the last one)
    patch: int = 4  # occlusion: the patch's side in pixels
    stride: int = 2  # occlusion: its step
    batch: int = 256  # images per forward pass


DEFAULTS = Settings()


@dataclass(frozen=True)
class Maps:
    """(N, H, W) maps of one method, the class each follows, and how exact it is."""

    method: str
    maps: np.ndarray  # (N, H, W) float32
    targets: np.ndarray  # (N,) int
    # integrated gradients: the mean of |sum of the map - (f(x) - f(x'))| / |f(x) - f(x')|
    completeness: float | None = None
    layer: str | None = None  # gradcam's layer


Score = Callable[[Tensor], Tensor]  # (B, ...) model input -> (B, classes) logits


def scores(model: KerasModel) -> Score:
    return model.logits_nchw


def class_score(score: Score, x: Tensor, targets: Tensor) -> Tensor:
    """The sum over the batch of each image's target score: its gradient is per image."""
    out = score(x).float()  # (B, classes)
    return out.gather(1, targets[:, None]).sum()


def gradient(score: Score, x: Tensor, targets: Tensor) -> Tensor:
    """d score_target / d x for each image, the shape of x."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(class_score(score, x, targets), x)
    return grad


def saliency(score: Score, x: Tensor, targets: Tensor) -> Tensor:
    return gradient(score, x, targets).abs()


def gradient_x_input(score: Score, x: Tensor, targets: Tensor) -> Tensor:
    return x * gradient(score, x, targets)


def input_range(spec: s.ModelSpec, scale: bool = True) -> float:
    """1 for inputs scaled to 0..1; 255 where the model's own Rescaling takes raw pixels
    (and for the user's own photos and arrays, which go in as they are)."""
    return 1.0 if divides_by_255(spec, scale) else 255.0


def per_pixel_map(method: str, found: Tensor, height: int, width: int) -> Tensor:
    """(B, C, H, W) or (B, H*W) attributions -> (B, H, W), the channels combined."""
    found = found.reshape(len(found), -1, height, width)  # (B, C, H, W)
    if method in ("saliency", "smoothgrad"):
        return found.abs().amax(1)
    return found.sum(1)


def smoothgrad(
    score: Score, x: Tensor, targets: Tensor, settings: Settings, sigma: float
) -> Tensor:
    generator = torch.Generator(device="cpu").manual_seed(settings.seed)
    spread = torch.full(x.shape, sigma)  # drawn on the CPU, so a seed repeats on any device
    total = torch.zeros_like(x)
    for _ in range(settings.samples):
        noise = torch.normal(0.0, spread, generator=generator).to(x.device, x.dtype)
        total += gradient(score, x + noise, targets).abs()
    return total / settings.samples


def legendre(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre points and weights on [0, 1] (numpy's leggauss is on [-1, 1])."""
    points, weights = np.polynomial.legendre.leggauss(steps)
    return (points + 1) / 2, weights / 2


def integrated_gradients(
    score: Score, x: Tensor, targets: Tensor, settings: Settings
) -> tuple[Tensor, Tensor]:
    """The attribution from a black baseline, and each image's completeness error."""
    baseline = torch.zeros_like(x)
    alphas, weights = legendre(settings.steps)
    total = torch.zeros_like(x)
    for alpha, weight in zip(alphas, weights, strict=True):
        point = baseline + float(alpha) * (x - baseline)
        total += float(weight) * gradient(score, point, targets)
    attribution = (x - baseline) * total
    with torch.no_grad():
        gap = (score(x) - score(baseline)).float().gather(1, targets[:, None])[:, 0]  # (B,)
    summed = attribution.flatten(1).sum(1)
    error = (summed - gap).abs() / gap.abs().clamp_min(1e-12)
    return attribution, error


def conv_layer(model: KerasModel, name: str | None) -> int:
    """The index of the named conv layer, or of the last one; a clear error otherwise."""
    rows = list(enumerate(model.spec.layers))[:-1]  # the last layer's output is the score
    convs = [i for i, layer in rows if layer.kind == s.LayerKind.CONV]
    if name is None:
        if not convs:
            raise ConvscopeError("gradcam needs a conv layer, and this model has none")
        return convs[-1]
    for i, layer in rows:
        if layer.name == name:
            if i not in convs:
                raise ConvscopeError(
                    f"--layer {name} is a {layer.keras_class}; gradcam reads a conv layer's "
                    f"channels: one of {', '.join(model.spec.layers[c].name for c in convs)}"
                )
            return i
    raise ConvscopeError(
        f"no layer named {name!r}; the conv layers are "
        f"{', '.join(model.spec.layers[c].name for c in convs) or 'none'}"
    )


def gradcam(
    model: KerasModel, x: Tensor, targets: Tensor, index: int, size: tuple[int, int]
) -> Tensor:
    """ReLU of the gradient-weighted sum of a layer's channels, upsampled to the image."""
    kept: list[Tensor] = []
    logits = model.logits_nchw(x, keep=kept).float()
    activation = kept[index]  # (B, K, h, w)
    score = logits.gather(1, targets[:, None]).sum()
    (grads,) = torch.autograd.grad(score, activation)
    weights = grads.mean(dim=(2, 3), keepdim=True)  # (B, K, 1, 1): alpha_k
    cam = F.relu((weights * activation).sum(1, keepdim=True))  # (B, 1, h, w)
    return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)


@torch.no_grad()
def occluded(
    model: KerasModel, image: np.ndarray, patch: int, stride: int, fill: int, scale: bool = True
) -> tuple[list[int], list[int], np.ndarray]:
    """The patch rows and columns, and the probabilities (P+1, classes) of the whole image
    (first) and of it with a patch of `fill` at each position, rows x cols in order: one
    batch per image."""
    height, width = image.shape[:2]
    rows, cols = patch_starts(height, patch, stride), patch_starts(width, patch, stride)
    covered = np.repeat(image[None], len(rows) * len(cols) + 1, 0)  # (P+1, H, W[, C])
    for k, (r, c) in enumerate((r, c) for r in rows for c in cols):
        covered[k + 1, r : r + patch, c : c + patch] = fill  # image 0 stays whole
    device = next(model.parameters()).device
    x = pixels(covered, model.spec, device, scale)  # (P+1, C, H, W)
    scores = model.logits_nchw(x).float()
    probabilities = head_probabilities(model, scores).cpu().numpy()  # (P+1, K)
    return rows, cols, probabilities


def occlusion(
    model: KerasModel,
    images: np.ndarray,
    targets: np.ndarray,
    settings: Settings,
    scale: bool = True,
) -> np.ndarray:
    """(N, H, W): for each pixel, the target probability's mean drop over the patches of
    background (0) that cover it."""
    maps = np.zeros(images.shape[:3], np.float32)
    for i, image in enumerate(images):
        rows, cols, probabilities = occluded(
            model, image, settings.patch, settings.stride, 0, scale
        )
        p = probabilities[:, int(targets[i])]  # (P+1,)
        maps[i] = per_pixel(p[0] - p[1:], rows, cols, settings.patch, image.shape[:2])
    return maps


def per_pixel(
    drops: np.ndarray, rows: list[int], cols: list[int], patch: int, shape: tuple[int, int]
) -> np.ndarray:
    """(H, W): each pixel's mean of the drops (one per patch position, rows x cols in
    order) of the patches that cover it: Captum's Occlusion's attribution."""
    total, count = np.zeros(shape), np.zeros(shape)
    for k, (r, c) in enumerate((r, c) for r in rows for c in cols):
        total[r : r + patch, c : c + patch] += drops[k]
        count[r : r + patch, c : c + patch] += 1
    return total / np.maximum(count, 1)


def patch_starts(size: int, patch: int, stride: int) -> list[int]:
    """Top (or left) edges of the patch: every stride, and flush with the far edge too."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ConvscopeError(
            f"unknown attribution method {method!r}; the methods: {', '.join(METHODS)}"
        )
    return method


@torch.no_grad()
def predicted(model: KerasModel, x: Tensor) -> Tensor:
    return model.logits_nchw(x).argmax(-1)


def attribute(
    model: KerasModel,
    images: np.ndarray,
    method: str,
    target: int | np.ndarray | None = None,
    settings: Settings = DEFAULTS,
    scale: bool = True,
) -> Maps:
    """(N, H, W) maps for (N, H, W[, C]) images as their data set stores them, each for
    `target` (one class, or one per image) or else for its predicted class."""
    check_method(method)
    model.eval()
    n, height, width = images.shape[:3]
    classes = model.shapes[-1][-1]
    wanted = None if target is None else per_image(target, n, classes)
    index = conv_layer(model, settings.layer) if method == "gradcam" else None
    device = next(model.parameters()).device
    maps, targets, errors = [], [], []
    step = settings.batch if eval_batch(model) >= EVAL_BATCH else max(1, eval_batch(model) // 4)
    for start in range(0, n, step):  # photos: fewer at a time, their gradients kept too
        batch = images[start : start + step]
        x = pixels(batch, model.spec, device, scale)  # (B, C, H, W) or (B, H*W)
        chosen = (
            predicted(model, x)
            if wanted is None
            else torch.as_tensor(wanted[start : start + step], device=device)
        )
        targets.append(chosen.cpu().numpy())
        if method == "occlusion":
            maps.append(occlusion(model, batch, chosen.cpu().numpy(), settings, scale))
            continue
        with torch.enable_grad():
            found = one_batch(model, x, chosen, method, settings, index, (height, width), scale)
        if isinstance(found, tuple):
            found, error = found
            errors.append(error.detach().cpu().numpy())
        found = per_pixel_map(method, found.detach().float(), height, width)  # (B, H, W)
        maps.append(found.cpu().numpy())
    return Maps(
        method,
        np.concatenate(maps),
        np.concatenate(targets),
        float(np.concatenate(errors).mean()) if errors else None,
        model.spec.layers[index].name if index is not None else None,
    )


def per_image(target: int | np.ndarray, n: int, classes: int) -> np.ndarray:
    """(N,) int64 classes from one class or one per image, each checked."""
    if isinstance(target, np.ndarray):
        found = target
        if found.shape != (n,) or found.dtype.kind not in "iu":
            raise ConvscopeError(f"targets must be {n} integer classes, got {found.shape}")
    elif isinstance(target, bool) or not isinstance(target, int):
        raise ConvscopeError(f"--target must be a class from 0 to {classes - 1}, got {target!r}")
    else:
        found = np.full(n, target)
    bad = found[(found < 0) | (found >= classes)]
    if len(bad):
        raise ConvscopeError(f"--target must be a class from 0 to {classes - 1}, got {bad[0]}")
    return found.astype(np.int64)


def one_batch(
    model: KerasModel,
    x: Tensor,
    targets: Tensor,
    method: str,
    settings: Settings,
    index: int | None,
    size: tuple[int, int],
    scale: bool = True,
) -> Tensor | tuple[Tensor, Tensor]:
    score = scores(model)
    if method == "saliency":
        return saliency(score, x, targets)
    if method == "gradient_x_input":
        return gradient_x_input(score, x, targets)
    if method == "smoothgrad":
        sigma = settings.noise * input_range(model.spec, scale)
        return smoothgrad(score, x, targets, settings, sigma)
    if method == "integrated_gradients":
        return integrated_gradients(score, x, targets, settings)
    assert index is not None
    return gradcam(model, x, targets, index, size)


@dataclass(frozen=True)
class Attribution:
    """Which maps a view holds: the methods, the class they follow, Grad-CAM's layer."""

    methods: tuple[str, ...] = METHODS
    target: int | None = None  # None: the predicted class
    layer: str | None = None


def attribution_maps(
    model: KerasModel,
    image: np.ndarray,
    asked: Attribution,
    notes: list[str],
    scale: bool = True,
) -> tuple[dict[str, np.ndarray], int | None]:
    """One image's map by each method asked for; a method the model cannot take (Grad-CAM
    without a conv layer) is left out with a note, unless it was the only one asked."""
    maps: dict[str, np.ndarray] = {}
    target = None
    for method in asked.methods:
        settings = Settings(layer=asked.layer)
        try:
            found = attribute(model, image[None], method, asked.target, settings, scale)
        except ConvscopeError as error:
            if len(asked.methods) == 1 or method != "gradcam" or asked.layer is not None:
                raise
            notes.append(f"No {method} map: {error.message}.")
            continue
        maps[method], target = found.maps[0], int(found.targets[0])
    return maps, target
