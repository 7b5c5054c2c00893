// convscope's forward pass in plain JavaScript, for the shared page (export --format site).
//
// Keras's arithmetic, layer by layer, in Keras's layout: a tensor is a Float32Array of
// (height, width, channels) or (features,) values, row-major, and every kernel is in
// Keras's layout (Conv2D (kh, kw, in, out), Dense (in, out)). 'same' padding is
// TensorFlow's split (the odd pixel after), pooling averages over real pixels only, and a
// graph runs node by node (node 0 the input, node j + 1 layer j's output). The model is
// the JSON convscope writes (runtime/site.py): each layer's type, its arguments, the
// nodes it reads, its input and output shapes, its pads, and its arrays.
// Tested layer by layer against torch in Chromium (tests/present/test_site.py).

const SELU_ALPHA = 1.6732632423543772, SELU_SCALE = 1.0507009873554805;
const GELU_C = Math.sqrt(2 / Math.PI);
const softplus = (x) => (x > 20 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x) => 1 / (1 + Math.exp(-x));

export const ACTIVATIONS = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  sigmoid,
  tanh: Math.tanh,
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  gelu: (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x))), // Keras 3's approximate
  softplus,
  softsign: (x) => x / (1 + Math.abs(x)),
  swish: (x) => x * sigmoid(x),
  silu: (x) => x * sigmoid(x),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  leaky_relu: (x) => (x > 0 ? x : 0.2 * x),
  hard_sigmoid: (x) => Math.min(Math.max(x / 6 + 0.5, 0), 1),
  exponential: Math.exp,
  mish: (x) => x * Math.tanh(softplus(x)),
};

const size = (shape) => shape.reduce((a, b) => a * b, 1);

function activate(values, name, channels) {
  if (name === "softmax") return softmax(values, channels);
  const f = ACTIVATIONS[name];
  if (!f) throw new Error(`no activation ${name} in the browser`);
  for (let i = 0; i < values.length; i++) values[i] = f(values[i]);
  return values;
}

function softmax(values, channels) { // over the last axis, at every position
  for (let p = 0; p < values.length; p += channels) {
    let top = -Infinity, total = 0;
    for (let c = 0; c < channels; c++) top = Math.max(top, values[p + c]);
    for (let c = 0; c < channels; c++) total += (values[p + c] = Math.exp(values[p + c] - top));
    for (let c = 0; c < channels; c++) values[p + c] /= total;
  }
  return values;
}

// ---- sliding windows: out[oy, ox] reads in[oy * stride - pad + i * dilation] ----

function conv2d(x, [h, w, cin], layer, [kernel, bias]) {
  const [oh, ow, filters] = layer.out, [kh, kw] = layer.kernel_size;
  const [sh, sw] = layer.strides, [dh, dw] = layer.dilation_rate, [pt, pl] = layer.pad;
  const groups = layer.groups || 1, cg = cin / groups, fg = filters / groups;
  const out = new Float32Array(oh * ow * filters);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const o = (oy * ow + ox) * filters;
    for (let f = 0; f < filters; f++) out[o + f] = bias ? bias[f] : 0;
    for (let i = 0; i < kh; i++) {
      const iy = oy * sh - pt + i * dh;
      if (iy < 0 || iy >= h) continue;
      for (let j = 0; j < kw; j++) {
        const ix = ox * sw - pl + j * dw;
        if (ix < 0 || ix >= w) continue;
        const at = (iy * w + ix) * cin, k = (i * kw + j) * cg * filters;
        for (let f = 0; f < filters; f++) {
          const c0 = Math.floor(f / fg) * cg;
          let sum = 0;
          for (let c = 0; c < cg; c++) sum += x[at + c0 + c] * kernel[k + c * filters + f];
          out[o + f] += sum;
        }
      }
    }
  }
  return activate(out, layer.activation, filters);
}

function depthwise(x, [h, w, cin], layer, kernel, bias, activation) { // kernel (kh, kw, cin, dm)
  const [kh, kw] = layer.kernel_size, [sh, sw] = layer.strides, [dh, dw] = layer.dilation_rate;
  const [pt, pl] = layer.pad, dm = layer.depth_multiplier, [oh, ow] = layer.out;
  const cout = cin * dm, out = new Float32Array(oh * ow * cout);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const o = (oy * ow + ox) * cout;
    for (let c = 0; c < cout; c++) out[o + c] = bias ? bias[c] : 0;
    for (let i = 0; i < kh; i++) {
      const iy = oy * sh - pt + i * dh;
      if (iy < 0 || iy >= h) continue;
      for (let j = 0; j < kw; j++) {
        const ix = ox * sw - pl + j * dw;
        if (ix < 0 || ix >= w) continue;
        const at = (iy * w + ix) * cin, k = (i * kw + j) * cin * dm;
        for (let c = 0; c < cin; c++) for (let m = 0; m < dm; m++) {
          out[o + c * dm + m] += x[at + c] * kernel[k + c * dm + m];
        }
      }
    }
  }
  return activation ? activate(out, activation, cout) : out;
}

