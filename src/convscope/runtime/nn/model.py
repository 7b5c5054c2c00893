"""Compile a ModelSpec into a torch.nn.Module that computes what the Keras model computes.

Tensors inside are (N, C, H, W) as PyTorch's kernels expect (use the channels_last
memory format for speed); the model takes and returns Keras's (N, H, W, C) layout at
its edges through `KerasModel.forward`. Keras semantics kept here:
- 'same' padding as TensorFlow pads it: the odd pixel after (bottom/right), which
  torch's own padding='same' cannot do with stride > 1;
- Flatten in Keras's (H, W, C) order, so a Dense kernel maps one-to-one onto Keras's;
- Dense on the last (channels) axis of a feature map, as Keras applies it;
- glorot_uniform kernels with Keras's fan-in/fan-out, zero biases;
- BatchNormalization with Keras's epsilon and momentum (torch momentum = 1 - Keras's).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...core import graph as g
from ...core import spec as s
from ...core.errors import ConvscopeError
from ...core.explain.rules import explain
from ...core.explain.step import same_pads
from ...core.explain.table import Shape
from . import inference, matmul
from .crop import crop
from .dropout import Dropout
from .fused import stages
from .layers import ConvTranspose, grid_module
from .merge import merge_module
from .ops import SamePad, channel_activation, glorot_uniform_
from .weightless import FlattenHWC, GlobalPool, Lambda, SpatialDropout, relu_layer


class Conv(nn.Module):
    """Conv2D, DepthwiseConv2D or SeparableConv2D with Keras padding and activation."""

    def __init__(self, layer: s.ConvBase, shape: Shape):
        super().__init__()
        cin, k = shape[2], layer.kernel_size
        top, bottom, left, right = same_pads(
            shape, k, layer.strides, layer.padding, layer.dilation_rate
        )
        # An even split is the convolution's own padding (no padded copy of the input, and
        # 3% of a keras-cifar10-cnn step, A/B); TensorFlow's odd pixel after needs SamePad.
        even = top == bottom and left == right
        self.pad = SamePad(0, 0, 0, 0) if even else SamePad(top, bottom, left, right)
        padding = (top, left) if even else (0, 0)
        kernel, stride = k.astuple(), layer.strides.astuple()
        dilation = layer.dilation_rate.astuple()
        self.pointwise: nn.Conv2d | None = None
        self.depthwise = not isinstance(layer, s.Conv2D)  # one kernel per input channel
        if isinstance(layer, s.Conv2D):
            self.conv = nn.Conv2d(cin, layer.filters, kernel, stride, padding, dilation=dilation,
                                  groups=layer.groups, bias=layer.use_bias)  # fmt: skip
            glorot_uniform_(
                self.conv.weight, k.h * k.w * cin // layer.groups, k.h * k.w * layer.filters
            )
        elif isinstance(layer, (s.DepthwiseConv2D, s.SeparableConv2D)):
            dm = layer.depth_multiplier
            depthwise_bias = isinstance(layer, s.DepthwiseConv2D) and layer.use_bias
            self.conv = nn.Conv2d(
                cin, cin * dm, kernel, stride, padding, dilation, cin, depthwise_bias
            )
            # Keras's depthwise kernel is (kh, kw, cin, dm): fan_in kh*kw*cin, fan_out kh*kw*dm.
            glorot_uniform_(self.conv.weight, k.h * k.w * cin, k.h * k.w * dm)
            if isinstance(layer, s.SeparableConv2D):
                self.pointwise = nn.Conv2d(cin * dm, layer.filters, 1, bias=layer.use_bias)
                glorot_uniform_(self.pointwise.weight, cin * dm, layer.filters)
                if self.pointwise.bias is not None:
                    nn.init.zeros_(self.pointwise.bias)
        else:
            raise TypeError(f"not a convolution: {type(layer).__name__}")
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)
        self.activation = channel_activation(layer.activation, 1)
        self.relu = layer.activation == "relu" and self.pointwise is None  # fusable (inference)

    def pre_activation(self, x: Tensor) -> Tensor:
        x = self.conv(self.pad(x))  # (N, C_out, H_out, W_out)
        if self.pointwise is not None:
            x = self.pointwise(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        if self.relu and inference.can_fuse(x, self.conv.weight):
            return inference.conv_relu(self.conv, self.pad(x))
        return self.activation(self.pre_activation(x))

    def with_relu(self, x: Tensor) -> Tensor:
        """relu(pre_activation(x)) whatever the layer's own activation, written over the
        convolution's output (its backward pass keeps its input), fused when inferring."""
        if self.pointwise is None and inference.can_fuse(x, self.conv.weight):
            return inference.conv_relu(self.conv, self.pad(x))
        return F.relu(self.pre_activation(x), inplace=True)


