"""The arithmetic of small CNNs: output sizes, parameter counts, receptive fields, costs.

Pure integer functions on one spatial axis at a time. Standard library only, so that
`convscope explain` never loads torch or numpy. Each docstring gives the formula and
where it comes from; `explain.py` applies these per axis and writes the worked form.

Sources:
- Keras 3, keras/src/ops/operation_utils.py (compute_conv_output_shape,
  compute_pooling_output_shape) and the layers' build() methods for parameter shapes.
- TensorFlow's "same" padding (tensorflow/core/framework/kernel_shape_util.cc):
  total padding split with the extra pixel after.
- Araujo, Norris, Sim, "Computing Receptive Fields of Convolutional Neural Networks",
  Distill 2019, for the receptive-field recurrence.
"""

from __future__ import annotations

from typing import Literal

Padding = Literal["valid", "same"]


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: `dilation * (kernel - 1) + 1`.

    A 3-tap kernel dilated by 2 touches pixels 0, 2, 4: it spans 5.
    """
    return dilation * (kernel - 1) + 1


def output_size(
    size: int, kernel: int, stride: int = 1, padding: Padding = "valid", dilation: int = 1
) -> int:
    """Output length of a convolution or pooling window along one axis (Keras 3).

    valid: `floor((size - dilation * (kernel - 1) - 1) / stride) + 1`,
           i.e. `size - kernel + 1` for stride 1 and no dilation;
    same:  `ceil(size / stride)` = `(size - 1) // stride + 1`.

    May be zero or negative for 'valid' when the window does not fit; the caller
    decides how to report that (Keras raises "Computed output size would be zero or
    negative").
    """
    if padding == "same":
        return (size - 1) // stride + 1
    return (size - effective_kernel(kernel, dilation)) // stride + 1


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zero padding (before, after) that TensorFlow and Keras add for padding='same'.

    `total = max((ceil(size / stride) - 1) * stride + effective_kernel - size, 0)`;
    `before = total // 2`, `after = total - before`: the odd pixel goes after (bottom
    or right). PyTorch's own padding='same' rejects stride > 1, so the runtime pads
    explicitly with these numbers.
    """
    out = output_size(size, kernel, stride, "same", dilation)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def rows_read(
    outputs: int, kernel: int, stride: int = 1, dilation: int = 1, pad_before: int = 0
) -> int:
    """How many leading input rows (or columns) the first `outputs` windows read.

    Window i covers padded rows `i * stride` to `i * stride + effective_kernel - 1`, and the
    input starts `pad_before` rows in, so the last window's last row is input row
    `(outputs - 1) * stride - pad_before + effective_kernel - 1`: one past it is

        rows_read = (outputs - 1) * stride + effective_kernel - pad_before

    (`output_size` read backwards). It can pass the input's size, into the padding after.
    A 2x2 max pool over 13 rows reads 12: (6 - 1) * 2 + 2.
    """
    return (outputs - 1) * stride + effective_kernel(kernel, dilation) - pad_before


def transposed_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: Padding = "valid",
    output_padding: int | None = None,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution along one axis (Keras 3).

    With `k` the dilated span (keras/src/backend/common/backend_utils.py,
    _get_output_shape_given_tf_padding):
    valid: `(size - 1) * stride + max(k, stride)`, or `+ k + output_padding` when given;
    same:  `size * stride`, or `(size - 1) * stride + k % 2 + output_padding` when given.
    """
    k = effective_kernel(kernel, dilation)
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return (size - 1) * stride + k + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + k % 2 + output_padding


def transposed_crop(
    kernel: int,
    stride: int = 1,
    padding: Padding = "valid",
    output_padding: int | None = None,
    dilation: int = 1,
) -> int:
    """Values cut from the front of the full transposed convolution to give Keras's output.

    The full result, every position some input value reaches, is `(size - 1) * stride + k`
    long. Keras pads the stride-dilated input by `left = min(p // 2 + p % 2, k - 1)` before
    its correlation, with `p = stride + k - 2` for 'same' (or `k + k % 2 - 2 +
    output_padding`), so its output starts `k - 1 - left` values into the full one; 'valid'
    starts at 0 (the same backend_utils.py, the JAX padding arguments).
    """
    k = effective_kernel(kernel, dilation)
    if padding == "valid":
        return 0
    total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    return k - 1 - min(total // 2 + total % 2, k - 1)


def conv2d_params(
    kernel_h: int,
    kernel_w: int,
    in_channels: int,
    filters: int,
    groups: int = 1,
    use_bias: bool = True,
) -> int:
    """Weights of a Conv2D: `(kernel_h * kernel_w * in_channels / groups + bias) * filters`.

    Keras builds a kernel of shape (kh, kw, in_channels // groups, filters) and a bias
    of shape (filters,). `(3*3*1 + 1) * 32 = 320` for the first conv on MNIST.
    """
    return (kernel_h * kernel_w * (in_channels // groups) + int(use_bias)) * filters


def depthwise_params(
    kernel_h: int, kernel_w: int, in_channels: int, depth_multiplier: int = 1, use_bias: bool = True
) -> int:
    """Weights of a DepthwiseConv2D: `(kernel_h * kernel_w + bias) * in_channels * multiplier`.

    Keras: kernel (kh, kw, in_channels, depth_multiplier), bias (in_channels * multiplier,).
    Each input channel gets its own filters; channels are never mixed.
    """
    return (kernel_h * kernel_w + int(use_bias)) * in_channels * depth_multiplier


def separable_params(
    kernel_h: int,
    kernel_w: int,
    in_channels: int,
    filters: int,
    depth_multiplier: int = 1,
    use_bias: bool = True,
) -> int:
    """Weights of a SeparableConv2D: depthwise, then a 1x1 pointwise conv, then bias.

    `kh*kw*in_channels*multiplier + in_channels*multiplier*filters + filters` (Keras
    builds depthwise_kernel, pointwise_kernel and one bias of size filters).
    """
    depthwise = kernel_h * kernel_w * in_channels * depth_multiplier
    pointwise = in_channels * depth_multiplier * filters
    return depthwise + pointwise + int(use_bias) * filters


def dense_params(in_features: int, units: int, use_bias: bool = True) -> int:
    """Weights of a Dense layer: `(in_features + bias) * units`.

    Dense acts on the last axis only, so in_features is the size of that axis.
    `(9216 + 1) * 128 = 1,179,776` in the Keras mnist_cnn example.
    """
    return (in_features + int(use_bias)) * units


def batchnorm_params(channels: int, center: bool = True, scale: bool = True) -> tuple[int, int]:
    """(trainable, non_trainable) weights of BatchNormalization over `channels`.

    gamma (if scale) and beta (if center) are trained; the moving mean and moving
    variance are updated by averaging, not by gradients, so Keras counts them as
    non-trainable: `4 * C` in all, `2 * C` of them non-trainable.
    """
    return (int(center) + int(scale)) * channels, 2 * channels


def receptive_field_step(
    size: int, jump: int, start: int, kernel: int, stride: int, pad_before: int
) -> tuple[int, int, int]:
    """One layer of the receptive-field recurrence (Araujo et al., Distill 2019).

    With `size` the window one input position of this layer sees on the image, `jump`
    the image distance between neighbouring positions, and `start` the image
    coordinate of the first window's first pixel:

        size_out  = size + (kernel - 1) * jump      (kernel = effective, dilated span)
        jump_out  = jump * stride
        start_out = start - pad_before * jump

    The image itself is size 1, jump 1, start 0.
    """
    return size + (kernel - 1) * jump, jump * stride, start - pad_before * jump


def window_span(start: int, jump: int, size: int, index: int) -> tuple[int, int]:
    """The first and last input pixel (inclusive) that output position `index` sees on one axis.

        first = start + index * jump
        last  = first + size - 1

    With `start`, `jump` and `size` from `receptive_field_step`. Either end can lie outside
    the image (below 0, or past its last pixel) where 'same' padding added zeros.
    """
    first = start + index * jump
    return first, first + size - 1


def conv2d_macs(
    out_h: int, out_w: int, filters: int, kernel_h: int, kernel_w: int, in_per_group: int
) -> int:
    """Multiply-adds of a convolution: `out_h * out_w * filters * kh * kw * in_channels/groups`.

    One multiply-add per kernel weight per output position; bias adds not counted
    (the convention of torchinfo and ptflops).
    """
    return out_h * out_w * filters * kernel_h * kernel_w * in_per_group


def dense_macs(positions: int, in_features: int, units: int) -> int:
    """Multiply-adds of Dense: `positions * in_features * units`.

    positions is 1 after Flatten, or h*w when Dense acts on the last axis of a map.
    """
    return positions * in_features * units


def product(values: tuple[int, ...]) -> int:
    """`a x b x c`: the number of values in a tensor of that shape (1 for a scalar)."""
    result = 1
    for value in values:
        result *= value
    return result


def readable_bytes(count: float) -> str:
    """Bytes as Keras's summary writes them: powers of 1024, two decimals ("4.58 MB").

    Mirrors keras/src/utils/summary_utils.py readable_memory_size.
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count / 1024 < 1:
            return f"{count:.2f} {unit}"
        count /= 1024
    return f"{count:.2f} PB"
