// convscope live: draw a digit and watch every layer of your own model respond.
//
// One plain ES module, no build step and nothing fetched from a network. The page served
// by `convscope serve` mounts it with an HTTP transport; the notebook widget
// (`Model.widget()`, anywidget) loads the same module and mounts it with the widget's
// messages. Both speak the JSON of convscope/api/live.py.

const SIZE = 28;
const PAD = 280; // the drawing canvas, 10x the network's input
const SEES = 6; // the 28x28 the network sees, drawn at 6x
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const METHODS = { gradcam: "Grad-CAM", saliency: "Saliency", smoothgrad: "SmoothGrad",
  integrated_gradients: "Integrated gradients", gradient_x_input: "Gradient x input", occlusion: "Occlusion" };

// ---- transports ----

export function httpTransport(base = "") {
  return {
    async request(kind, body) {
      const init = kind === "model" ? {} : {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      };
      const response = await fetch(`${base}/api/${kind}`, init);
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
      return answer;
    },
  };
}

export function widgetTransport(model) {
  let next = 0;
  const waiting = new Map();
  model.on("msg:custom", (msg) => {
    const pending = waiting.get(msg.id);
    if (!pending) return;
    waiting.delete(msg.id);
    if (msg.error) pending.reject(new Error(msg.error));
    else pending.resolve(msg.result);
  });
  return {
    request(kind, body) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        model.send({ id, kind, body: body || {} });
      });
    },
  };
}

// ---- numbers ----

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export function decode(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

function valuesOf(answer) { // the server's float16 base64, or the shared page's own numbers
  return answer.values || decode(answer.data);
}

function colour(t) { // t in [0, 1] -> viridis
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  return VIRIDIS[i].map((v, k) => Math.round(v + f * (VIRIDIS[i + 1][k] - v)));
}

function diverging(t) { // t in [-1, 1] -> blue, white, red
  const a = Math.min(Math.abs(t), 1);
  const fade = Math.round(255 * (1 - a));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3); }

