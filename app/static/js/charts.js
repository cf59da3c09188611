// What the hand-drawn SVG charts share: their size, a y scale with round steps,
// and the frame (title, description, horizontal grid with its labels).

import { svg } from "./dom.js";

export const PAD = { top: 14, right: 16, bottom: 28, left: 38 };

/** Drawn at the size it is shown, so that its text stays legible on a phone. */
export function chartSize(container) {
  const width = Math.max(280, Math.round(container.clientWidth || 480));
  return { width, height: width < 420 ? 170 : 200 };
}

/** A y axis from 0 to at least `max` in about four round steps. */
export function yScale(max, height) {
  const step = Math.max(1, Math.ceil(max / 4));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (value) => PAD.top + (1 - value / top) * (height - PAD.top - PAD.bottom);
  return { step, top, y };
}

export function point(x, y) {
  return `${x.toFixed(1)},${y.toFixed(1)}`;
}

/**
 * An `<svg>` with its accessible title and description and the grid of `scale`
 * drawn; `attrs` go on the `<svg>` (its data attributes, say). Returns `{chart, grid}`.
 */
export function chartFrame({ id, className, width, height, title, description, scale, attrs = {} }) {
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
    class: `chart-svg ${className}`,
    preserveAspectRatio: "xMidYMid meet",
    ...attrs,
  });
  chart.append(svg("title", { id: `${id}-title` }, title), svg("desc", { id: `${id}-desc` }, description));
  const grid = svg("g", { class: "chart-grid" });
  for (let value = 0; value <= scale.top; value += scale.step) {
    const y = scale.y(value);
    grid.append(
      svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y }),
      svg("text", { x: PAD.left - 8, y: y + 4, class: "chart-label", "text-anchor": "end" }, String(value)),
    );
  }
  chart.append(grid);
  return { chart, grid };
}