function separable(x, shape, layer, [kernel, pointwise, bias]) {
  const [oh, ow, filters] = layer.out, mid = shape[2] * layer.depth_multiplier;
  const deep = depthwise(x, shape, layer, kernel, null, null);
  return conv2d(deep, [oh, ow, mid], { ...layer, kernel_size: [1, 1], strides: [1, 1],
    dilation_rate: [1, 1], pad: [0, 0], groups: 1, out: [oh, ow, filters] }, [pointwise, bias]);
}

function transposed(x, [h, w, cin], layer, [kernel, bias]) { // kernel (kh, kw, filters, in)
  const [oh, ow, filters] = layer.out, [kh, kw] = layer.kernel_size;
  const [sh, sw] = layer.strides, [dh, dw] = layer.dilation_rate, [ct, cl] = layer.crop;
  const out = new Float32Array(oh * ow * filters);
  for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++) {
    const at = (iy * w + ix) * cin;
    for (let i = 0; i < kh; i++) {
      const oy = iy * sh + i * dh - ct; // full output row, minus what Keras's padding cuts
      if (oy < 0 || oy >= oh) continue;
      for (let j = 0; j < kw; j++) {
        const ox = ix * sw + j * dw - cl;
        if (ox < 0 || ox >= ow) continue;
        const o = (oy * ow + ox) * filters, k = (i * kw + j) * filters * cin;
        for (let f = 0; f < filters; f++) {
          let sum = 0;
          for (let c = 0; c < cin; c++) sum += x[at + c] * kernel[k + f * cin + c];
          out[o + f] += sum;
        }
      }
    }
  }
  if (bias) for (let p = 0; p < out.length; p += filters) for (let f = 0; f < filters; f++) out[p + f] += bias[f];
  return activate(out, layer.activation, filters);
}

function pool(x, [h, w, c], layer) { // 'same' reads only real pixels, as TensorFlow pools
  const [oh, ow] = layer.out, [kh, kw] = layer.pool_size, [sh, sw] = layer.strides;
  const [pt, pl] = layer.pad, max = layer.type === "MaxPooling2D";
  const out = new Float32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let k = 0; k < c; k++) {
    let best = -Infinity, total = 0, count = 0;
    for (let i = 0; i < kh; i++) {
      const iy = oy * sh - pt + i;
      if (iy < 0 || iy >= h) continue;
      for (let j = 0; j < kw; j++) {
        const ix = ox * sw - pl + j;
        if (ix < 0 || ix >= w) continue;
        const v = x[(iy * w + ix) * c + k];
        best = Math.max(best, v); total += v; count++;
      }
    }
    out[(oy * ow + ox) * c + k] = max ? best : total / count;
  }
  return out;
}

function globalPool(x, [h, w, c], layer) {
  const out = new Float32Array(c).fill(layer.type === "GlobalMaxPooling2D" ? -Infinity : 0);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) {
    const v = x[p * c + k];
    out[k] = layer.type === "GlobalMaxPooling2D" ? Math.max(out[k], v) : out[k] + v / (h * w);
  }
  return out;
}

function zeroPadding(x, [h, w, c], layer) {
  const [oh, ow] = layer.out, out = new Float32Array(oh * ow * c);
  for (let y = 0; y < h; y++) out.set(x.subarray(y * w * c, (y + 1) * w * c), ((y + layer.top) * ow + layer.left) * c);
  return out;
}

function dense(x, shape, layer, [kernel, bias]) { // on the last axis, at every position
  const fin = shape[shape.length - 1], units = layer.units, positions = x.length / fin;
  const out = new Float32Array(positions * units);
  for (let p = 0; p < positions; p++) {
    for (let u = 0; u < units; u++) out[p * units + u] = bias ? bias[u] : 0;
    for (let i = 0; i < fin; i++) {
      const v = x[p * fin + i];
      if (v === 0) continue;
      const row = i * units;
      for (let u = 0; u < units; u++) out[p * units + u] += v * kernel[row + u];
    }
  }
  return activate(out, layer.activation, units);
}