// ---- small DOM helpers ----

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) el.setAttribute(k, v);
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function paint(canvas, width, height, pixel) { // pixel(i) -> [r, g, b]
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = pixel(i);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

function place(box, top, left, height, width, rows, cols) { // a window over a rows x cols grid
  Object.assign(box.style, { top: `${(100 * top) / rows}%`, left: `${(100 * left) / cols}%`,
    height: `${(100 * height) / rows}%`, width: `${(100 * width) / cols}%` });
  box.hidden = false;
}

function paintInput(canvas, result) { // what the network sees: MNIST's 28x28 as dark ink on white, else the image's RGB
  if (result.pixels) {
    const pixels = result.pixels;
    paint(canvas, SIZE, SIZE, (i) => { const v = 255 - pixels[Math.floor(i / SIZE)][i % SIZE]; return [v, v, v]; });
    return;
  }
  const [height, width] = result.shape;
  const rgb = Uint8Array.from(atob(result.image), (c) => c.charCodeAt(0));
  paint(canvas, width, height, (i) => [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]);
}

// ---- the page ----

export async function mount(root, transport) {
  root.classList.add("convscope-live");
  root.replaceChildren(h("p", {}, "Loading the model..."));
  const about = await transport.request("model");
  const app = new LivePage(root, transport, about);
  app.build();
  if (about.live) await app.start();
  return app;
}

class LivePage {
  constructor(root, transport, about) {
    this.root = root;
    this.transport = transport;
    this.about = about;
    this.rows = about.explain.layers; // the explain rows, one per layer
    this.result = null; // the last forward pass
    this.busy = false;
    this.again = false;
    this.timings = [];
    window.__convscope = this; // for tests and benchmarks
  }

  build() {
    const a = this.about;
    const banner = a.trained ? null : h("p", { class: "banner", role: "note" },
      "Untrained: these are random initial weights. Train the model to see what it learns.");
    this.status = h("p", { class: "status", "aria-live": "polite" });
    this.root.replaceChildren(
      h("header", {}, h("h1", {}, `convscope live: ${a.name}`),
        h("p", { class: "sub" }, `${a.dataset || "no data set"}; input ${a.input_shape.join("x")}`)),
      banner || "",
      a.live ? this.buildLive() : h("p", { class: "banner" },
        `This model takes ${a.input_shape.join("x")} inputs; the live view shows images (height x width x channels) up to 512 pixels a side. Its explain table:`),
      this.buildTable(),
      this.status,
    );
  }

  buildLive() {
    const shape = this.about.input_shape;
    [this.H, this.W] = shape.length === 3 ? shape : [SIZE, SIZE];
    const size = `${this.H}x${this.W}`;
    this.pad = this.about.drawable ? h("canvas", { class: "pad", width: PAD, height: PAD, "aria-label": "drawing area: draw a digit with the mouse, a finger or a pen" }) : null;
    this.sees = h("canvas", { class: "sees", width: this.W, height: this.H, "aria-label": `the ${size} input the network sees` });
    this.window = h("div", { class: "window", id: "input-window", hidden: "" });
    this.download = h("a", { href: "#", download: "convscope-input.png", class: "button" }, `Download the ${size}`);
    this.steps = h("ul", { class: "steps" });
    this.index = h("input", { type: "number", min: 0, max: Math.max(this.about.test_images - 1, 0), value: 0, "aria-label": "test image index" });
    this.upload = h("input", { type: "file", accept: "image/png,image/jpeg", "aria-label": "upload a PNG or JPEG" });
    this.upload.addEventListener("change", () => this.fromFile());
    this.bars = h("div", { class: "bars", role: "list" });
    this.predicted = h("p", { class: "predicted", id: "predicted" });
    this.method = "gradcam";
    this.methods = h("div", { class: "methods", role: "group", "aria-label": "attribution method" },
      ...Object.entries(METHODS).map(([m, label]) => h("button", { type: "button", "data-method": m,
        "aria-pressed": String(m === this.method), onclick: () => this.attribute(m) }, label)));
    this.used = h("canvas", { class: "sees used", width: this.W, height: this.H, "aria-label": "which pixels the prediction used" });
    this.usedNote = h("p", { class: "note", id: "used-note" });
    this.maps = h("div", { class: "maps" });
    this.detail = h("aside", { class: "detail", "aria-live": "polite" }, h("p", {}, "Hover or tap a cell of any map to see the window it reads."));
    this.testNote = h("p", { class: "note", id: "test-note", "aria-live": "polite" });
    const tests = this.about.test_images ? [
      h("label", {}, "Test image ", this.index),
      h("button", { type: "button", onclick: () => this.fromTest(Number(this.index.value)) }, "Show"),
      h("button", { type: "button", onclick: () => this.fromTest(null) }, "Random"),
    ] : [];
    if (this.pad) this.drawing(this.pad);
    const clear = this.pad ? [h("button", { type: "button", onclick: () => this.clear() }, "Clear")] : [];
    return h("div", { class: "live" },
      h("section", { class: "input", "aria-label": "input" },
        h("h2", {}, this.pad ? "Draw a digit" : "Pick a test image or upload a photo"),
        ...(this.pad ? [this.pad] : []),
        h("div", { class: "controls" }, ...clear, ...tests,
          h("label", { class: "button" }, "Upload ", this.upload)),
        this.testNote,
        h("h2", {}, "What the network sees"),
        h("div", { class: "sees-box" }, this.sees, this.window),
        this.download, this.steps,
        h("h2", {}, "Prediction"), this.predicted, this.bars,
        h("h2", {}, "Which pixels it used"), this.methods, this.used, this.usedNote),
      h("section", { class: "layers", "aria-label": "every layer's output" }, this.detail, this.maps),
    );
  }

  buildTable() {
    const head = ["Layer (type)", "Output shape", "Params", "Shape formula", "Params formula", "Receptive field"];
    const body = this.rows.map((r) => h("tr", { tabindex: 0, id: `row-${r.name}`,
      onclick: () => this.goTo(r.name), onkeydown: (e) => { if (e.key === "Enter") this.goTo(r.name); } },
    h("td", {}, `${r.name} (${r.type})`), h("td", {}, `(${r.output_shape.map((d) => d ?? "None").join(", ")})`),
    h("td", { class: "num" }, r.params.toLocaleString("en")), h("td", {}, r.shape_formula), h("td", {}, r.params_formula),
    h("td", {}, r.receptive_field ? `${r.receptive_field.size.join("x")}, jump ${r.receptive_field.jump[0]}` : "-")));
    const e = this.about.explain;
    return h("section", { class: "table", "aria-label": "explain table" }, h("h2", {}, "Every layer, as Keras counts it"),
      h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))), h("tbody", {}, body))),
      h("p", {}, `Total params: ${e.total_params.toLocaleString("en")}; multiply-adds per image: ${e.total_macs.toLocaleString("en")}`));
  }

  goTo(name) {
    const section = this.root.querySelector(`[data-layer="${name}"]`);
    for (const el of this.root.querySelectorAll(".highlight")) el.classList.remove("highlight");
    this.root.querySelector(`#row-${CSS.escape(name)}`)?.classList.add("highlight");
    if (section) { section.classList.add("highlight"); section.scrollIntoView({ block: "nearest" }); }
  }

  // ---- input ----

  drawing(canvas) {
    const ctx = canvas.getContext("2d");
    this.clearPad();
    let last = null;
    const at = (e) => {
      const box = canvas.getBoundingClientRect();
      return [(e.clientX - box.left) * (PAD / box.width), (e.clientY - box.top) * (PAD / box.height)];
    };
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      last = at(e);
      this.stroke(ctx, last, last);
      e.preventDefault();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!last) return;
      const point = at(e);
      this.stroke(ctx, last, point);
      last = point;
      this.send(false); // live while drawing, at most one request in flight
      e.preventDefault();
    });
    const end = (e) => {
      if (!last) return;
      last = null;
      this.strokeEnd = performance.now();
      this.send(true);
      e.preventDefault();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  stroke(ctx, from, to) {
    ctx.strokeStyle = "white";
    ctx.lineWidth = 20;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
    this.drawn = true;
  }

  clearPad() {
    const ctx = this.pad.getContext("2d");
    ctx.fillStyle = "black";
    ctx.fillRect(0, 0, PAD, PAD);
    this.drawn = false;
  }

  clear() {
    this.clearPad();
    this.source = null;
    this.show({ predicted: null, probabilities: [], pixels: Array.from({ length: SIZE }, () => Array(SIZE).fill(0)), layers: [], steps: [] });
  }

  async send(final) {
    if (!this.drawn) return;
    if (this.busy) { this.again = this.again || final; return; }
    this.busy = true;
    try {
      await this.run("predict", { image: this.pad.toDataURL("image/png") }, final);
    } finally {
      this.busy = false;
      if (this.again) { this.again = false; this.send(true); }
    }
  }

  async fromTest(index) { // true when the test image came; else the server's reason is shown
    if (this.pad) this.clearPad();
    const shown = await this.run("test", index === null ? {} : { index }, true, this.testNote);
    if (shown && this.pad && this.pixels) this.toPad(this.pixels); // draw over it to change the digit
    return shown;
  }

  toPad(pixels) { // a 28x28 input onto the drawing area, 10x: light ink on black
    const small = h("canvas");
    paint(small, SIZE, SIZE, (i) => { const v = pixels[Math.floor(i / SIZE)][i % SIZE]; return [v, v, v]; });
    const ctx = this.pad.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, PAD, PAD);
    this.drawn = true;
  }

  async fromFile() {
    const file = this.upload.files[0];
    if (!file) return;
    const data = await new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.readAsDataURL(file);
    });
    if (this.pad) this.clearPad();
    await this.run("predict", { image: data });
  }

  async start() { // drawing and uploading need no data set: without one, the page still works
    if (this.about.test_images && await this.fromTest(0)) return;
    if (this.pad) this.clear();
  }

  async run(kind, body, final = true, says = this.status) { // true when the answer came
    try {
      const result = await this.transport.request(kind, body);
      // what later requests (a position's arithmetic, a map) send: the pixels the network
      // saw for MNIST's 28x28, else the photo or test image itself, prepared again
      this.source = result.pixels ? null : (kind === "test" ? { index: result.index } : body);
      this.show(result);
      says.textContent = "";
      if (final) this.attribute(); // not while a stroke is still being drawn
      if (this.strokeEnd) {
        this.timings.push(performance.now() - this.strokeEnd);
        this.strokeEnd = null;
      }
      return true;
    } catch (error) {
      says.textContent = `convscope: ${error.message}`;
      return false;
    }
  }

  // ---- output ----

  show(result) {
    this.result = result;
    this.pixels = result.pixels;
    paintInput(this.sees, result);
    this.download.href = this.sees.toDataURL("image/png");
    this.steps.replaceChildren(...(result.steps || []).map((s) => h("li", {}, s)));
    if (result.index !== undefined) this.index.value = result.index;
    const classes = this.about.classes;
    const best = result.predicted;
    this.predicted.textContent = best === null ? "Draw something" : `${classes[best]} (${(100 * result.probabilities[best]).toFixed(1)}%)` +
      (result.label !== undefined ? `; true label ${classes[result.label]}` : "");
    this.predicted.dataset.class = best === null ? "" : classes[best];
    this.bars.replaceChildren(...result.probabilities.map((p, i) => h("div", { class: `bar${i === best ? " best" : ""}`, role: "listitem" },
      h("span", { class: "name" }, classes[i]), h("span", { class: "fill", style: `width:${(100 * p).toFixed(1)}%` }),
      h("span", { class: "p" }, `${(100 * p).toFixed(1)}%`))));
    this.showMaps(result.layers);
  }

  async attribute(method = this.method) { // the chosen method's map of the current input
    this.method = method;
    for (const b of this.methods.children) b.setAttribute("aria-pressed", String(b.dataset.method === method));
    if (!this.input() || this.result?.predicted == null) return;
    try {
      const r = await this.transport.request("attribution", { ...this.input(), method });
      const v = valuesOf(r), top = r.max || 1;
      paint(this.used, this.W, this.H, (i) => (r.signed ? diverging(v[i] / top) : colour(v[i] / top)));
      const shown = r.method || method; // the shared page answers a drawing with occlusion
      this.usedNote.textContent = `${METHODS[shown]}, for class ${this.about.classes[r.target]}` +
        (r.signed ? ": red for, blue against" : ": bright counts most") + (shown === method ? "" :
          ` (${METHODS[method]} was computed ahead for the bundled test images; a drawing gets occlusion, which needs only forward passes)`);
    } catch (error) {
      this.usedNote.textContent = `convscope: ${error.message}`;
    }
  }

  input() { // the request body that gives the network this input again
    return this.source || (this.pixels ? { pixels: this.pixels } : null);
  }

  showMaps(layers) {
    this.values = new Map(layers.map((l) => [l.name, { ...l, values: valuesOf(l) }]));
    if (!this.sections) {
      this.sections = new Map();
      const graph = this.rows.some((r) => r.connected_to);
      const levels = new Map(); // a graph: layers of one level side by side, a row per level
      const place = (name, level) => {
        const section = h("section", { class: "layer", "data-layer": name });
        this.sections.set(name, section);
        if (!graph) return this.maps.append(section);
        if (!levels.has(level)) {
          levels.set(level, h("div", { class: "level", "aria-label": `step ${level} from the input` }));
          this.maps.append(levels.get(level));
        }
        levels.get(level).append(section);
      };
      place("input", 0);
      for (const r of this.rows) place(r.name, r.level);
    }
    for (const [name, layer] of this.values) this.drawLayer(this.sections.get(name), layer);
  }

  drawLayer(section, layer) {
    const [height, width, channels] = layer.shape.length === 3 ? layer.shape : [1, layer.shape[0], 1];
    const spatial = layer.shape.length === 3;
    const row = this.rows.find((r) => r.name === layer.name);
    if (!section.firstChild) {
      section.append(h("h3", {}, `${layer.name} (${layer.type}) -> ${layer.shape.join("x")}`,
        row ? h("span", { class: "formula" }, ` ${row.shape_formula}`) : ""));
      if (row?.connected_to) section.append(h("p", { class: "reads" }, `reads ${row.connected_to.replaceAll("[0][0]", "")}`));
      const grid = h("div", { class: spatial ? "channels" : "vector" });
      const shown = Math.min(channels, 64);
      for (let k = 0; k < shown; k++) {
        const canvas = h("canvas", { tabindex: 0, "data-channel": k, "aria-label": `${layer.name} channel ${k}` });
        const box = h("div", { class: "channel" }, canvas, h("div", { class: "win", hidden: "" }));
        canvas.addEventListener("pointermove", (e) => this.hover(layer.name, k, canvas, e));
        canvas.addEventListener("click", (e) => { this.hover(layer.name, k, canvas, e); this.details(); });
        canvas.addEventListener("keydown", (e) => this.key(layer.name, k, canvas, e));
        grid.append(box);
      }
      if (channels > shown) grid.append(h("p", { class: "note" }, `(${channels - shown} more channels not drawn)`));
      section.append(grid);
    }
    const canvases = section.querySelectorAll("canvas");
    const top = layer.max || 1;
    canvases.forEach((canvas, k) => {
      if (spatial) paint(canvas, width, height, (i) => colour(layer.values[i * channels + k] / top));
      else {
        const columns = Math.min(width, 64);
        paint(canvas, columns, Math.ceil(width / columns), (i) => i < width ? colour(layer.values[i] / top) : [255, 255, 255]);
      }
    });
  }

  // ---- one position: its windows, its value, its arithmetic ----

  hover(name, k, canvas, e) {
    const layer = this.values?.get(name);
    if (!layer || layer.shape.length !== 3) return;
    const box = canvas.getBoundingClientRect();
    const [hh, ww] = layer.shape;
    const r = Math.min(hh - 1, Math.floor(((e.clientY - box.top) / box.height) * hh));
    const c = Math.min(ww - 1, Math.floor(((e.clientX - box.left) / box.width) * ww));
    this.select(name, k, r, c);
  }

  key(name, k, canvas, e) {
    const layer = this.values?.get(name);
    if (!layer || layer.shape.length !== 3) return;
    const [hh, ww] = layer.shape;
    const s = this.selected?.name === name ? this.selected : { r: hh >> 1, c: ww >> 1 };
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      const [dr, dc] = moves[e.key];
      this.select(name, k, Math.min(hh - 1, Math.max(0, s.r + dr)), Math.min(ww - 1, Math.max(0, s.c + dc)));
      e.preventDefault();
    } else if (e.key === "Enter" || e.key === " ") {
      this.select(name, k, s.r, s.c);
      this.details();
      e.preventDefault();
    }
  }

  select(name, k, r, c) {
    this.selected = { name, k, r, c };
    const layer = this.values.get(name);
    const [, ww, channels] = layer.shape;
    const value = layer.values[(r * ww + c) * channels + k];
    const row = this.rows.find((x) => x.name === name);
    for (const win of this.root.querySelectorAll(".win")) win.hidden = true;
    this.outline(this.sections.get(name), r, c, 1, 1, layer.shape);
    let text = `${name}[${r}, ${c}], channel ${k} = ${fmt(value)}.`;
    const mini = h("canvas", { class: "mini", "aria-hidden": "true" });
    paintInput(mini, this.result);
    const miniBox = h("div", { class: "mini-box" }, mini); // the input beside the text: a phone sees it too
    if (row?.receptive_field) {
      const f = row.receptive_field;
      const top = f.start[0] + r * f.jump[0];
      const left = f.start[1] + c * f.jump[1];
      place(this.window, top, left, f.size[0], f.size[1], this.H, this.W);
      Object.assign(this.window.dataset, { top, left, rows: f.size[0], cols: f.size[1] });
      const copy = h("div", { class: "window" });
      miniBox.append(copy);
      place(copy, top, left, f.size[0], f.size[1], this.H, this.W);
      text += ` It sees input rows ${top}-${top + f.size[0] - 1}, columns ${left}-${left + f.size[1] - 1} (${f.size[0]}x${f.size[1]}).`;
    }
    const index = this.rows.indexOf(row);
    const before = index > 0 ? this.rows[index - 1].name : "input";
    if (row?.reads) {
      const g = row.reads;
      const top = g.start[0] + r * g.stride[0];
      const left = g.start[1] + c * g.stride[1];
      this.outline(this.sections.get(before), top, left, g.span[0], g.span[1], this.values.get(before).shape);
      text += ` It reads a ${g.span[0]}x${g.span[1]} window of ${before}.`;
    }
    this.detail.replaceChildren(miniBox, h("p", { class: "value" }, text),
      h("p", { class: "hint" }, "Click, tap or press Enter for its arithmetic and its filter."));
  }

  outline(section, top, left, height, width, shape) {
    if (!section) return;
    for (const win of section.querySelectorAll(".win")) place(win, top, left, height, width, shape[0], shape[1]);
  }

  async details() {
    const s = this.selected;
    if (!s || !this.input()) return;
    try {
      const where = await this.transport.request("position", { ...this.input(), layer: s.name, row: s.r, col: s.c, channel: s.k });
      const parts = [h("p", { class: "value" }, `${s.name}[${s.r}, ${s.c}], channel ${s.k} = ${fmt(where.value)}`),
        h("p", { class: "formula" }, where.formula), this.enlarged(s.name, s.k)];
      const row = this.rows.find((x) => x.name === s.name);
      if (row?.type === "Conv2D") {
        const filter = await this.transport.request("channel", { layer: s.name, channel: s.k });
        parts.push(this.filterView(filter));
      }
      this.detail.replaceChildren(...parts);
    } catch (error) {
      this.status.textContent = `convscope: ${error.message}`;
    }
  }

  enlarged(name, k) { // the channel's whole map, large, with each value on hover
    const layer = this.values.get(name);
    const [hh, ww, channels] = layer.shape;
    const canvas = h("canvas", { class: "enlarged", "aria-label": `${name} channel ${k}, enlarged` });
    paint(canvas, ww, hh, (i) => colour(layer.values[i * channels + k] / (layer.max || 1)));
    const readout = h("p", { class: "readout" }, `channel ${k} of ${name}, ${hh}x${ww}: hover for values`);
    canvas.addEventListener("pointermove", (e) => {
      const box = canvas.getBoundingClientRect();
      const r = Math.min(hh - 1, Math.floor(((e.clientY - box.top) / box.height) * hh));
      const c = Math.min(ww - 1, Math.floor(((e.clientX - box.left) / box.width) * ww));
      readout.textContent = `[${r}, ${c}] = ${fmt(layer.values[(r * ww + c) * channels + k])}`;
    });
    return h("div", { class: "enlarged-box" }, canvas, readout);
  }

  filterView(filter) {
    const [kh, kw, cin] = filter.shape;
    const values = valuesOf(filter);
    const shown = Math.min(cin, 256);
    const tiles = [];
    for (let i = 0; i < shown; i++) {
      const canvas = h("canvas", { class: "kernel", title: `input channel ${i}` });
      paint(canvas, kw, kh, (j) => diverging(values[j * cin + i] / (filter.max || 1)));
      tiles.push(canvas);
    }
    return h("div", { class: "filter" },
      h("p", {}, `Filter ${filter.channel} of ${filter.layer}: ${kh}x${kw} weights for each of ${cin} input channels` +
        `${cin > shown ? ` (the first ${shown} drawn)` : ""}, bias ${fmt(filter.bias)}; red positive, blue negative.`),
      h("div", { class: "kernels" }, tiles));
  }
}

// ---- the notebook widget (anywidget) ----

export default {
  async render({ model, el }) {
    await mount(el, widgetTransport(model));
  },
};