class Pool(nn.Module):
    """Max or average pooling; 'same' pads as TensorFlow, averaging over real pixels only."""

    def __init__(self, layer: s.Pooling2D, shape: Shape) -> None:
        super().__init__()
        self.op = layer.op
        self.kernel, self.stride = layer.pool_size.astuple(), layer.strides.astuple()
        pads = same_pads(shape, layer.pool_size, layer.strides, layer.padding)
        self.pad = SamePad(*pads, value=-math.inf if self.op == "max" else 0.0)
        divisor = None
        if self.op == "average" and any(pads):
            # How many real (unpadded) pixels each window holds: TF's divisor.
            ones = torch.ones(1, 1, shape[0], shape[1])
            divisor = F.avg_pool2d(
                SamePad(*pads)(ones), self.kernel, self.stride, divisor_override=1
            )
        self.divisor: Tensor | None
        self.register_buffer("divisor", divisor, persistent=False)
        self.pairs = self.op == "max" and self.kernel == self.stride == (2, 2) and not any(pads)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pad(x)
        if self.pairs and inference.inferring():  # no indices kept
            return inference.max_pool_2x2(x)
        if self.op == "max":
            return F.max_pool2d(x, self.kernel, self.stride)
        if self.divisor is None:
            return F.avg_pool2d(x, self.kernel, self.stride)
        return F.avg_pool2d(x, self.kernel, self.stride, divisor_override=1) / self.divisor


class Dense(nn.Module):
    """Keras's Dense: a matrix on the last (channel) axis, also on feature maps."""

    def __init__(self, layer: s.Dense, shape: Shape) -> None:
        super().__init__()
        self.linear = nn.Linear(shape[-1], layer.units, bias=layer.use_bias)
        glorot_uniform_(self.linear.weight, shape[-1], layer.units)
        if self.linear.bias is not None:
            nn.init.zeros_(self.linear.bias)
        # (out, in) as torch names it, laid out (in, out) as Keras's kernel: the kernel's
        # gradient is then x^T g, one product MKL runs well (two trainers alternating every
        # 60 steps: 3.8% of a keras-cifar10-cnn step, 1.7% of chollet's), not g^T x.
        kernel = self.linear.weight.detach().t().contiguous()  # (in, out)
        self.linear.weight = nn.Parameter(kernel.t())  # (out, in), strides (1, out)
        self.spatial = len(shape) == 3
        self.activation = channel_activation(layer.activation, 1 if self.spatial else -1)

    def pre_activation(self, x: Tensor) -> Tensor:
        if self.spatial:  # (N, C, H, W) -> channels last for the matrix, and back
            y: Tensor = self.linear(x.permute(0, 2, 3, 1))  # (N, H, W, units)
            return y.permute(0, 3, 1, 2)
        return matmul.linear(x, self.linear.weight, self.linear.bias)  # (N, units)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))

    def with_relu(self, x: Tensor) -> Tensor:
        """relu(pre_activation(x)) whatever the layer's own activation, written over the
        product (its backward pass keeps its input), fused when inferring."""
        if self.spatial:
            return F.relu(self.pre_activation(x), inplace=True)
        return matmul.linear_relu(x, self.linear.weight, self.linear.bias)  # (N, units)