function batchNorm(x, shape, layer, arrays) { // arrays: [gamma?, beta?, mean, variance]
  const c = shape[shape.length - 1], out = new Float32Array(x.length);
  const [mean, variance] = arrays.slice(-2);
  const gamma = layer.scale ? arrays[0] : null, beta = layer.center ? arrays[layer.scale ? 1 : 0] : null;
  for (let p = 0; p < x.length; p += c) for (let k = 0; k < c; k++) {
    const v = (x[p + k] - mean[k]) / Math.sqrt(variance[k] + layer.epsilon);
    out[p + k] = v * (gamma ? gamma[k] : 1) + (beta ? beta[k] : 0);
  }
  return out;
}

function cubic(t) { // torch's bicubic taps (A = -0.75) at offsets -1, 0, 1, 2
  const A = -0.75, near = (v) => ((A + 2) * v - (A + 3)) * v * v + 1;
  const far = (v) => ((A * v - 5 * A) * v + 8 * A) * v - 4 * A;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

function bicubic(x, [h, w, c], [oh, ow]) {
  const out = new Float32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const fy = (oy + 0.5) * h / oh - 0.5, fx = (ox + 0.5) * w / ow - 0.5;
    const y0 = Math.floor(fy), x0 = Math.floor(fx), wy = cubic(fy - y0), wx = cubic(fx - x0);
    for (let k = 0; k < c; k++) {
      let v = 0;
      for (let a = 0; a < 4; a++) {
        const iy = Math.min(Math.max(y0 - 1 + a, 0), h - 1);
        for (let b = 0; b < 4; b++) {
          const ix = Math.min(Math.max(x0 - 1 + b, 0), w - 1);
          v += wy[a] * wx[b] * x[(iy * w + ix) * c + k];
        }
      }
      out[(oy * ow + ox) * c + k] = v;
    }
  }
  return out;
}

function resample(x, [h, w, c], layer) { // UpSampling2D, Resizing: Keras's torch backend
  const [oh, ow] = layer.out, out = new Float32Array(oh * ow * c);
  const bilinear = layer.interpolation === "bilinear";
  if (layer.interpolation === "bicubic") return bicubic(x, [h, w, c], layer.out);
  if (!bilinear && layer.interpolation !== "nearest") throw new Error(`${layer.interpolation} resizing is not in the browser`);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const o = (oy * ow + ox) * c;
    if (!bilinear) { // nearest-exact: the centre of the output pixel, rounded down
      const iy = Math.min(Math.floor((oy + 0.5) * h / oh), h - 1), ix = Math.min(Math.floor((ox + 0.5) * w / ow), w - 1);
      for (let k = 0; k < c; k++) out[o + k] = x[(iy * w + ix) * c + k];
      continue;
    }
    const fy = Math.max((oy + 0.5) * h / oh - 0.5, 0), fx = Math.max((ox + 0.5) * w / ow - 0.5, 0);
    const y0 = Math.min(Math.floor(fy), h - 1), x0 = Math.min(Math.floor(fx), w - 1);
    const y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1), ty = fy - y0, tx = fx - x0;
    for (let k = 0; k < c; k++) {
      const a = x[(y0 * w + x0) * c + k], b = x[(y0 * w + x1) * c + k];
      const d = x[(y1 * w + x0) * c + k], e = x[(y1 * w + x1) * c + k];
      out[o + k] = (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + e * tx) * ty;
    }
  }
  return out;
}

function centerCrop(x, [h, w, c], layer) {
  const top = (h - layer.height) >> 1, left = (w - layer.width) >> 1;
  const out = new Float32Array(layer.height * layer.width * c);
  for (let y = 0; y < layer.height; y++) {
    const from = ((y + top) * w + left) * c;
    out.set(x.subarray(from, from + layer.width * c), y * layer.width * c);
  }
  return out;
}

function elementwise(xs, shapes, layer) { // an axis of 1 is repeated, as Keras broadcasts
  const out = layer.out, n = size(out), result = new Float32Array(n);
  const index = (shape, flat) => { // the same position in a (possibly broadcast) input
    let at = 0, rest = flat, stride = 1;
    for (let a = out.length - 1; a >= 0; a--) {
      const coord = rest % out[a];
      rest = Math.floor(rest / out[a]);
      at += (shape[a] === 1 ? 0 : coord) * stride;
      stride *= shape[a];
    }
    return at;
  };
  const same = shapes.every((s) => size(s) === n);
  const ops = { Add: (a, b) => a + b, Subtract: (a, b) => a - b, Multiply: (a, b) => a * b,
    Average: (a, b) => a + b, Maximum: Math.max, Minimum: Math.min };
  const op = ops[layer.type];
  for (let i = 0; i < n; i++) {
    let v = xs[0][same ? i : index(shapes[0], i)];
    for (let t = 1; t < xs.length; t++) v = op(v, xs[t][same ? i : index(shapes[t], i)]);
    result[i] = layer.type === "Average" ? v / xs.length : v;
  }
  return result;
}

