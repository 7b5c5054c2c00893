// The shared page's transport (export --format site): every request the live page makes
// (model, test, predict, position, channel, attribution) answered in the browser from the
// bundle convscope wrote (data.js, window.CONVSCOPE_SITE) and the forward pass in
// forward.js. No server, no network: it works from file:// and any static host.
// Bundled in one module script with forward.js (as FORWARD) and app.js (decode, mount).

const f32 = (b64) => new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
const u8 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const g4 = (v) => Number(v).toPrecision(4).replace(/\.?0+$/, "").replace(/\.?0+e/, "e");

export function localTransport(site) {
  const model = site.model, layers = model.layers;
  const arrays = site.arrays.map((layer) => layer.map((a) => (a.dtype === "f2" ? decode(a.data) : f32(a.data))));
  const shape = model.input_shape, grey28 = shape.join() === "28,28,1" || shape.join() === "784";
  const samples = site.samples.map((s) => ({ ...s, pixels: u8(s.pixels) }));
  const bundled = new Map(site.samples.map((s, i) => [s.pixels, i])); // MNIST's page sends pixels back
  let last = { pixels: null, outputs: null }; // the last input's every output (position reads it)

  function outputs(pixels) { // uint8 pixels (H * W * C, the data set's scale) -> every layer
    if (last.pixels !== pixels) {
      const input = Float32Array.from(pixels, (v) => (site.scale ? v / 255 : v));
      last = { pixels, input, outputs: FORWARD.forward(model, arrays, input) };
    }
    return last;
  }

  function probabilities(out) {
    const p = Array.from(out);
    return site.sigmoid ? [1 - p[0], p[0]] : p;
  }

  function answer(pixels, extra) { // the JSON runtime/live.py's Forward.as_dict gives
    const { input, outputs: outs } = outputs(pixels);
    const probs = probabilities(outs[outs.length - 1]);
    const top = (v) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const found = {
      predicted: probs.indexOf(Math.max(...probs)),
      probabilities: probs,
      layers: [{ name: "input", type: "Input", shape, max: top(input), values: input },
        ...layers.map((l, i) => ({ name: l.name, type: l.type, shape: l.out, max: top(outs[i]), values: outs[i] }))],
      ...extra,
    };
    if (grey28) found.pixels = Array.from({ length: 28 }, (_, r) => Array.from(pixels.subarray(28 * r, 28 * r + 28)));
    else {
      const [h, w, c] = shape, rgb = new Uint8Array(h * w * 3);
      for (let i = 0; i < h * w; i++) for (let k = 0; k < 3; k++) rgb[3 * i + k] = pixels[i * c + (c === 1 ? 0 : k)];
      let text = "";
      for (let i = 0; i < rgb.length; i += 8192) text += String.fromCharCode.apply(null, rgb.subarray(i, i + 8192));
      found.image = btoa(text);
      found.shape = [h, w, 3];
    }
    return found;
  }

  function sample(index) {
    const i = index ?? Math.floor(Math.random() * samples.length);
    if (!Number.isInteger(i) || i < 0 || i >= samples.length) throw new Error(`index must be a bundled test image from 0 to ${samples.length - 1}`);
    return [i, samples[i]];
  }

  async function pixelsOf(body) { // the request's input, and how it was made
    if (body.index !== undefined) {
      const [i, s] = sample(body.index);
      return [s.pixels, [`test image ${s.test_index} (bundled image ${i})`], i];
    }
    if (body.pixels) {
      const flat = Uint8Array.from(body.pixels.flat()), i = bundled.get(btoa(String.fromCharCode(...flat)));
      return [flat, i === undefined ? ["used as given: 28x28, 0-255"] : [`bundled image ${i}`], i ?? null];
    }
    if (body.image) return [await prepare(body.image, shape), [`resized to ${shape[0]}x${shape[1]} in the browser` + (grey28 ? ", grey, dark background, the digit centred in its 20x20 box" : "")], null];
    throw new Error('the request needs "image", "index" or "pixels"');
  }

  function position(pixels, body) { // one value's arithmetic, as runtime/live.py's position
    const i = layers.findIndex((l) => l.name === body.layer);
    if (i < 0) throw new Error(`no layer ${body.layer}`);
    const layer = layers[i], { input, outputs: outs } = outputs(pixels);
    const before = layer.reads[0] === 0 ? input : outs[layer.reads[0] - 1];
    const inShape = layer.reads[0] === 0 ? shape : layers[layer.reads[0] - 1].out;
    const after = outs[i], out = layer.out, { row, col, channel: k } = body;
    const value = out.length === 3 ? after[(row * out[1] + col) * out[2] + k] : after[k];
    const found = { layer: layer.name, row, col, channel: k, value };
    const act = layer.activation;
    if (layer.type === "Conv2D" && (layer.groups || 1) === 1) {
      const [kh, kw] = layer.kernel_size, [sh, sw] = layer.strides, [dh, dw] = layer.dilation_rate;
      const [h, w, cin] = inShape, [kernel, bias] = arrays[i], F = out[2];
      const top = row * sh - layer.pad[0], left = col * sw - layer.pad[1];
      let sum = 0;
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
        const y = top + a * dh, x = left + b * dw;
        if (y < 0 || y >= h || x < 0 || x >= w) continue;
        for (let c = 0; c < cin; c++) sum += before[(y * w + x) * cin + c] * kernel[((a * kw + b) * cin + c) * F + k];
      }
      const b = bias ? bias[k] : 0, terms = kh * kw * cin;
      return { ...found, window: [top, left, top + (kh - 1) * dh, left + (kw - 1) * dw], bias: b, sum, terms,
        formula: `${act}(b + sum of ${terms.toLocaleString("en")} weights x inputs) = ${act}(${g4(b)} + ${g4(sum)}) = ${act}(${g4(b + sum)})` };
    }
    if (layer.type === "MaxPooling2D" || layer.type === "AveragePooling2D") {
      const [kh, kw] = layer.pool_size, top = row * layer.strides[0] - layer.pad[0], left = col * layer.strides[1] - layer.pad[1];
      const verb = layer.type === "MaxPooling2D" ? "max" : "mean";
      return { ...found, window: [top, left, top + kh - 1, left + kw - 1], formula: `${verb} of the ${kh}x${kw} window = ${g4(value)}` };
    }
    if (layer.type === "Dense" && inShape.length === 1) {
      const [kernel, bias] = arrays[i];
      let pre = bias ? bias[k] : 0;
      for (let c = 0; c < inShape[0]; c++) pre += before[c] * kernel[c * layer.units + k];
      return { ...found, formula: `${act}(b + sum of ${inShape[0].toLocaleString("en")} weights x inputs) = ${act}(${g4(pre)}) = ${g4(value)}` };
    }
    return { ...found, formula: `${layer.type} at this position: ${g4(value)}` };
  }

  function channel(body) { // a Conv2D's filter k in Keras's layout (kh, kw, in), or a Dense column
    const i = layers.findIndex((l) => l.name === body.layer);
    const layer = layers[i];
    if (i < 0 || !(layer.type === "Conv2D" || layer.type === "Dense")) throw new Error(`${body.layer} has no filters of its own`);
    const [kernel, bias] = arrays[i], count = layer.type === "Conv2D" ? layer.filters : layer.units;
    const values = kernel.filter((_, j) => j % count === body.channel);
    const kshape = layer.type === "Conv2D" ? [...layer.kernel_size, kernel.length / count / layer.kernel_size[0] / layer.kernel_size[1]] : [values.length];
    return { layer: layer.name, channel: body.channel, shape: kshape, bias: bias ? bias[body.channel] : 0,
      max: values.reduce((m, v) => Math.max(m, Math.abs(v)), 0), values };
  }

  function occlusion(pixels, target) { // Captum's Occlusion: a patch of 0 at each position
    const [h, w, c] = shape.length === 3 ? shape : [28, 28, 1], { patch, stride } = site.occlusion;
    const starts = (n) => { const s = []; for (let v = 0; v <= n - patch; v += stride) s.push(v); if (s[s.length - 1] !== n - patch) s.push(n - patch); return s; };
    const base = probabilities(outputs(pixels).outputs.at(-1))[target];
    const total = new Float32Array(h * w), count = new Float32Array(h * w);
    for (const r of starts(h)) for (const q of starts(w)) {
      const covered = Uint8Array.from(pixels);
      for (let y = r; y < r + patch; y++) for (let x = q; x < q + patch; x++) for (let k = 0; k < c; k++) covered[(y * w + x) * c + k] = 0;
      const input = Float32Array.from(covered, (v) => (site.scale ? v / 255 : v));
      const outs = FORWARD.forward(model, arrays, input);
      const drop = base - probabilities(outs[outs.length - 1])[target];
      for (let y = r; y < r + patch; y++) for (let x = q; x < q + patch; x++) { total[y * w + x] += drop; count[y * w + x] += 1; }
    }
    return total.map((t, j) => t / Math.max(count[j], 1));
  }

  async function attribution(body) {
    const [pixels, , i] = await pixelsOf(body);
    if (i !== null && site.attributions[i]?.[body.method]) { // computed ahead for the bundled images
      const a = site.attributions[i][body.method];
      return { method: body.method, target: a.target, signed: a.signed, max: a.max, values: decode(a.data) };
    }
    const probs = probabilities(outputs(pixels).outputs.at(-1));
    const target = body.target ?? probs.indexOf(Math.max(...probs));
    const values = occlusion(pixels, target);
    return { method: "occlusion", target, signed: true, values,
      max: values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
  }

  const handlers = {
    model: async () => site.about,
    test: async (body) => {
      const [i, s] = sample(body.index);
      return answer(s.pixels, { index: i, label: s.label, steps: [`test image ${s.test_index} (bundled image ${i} of ${samples.length})`] });
    },
    predict: async (body) => { const [pixels, steps] = await pixelsOf(body); return answer(pixels, { steps }); },
    position: async (body) => position((await pixelsOf(body))[0], body),
    channel: async (body) => channel(body),
    attribution,
  };
  return {
    async request(kind, body = {}) {
      if (!handlers[kind]) throw new Error(`no such request: ${kind}`);
      return handlers[kind](body);
    },
  };
}