class BatchNorm(nn.Module):
    """Keras's BatchNormalization on the channel axis (dim 1 in (N, C, H, W) and (N, F)).

    gamma exists only with scale=True and beta only with center=True, as in Keras, so the
    parameter count matches. Moving statistics are buffers: Keras's non-trainable weights.
    """

    def __init__(self, layer: s.BatchNormalization, shape: Shape) -> None:
        super().__init__()
        channels = shape[-1]
        self.eps, self.momentum = layer.epsilon, 1 - layer.momentum
        self.gamma = nn.Parameter(torch.ones(channels)) if layer.scale else None
        self.beta = nn.Parameter(torch.zeros(channels)) if layer.center else None
        self.running_mean: Tensor
        self.running_var: Tensor
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.gamma,
            self.beta,
            self.training,
            self.momentum,
            self.eps,
        )


def build_layer(layer: s.Layer, shape: Shape) -> nn.Module:
    """The torch module for one layer, given its input shape (H, W, C) or (F,)."""
    module = grid_module(layer, shape)
    if module is not None:
        return module
    match layer:
        case s.ConvBase():
            return Conv(layer, shape)
        case s.Pooling2D():
            return Pool(layer, shape)
        case s.GlobalPooling2D():
            return GlobalPool(layer)
        case s.ZeroPadding2D():
            return SamePad(layer.top, layer.bottom, layer.left, layer.right)
        case s.Flatten():
            return FlattenHWC()
        case s.Dense():
            return Dense(layer, shape)
        case s.Dropout():
            return Dropout(layer.rate)
        case s.SpatialDropout2D():
            return SpatialDropout(layer.rate)
        case s.BatchNormalization():
            return BatchNorm(layer, shape)
        case s.Activation():
            return Lambda(channel_activation(layer.activation, 1))
        case s.Softmax():
            return Lambda(lambda x: torch.softmax(x, dim=1))
        case s.ReLU():
            return Lambda(relu_layer(layer))
        case s.LeakyReLU():
            slope = layer.negative_slope
            return Lambda(lambda x: F.leaky_relu(x, slope))
        case s.ELU():
            alpha = layer.alpha
            return Lambda(lambda x: F.elu(x, alpha))
        case s.Rescaling():
            scale, offset = layer.scale, layer.offset
            return Lambda(lambda x: x * scale + offset)
    raise TypeError(f"no torch module for {type(layer).__name__}")