function concatenate(xs, shapes, layer) {
  const rank = shapes[0].length, axis = (layer.axis < 0 ? layer.axis + rank + 1 : layer.axis) - 1;
  const outer = size(shapes[0].slice(0, axis)), out = new Float32Array(size(layer.out));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (let t = 0; t < xs.length; t++) {
      const chunk = size(shapes[t].slice(axis));
      out.set(xs[t].subarray(p * chunk, (p + 1) * chunk), o);
      o += chunk;
    }
  }
  return out;
}

function prelu(x, shape, layer, [alpha]) { // alpha in Keras's layout, broadcast on shared axes
  const out = new Float32Array(x.length), ashape = layer.alpha_shape;
  const [h, w, c] = shape.length === 3 ? shape : [1, 1, shape[0]];
  for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let k = 0; k < c; k++) {
    const i = (y * w + z) * c + k;
    const a = ashape.length === 3
      ? alpha[((ashape[0] === 1 ? 0 : y) * ashape[1] + (ashape[1] === 1 ? 0 : z)) * ashape[2] + (ashape[2] === 1 ? 0 : k)]
      : alpha[ashape[0] === 1 ? 0 : k];
    out[i] = x[i] > 0 ? x[i] : a * x[i];
  }
  return out;
}

function relu(x, layer) { // Keras's ReLU layer: threshold, slope below it, cap
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] >= layer.threshold ? x[i] : layer.negative_slope * (x[i] - layer.threshold);
    out[i] = layer.max_value === null ? v : Math.min(v, layer.max_value);
  }
  return out;
}

const copy = (x) => Float32Array.from(x);
const mapped = (x, f) => { const out = new Float32Array(x.length); for (let i = 0; i < x.length; i++) out[i] = f(x[i]); return out; };

const LAYERS = {
  Conv2D: conv2d,
  DepthwiseConv2D: (x, s, l, [k, b]) => depthwise(x, s, l, k, l.use_bias ? b : null, l.activation),
  SeparableConv2D: separable,
  Conv2DTranspose: transposed,
  MaxPooling2D: pool,
  AveragePooling2D: pool,
  GlobalAveragePooling2D: globalPool,
  GlobalMaxPooling2D: globalPool,
  ZeroPadding2D: zeroPadding,
  Flatten: copy,
  Reshape: copy,
  Dense: dense,
  Dropout: copy,
  SpatialDropout2D: copy,
  RandomFlip: copy,
  RandomRotation: copy,
  RandomZoom: copy,
  RandomTranslation: copy,
  BatchNormalization: batchNorm,
  Activation: (x, s, l) => activate(copy(x), l.activation, s[s.length - 1]),
  Softmax: (x, s) => softmax(copy(x), s[s.length - 1]),
  ReLU: (x, s, l) => relu(x, l),
  LeakyReLU: (x, s, l) => mapped(x, (v) => (v >= 0 ? v : l.negative_slope * v)),
  ELU: (x, s, l) => mapped(x, (v) => (v > 0 ? v : l.alpha * Math.expm1(v))),
  PReLU: prelu,
  Rescaling: (x, s, l) => mapped(x, (v) => v * l.scale + l.offset),
  UpSampling2D: resample,
  Resizing: resample,
  CenterCrop: centerCrop,
};
const MERGES = { Add: elementwise, Subtract: elementwise, Multiply: elementwise,
  Average: elementwise, Maximum: elementwise, Minimum: elementwise, Concatenate: concatenate };

export function supported(type) {
  return type in LAYERS || type in MERGES;
}

// Every layer's output for one input (Keras's layout, already scaled as the model takes
// it). `arrays[i]` are layer i's weights, Float32Arrays in Keras's layouts.
export function forward(model, arrays, input) {
  const nodes = [input], shapes = [model.input_shape];
  model.layers.forEach((layer, i) => {
    const xs = layer.reads.map((j) => nodes[j]), ins = layer.reads.map((j) => shapes[j]);
    const y = layer.type in MERGES
      ? MERGES[layer.type](xs, ins, layer)
      : LAYERS[layer.type](xs[0], ins[0], layer, arrays[i]);
    nodes.push(y);
    shapes.push(layer.out);
  });
  return nodes.slice(1);
}