async function prepare(dataUrl, shape) { // an uploaded photo as the model's input, uint8
  const [h, w, c] = shape.length === 3 ? shape : [28, 28, 1];
  const image = new Image();
  image.src = dataUrl.startsWith("data:") ? dataUrl : `data:image/png;base64,${dataUrl}`;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  if (shape.join() === "28,28,1" || shape.join() === "784") { // MNIST's preparation, roughly
    const big = document.createElement("canvas");
    big.width = image.naturalWidth; big.height = image.naturalHeight;
    const bctx = big.getContext("2d");
    bctx.drawImage(image, 0, 0);
    const d = bctx.getImageData(0, 0, big.width, big.height).data, n = big.width * big.height;
    const grey = new Float32Array(n);
    let mean = 0;
    for (let i = 0; i < n; i++) { grey[i] = (d[4 * i] + d[4 * i + 1] + d[4 * i + 2]) / 3; mean += grey[i] / n; }
    if (mean > 127) for (let i = 0; i < n; i++) grey[i] = 255 - grey[i]; // ink dark on light: inverted
    let [t, l, b, r] = [big.height, big.width, -1, -1];
    for (let y = 0; y < big.height; y++) for (let x = 0; x < big.width; x++) if (grey[y * big.width + x] > 30) {
      t = Math.min(t, y); b = Math.max(b, y); l = Math.min(l, x); r = Math.max(r, x);
    }
    for (let i = 0; i < n; i++) d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = grey[i];
    bctx.putImageData(new ImageData(d, big.width, big.height), 0, 0);
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, w, h);
    if (b >= 0) {
      const side = Math.max(b - t + 1, r - l + 1), s = 20 / side;
      const dw = (r - l + 1) * s, dh = (b - t + 1) * s;
      ctx.drawImage(big, l, t, r - l + 1, b - t + 1, (28 - dw) / 2, (28 - dh) / 2, dw, dh);
    }
  } else {
    ctx.drawImage(image, 0, 0, w, h); // bilinear, as the training photos were resized
  }
  const d = ctx.getImageData(0, 0, w, h).data, out = new Uint8Array(h * w * c);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) out[i * c + k] = c === 1 ? d[4 * i] : d[4 * i + k];
  return out;
}
