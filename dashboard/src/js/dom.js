// The one module that creates DOM nodes. Text, including every string that came from the
// server (lead names, SMS bodies from strangers, error messages), only ever becomes a Text
// node or an attribute value: this module never parses HTML, and nothing else should either.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h("button", {class: "btn", onclick: fn, "aria-label": "Close"}, "text", child, [more])
 * Attributes: `class`, `text` (textContent), `on<event>` (listener), `dataset` (object),
 * `style` (object of properties), booleans (present when true), anything else via
 * setAttribute. Children: nodes, strings/numbers (as Text), arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled") el[key] = Boolean(value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function setText(el, value) {
  el.textContent = value === null || value === undefined ? "" : String(value);
  return el;
}

export function byId(id) {
  return document.getElementById(id);
}

export function root() {
  return document.getElementById("app");
}

export function activeElement() {
  return document.activeElement;
}

export function setTitle(title) {
  document.title = title ? `${title} · Coldcall` : "Coldcall";
}

// Icons: static path data only (never from the server), drawn as stroked 24x24 outlines.
const ICONS = {
  play: "M5.25 5.65c0-.86.92-1.4 1.67-.98l11.54 6.35c.78.43.78 1.53 0 1.96L6.92 19.33c-.75.42-1.67-.12-1.67-.98V5.65Z",
  phone:
    "M2.25 6.75c0 8.28 6.72 15 15 15h2.25a2.25 2.25 0 0 0 2.25-2.25v-1.37c0-.52-.35-.97-.85-1.09l-4.42-1.1c-.44-.11-.9.05-1.17.41l-.97 1.29a1.13 1.13 0 0 1-1.21.38 12.04 12.04 0 0 1-7.14-7.14 1.13 1.13 0 0 1 .38-1.21l1.29-.97c.37-.27.52-.74.41-1.17L6.96 3.1A1.13 1.13 0 0 0 5.87 2.25H4.5A2.25 2.25 0 0 0 2.25 4.5v2.25Z",
  message:
    "M8.63 12a.38.38 0 1 1-.76 0 .38.38 0 0 1 .76 0Zm3.75 0a.38.38 0 1 1-.76 0 .38.38 0 0 1 .76 0Zm3.75 0a.38.38 0 1 1-.76 0 .38.38 0 0 1 .76 0ZM21 12c0 4.56-4.03 8.25-9 8.25a9.76 9.76 0 0 1-2.56-.34 5.97 5.97 0 0 1-3.88 1.33 6 6 0 0 0 1.37-3.87C5.08 16.12 3 14.26 3 12c0-4.56 4.03-8.25 9-8.25s9 3.69 9 8.25Z",
  pencil:
    "m16.86 4.49 1.69-1.69a1.88 1.88 0 1 1 2.65 2.65L10.58 16.07a4.5 4.5 0 0 1-1.9 1.13L6 18l.8-2.68a4.5 4.5 0 0 1 1.13-1.9l8.93-8.93Zm0 0L19.5 7.13",
  archive:
    "m20.25 7.5-.63 10.63a2.25 2.25 0 0 1-2.25 2.12H6.63a2.25 2.25 0 0 1-2.25-2.12L3.75 7.5m6 4.13h4.5M3.38 7.5h17.25c.62 0 1.12-.5 1.12-1.13v-1.5c0-.62-.5-1.12-1.12-1.12H3.38c-.63 0-1.13.5-1.13 1.13v1.5c0 .62.5 1.12 1.13 1.12Z",
  upload:
    "M3 16.5v2.25A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75V16.5m-13.5-9L12 3m0 0 4.5 4.5M12 3v13.5",
  download:
    "M3 16.5v2.25A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75V16.5M16.5 12 12 16.5m0 0L7.5 12m4.5 4.5V3",
  plus: "M12 4.5v15m7.5-7.5h-15",
  close: "M6 18 18 6M6 6l12 12",
  refresh:
    "M16.02 9.35h4.99v-.01M2.99 19.64v-5h5m-5.47-4.63a8.25 8.25 0 0 1 13.8-3.7l3.18 3.18m0-4.99v4.99m-16.5 5.5 3.18 3.18a8.25 8.25 0 0 0 13.8-3.7",
  chevronLeft: "M15.75 19.5 8.25 12l7.5-7.5",
  chevronRight: "m8.25 4.5 7.5 7.5-7.5 7.5",
  users:
    "M15 19.13a9.38 9.38 0 0 0 2.63.37 9.34 9.34 0 0 0 4.12-.95 4.13 4.13 0 0 0-7.53-2.49M15 19.13v-.01c0-1.11-.29-2.16-.78-3.07M15 19.13v.1A12.32 12.32 0 0 1 8.62 21c-2.33 0-4.51-.64-6.37-1.77v-.1a6.38 6.38 0 0 1 11.96-3.08M12 6.38a3.38 3.38 0 1 1-6.75 0 3.38 3.38 0 0 1 6.75 0Zm8.25 2.25a2.63 2.63 0 1 1-5.25 0 2.63 2.63 0 0 1 5.25 0Z",
  chart:
    "M3 13.13C3 12.5 3.5 12 4.13 12h2.25c.62 0 1.12.5 1.12 1.13v6.75c0 .62-.5 1.12-1.12 1.12H4.13C3.5 21 3 20.5 3 19.88v-6.75ZM9.75 8.63c0-.63.5-1.13 1.13-1.13h2.25c.62 0 1.12.5 1.12 1.13v11.25c0 .62-.5 1.12-1.12 1.12h-2.25c-.63 0-1.13-.5-1.13-1.12V8.63ZM16.5 4.13c0-.63.5-1.13 1.13-1.13h2.25C20.5 3 21 3.5 21 4.13v15.75c0 .62-.5 1.12-1.12 1.12h-2.25c-.63 0-1.13-.5-1.13-1.12V4.13Z",
  list: "M8.25 6.75h12M8.25 12h12m-12 5.25h12M3.75 6.75h.01v.01h-.01v-.01Zm0 5.25h.01v.01h-.01V12Zm0 5.25h.01v.01h-.01v-.01Z",
  warning:
    "M12 9v3.75m-9.3 3.38c-.87 1.5.22 3.37 1.95 3.37h14.71c1.73 0 2.81-1.87 1.95-3.37L13.95 3.38c-.87-1.5-3.03-1.5-3.9 0L2.7 16.13ZM12 15.75h.01v.01H12v-.01Z",
  shield:
    "M9 12.75 11.25 15 15 9.75m-3-7.04A11.96 11.96 0 0 1 3.6 6 12 12 0 0 0 3 9.75c0 5.59 3.82 10.29 9 11.62 5.18-1.33 9-6.03 9-11.62 0-1.31-.21-2.57-.6-3.75h-.15c-3.2 0-6.1-1.25-8.25-3.29Z",
  key: "M15.75 5.25a3 3 0 0 1 3 3m3 0a6 6 0 0 1-7.03 5.91c-.57-.1-1.17.03-1.58.44L10.5 17.25H8.25v2.25H6v2.25H2.25v-2.82c0-.6.24-1.17.66-1.59l6.16-6.16c.41-.41.54-1.01.44-1.58A6 6 0 1 1 21.75 8.25Z",
  flag: "M3 3v1.5M3 21v-6m0 0 2.77-.69a9 9 0 0 1 6.21.68l.11.05a9 9 0 0 0 6.09.71l3.11-.73a48.52 48.52 0 0 1-.01-10.5l-3.11.73a9 9 0 0 1-6.08-.71l-.11-.05a9 9 0 0 0-6.21-.68L3 4.5M3 15V4.5",
  clock: "M12 6v6h4.5m4.5 0a9 9 0 1 1-18 0 9 9 0 0 1 18 0Z",
  pause: "M15.75 5.25v13.5m-7.5-13.5v13.5",
  trash:
    "m14.74 9-.35 9m-4.78 0L9.26 9m9.97-3.21c.34.05.68.11 1.02.17m-1.02-.17L18.16 19.67a2.25 2.25 0 0 1-2.24 2.08H8.08a2.25 2.25 0 0 1-2.24-2.08L4.77 5.79m14.46 0a48.11 48.11 0 0 0-3.48-.4m-12 .56c.34-.06.68-.11 1.02-.17m0 0a48.11 48.11 0 0 1 3.48-.4m7.5 0v-.91c0-1.18-.91-2.17-2.09-2.2a51.96 51.96 0 0 0-3.32 0c-1.18.03-2.09 1.02-2.09 2.2v.91m7.5 0a48.67 48.67 0 0 0-7.5 0",
  logout:
    "M15.75 9V5.25A2.25 2.25 0 0 0 13.5 3h-6a2.25 2.25 0 0 0-2.25 2.25v13.5A2.25 2.25 0 0 0 7.5 21h6a2.25 2.25 0 0 0 2.25-2.25V15m3 0 3-3m0 0-3-3m3 3H9",
};

export function icon(name, cls = "size-4") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.5");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", cls);
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  path.setAttribute("d", ICONS[name] || "");
  svg.append(path);
  return svg;
}

/** Save a Blob under a file name through a temporary object URL. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function onDocument(event, fn) {
  document.addEventListener(event, fn);
  return () => document.removeEventListener(event, fn);
}

export function isVisible() {
  return document.visibilityState !== "hidden";
}