class KerasModel(nn.Module):
    """A Keras model in torch: takes (N, H, W, C) like Keras, returns Keras's output.

    `layers[i]` runs spec layer i on (N, C, H, W) tensors; in a graph it reads the nodes
    `reads[i]` (node 0 the input, node j + 1 layer j's output; core.graph), and a merge
    layer takes their list. `shapes[j]` is node j's shape. `forward_nchw` skips the
    layout change at the input, for training loops that keep data as (N, C, H, W).
    """

    def __init__(self, model: s.ModelSpec) -> None:
        super().__init__()
        if len(model.input_shape) not in (1, 3):
            raise ConvscopeError(
                f"the PyTorch runtime takes inputs of shape (height, width, channels) or "
                f"(features,), got {model.input_shape}",
                where=model.source,
            )
        self.spec = model
        rows = explain(model).rows
        self.shapes: list[Shape] = [model.input_shape, *(row.output_shape for row in rows)]
        self.reads = [g.sources(model, i) for i in range(len(model.layers))]
        self.last_reads = g.last_reads(model)
        self.merging = [layer.kind == s.LayerKind.MERGE for layer in model.layers]
        modules = []
        for layer, row in zip(model.layers, rows, strict=True):
            if isinstance(layer, (g.Merge, g.Concatenate)):
                modules.append(merge_module(layer, len(row.input_shape)))
            else:
                modules.append(build_layer(layer, row.input_shape))
            if not layer.trainable:
                modules[-1].requires_grad_(False)
        self.layers = nn.ModuleList(modules)
        self.softmax_output = ends_in_softmax(model)
        self.sigmoid_output = self.shapes[-1] == (1,) and ends_in_sigmoid(model)
        # the loss's path, fused (a chain's ReLU + max pool pairs); a graph runs node by node
        # and each convolution computing only the pixels read after it (crop.py)
        chain = model.layers[:-1]
        self.body = (
            None if g.is_graph(model) else stages(chain, crop(chain, modules[:-1], self.shapes))
        )

    def run(self, x: Tensor, count: int, keep: list[Tensor] | None = None) -> list[Tensor | None]:
        """The nodes after the first `count` layers; a node is dropped once its last reader
        has run (a graph holds only the tensors still to be read). `keep` gets every output."""
        nodes: list[Tensor | None] = [x]
        for i in range(count):
            ins = [nodes[j] for j in self.reads[i]]
            y = self.layers[i](ins if self.merging[i] else ins[0])
            nodes.append(y)
            if keep is not None:
                keep.append(y)
            for j in self.reads[i]:
                if self.last_reads[j] == i:
                    nodes[j] = None
        return nodes

    def logits_nchw(self, x: Tensor, keep: list[Tensor] | None = None) -> Tensor:
        """The output before a final softmax or single sigmoid (its logits), else the
        output itself.

        Training takes the loss from these, as log_softmax is stable where log(softmax)
        underflows; tf.keras does the same by reading the softmax's input. `keep`, when
        given, receives every layer's output but the last (Grad-CAM reads one of them).
        """
        last = self.layers[-1]
        fused = self.training or (inference.inferring() and not inference.hooked(self.layers))
        if keep is None and fused and self.body is not None:
            for stage in self.body:  # no layer's forward hook sees it
                x = stage(x)
            ins = [x]
        else:
            nodes = self.run(x, len(self.layers) - 1, keep)
            ins = [nodes[j] for j in self.reads[-1]]  # type: ignore[misc]
        if self.merging[-1] or not (self.softmax_output or self.sigmoid_output):
            return to_keras_layout(last(ins if self.merging[-1] else ins[0]))
        if isinstance(last, (Conv, ConvTranspose, Dense)):
            return to_keras_layout(last.pre_activation(ins[0]))
        return to_keras_layout(ins[0])  # a Softmax or Activation('softmax' | 'sigmoid'): its input

    def forward_nchw(self, x: Tensor) -> Tensor:
        output = self.run(x, len(self.layers))[-1]
        assert output is not None
        return to_keras_layout(output)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_nchw(to_torch_layout(x))

    def activations(self, x: Tensor) -> list[Tensor]:
        """Every layer's output for a (N, H, W, C) batch, each in Keras's layout."""
        outputs: list[Tensor] = []
        self.run(to_torch_layout(x), len(self.layers), outputs)
        return [to_keras_layout(y) for y in outputs]


def ends_in_softmax(model: s.ModelSpec) -> bool:
    last = model.layers[-1] if model.layers else None
    return isinstance(last, s.Softmax) or getattr(last, "activation", None) == "softmax"


def ends_in_sigmoid(model: s.ModelSpec) -> bool:
    last = model.layers[-1] if model.layers else None
    return getattr(last, "activation", None) == "sigmoid"


def to_torch_layout(x: Tensor) -> Tensor:
    """(N, H, W, C) -> (N, C, H, W); other ranks unchanged."""
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


def to_keras_layout(x: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, H, W, C); other ranks unchanged."""
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def count_params(model: nn.Module) -> tuple[int, int]:
    """(trainable, non_trainable) as Keras counts them: BN's moving statistics are weights.

    Works on the whole model or on one of its layers.
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    moving = sum(
        b.numel()
        for name, b in model.named_buffers()
        if name.endswith(("running_mean", "running_var"))
    )
    return trainable, frozen + moving
