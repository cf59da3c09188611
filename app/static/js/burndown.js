// The sprint's burndown: open tasks per day against an ideal straight line,
// drawn as inline SVG with DOM methods.

import { addDays, daysBetween, formatDate, today } from "./dates.js";
import { clear, svg } from "./dom.js";

const PAD = { top: 14, right: 16, bottom: 28, left: 34 };

/**
 * The numbers behind the chart. The sprint starts 14 days before its end, or on
 * the earliest start date of its tasks if that is earlier. A task counts as open
 * on a day unless it was completed on or before that day.
 */
export function burndownData(sprint, tasks, now = today()) {
  const end = sprint.end;
  let start = addDays(end, -14);
  for (const task of tasks) if (task.started && task.started < start) start = task.started;
  const days = daysBetween(start, end);
  const total = tasks.length;
  const last = now < end ? now : end;
  const actual = [];
  for (let day = 0; day <= days; day += 1) {
    const date = addDays(start, day);
    if (date > last) break;
    const open = tasks.filter((task) => !(task.completed && task.completed <= date)).length;
    actual.push({ day, date, open });
  }
  return { start, end, days, total, actual };
}

export function renderBurndown(container, caption, sprint, tasks) {
  // Drawn at the size it is shown, so that its text stays legible on a phone.
  const WIDTH = Math.max(280, Math.round(container.clientWidth || 480));
  const HEIGHT = WIDTH < 420 ? 170 : 200;
  const data = burndownData(sprint, tasks);
  const { days, total, actual } = data;
  const step = Math.max(1, Math.ceil(total / 4));
  const maxY = Math.max(step, Math.ceil(total / step) * step);
  const x = (day) => PAD.left + (day / Math.max(days, 1)) * (WIDTH - PAD.left - PAD.right);
  const y = (open) => PAD.top + (1 - open / maxY) * (HEIGHT - PAD.top - PAD.bottom);
  const point = (px, py) => `${px.toFixed(1)},${py.toFixed(1)}`;

  const openNow = actual.length ? actual[actual.length - 1].open : total;
  const titleId = "burndown-svg-title";
  const descId = "burndown-svg-desc";
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-labelledby": `${titleId} ${descId}`,
    class: "burndown-svg",
    preserveAspectRatio: "xMidYMid meet",
  });
  chart.append(
    svg("title", { id: titleId }, "Burndown chart"),
    svg(
      "desc",
      { id: descId },
      `${openNow} of ${total} tasks open; the sprint runs from ${formatDate(data.start)} to ${formatDate(data.end)}.`,
    ),
  );

  // Grid lines and the y axis labels.
  const grid = svg("g", { class: "burndown-grid" });
  for (let value = 0; value <= maxY; value += step) {
    grid.append(
      svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }),
      svg("text", { x: PAD.left - 8, y: y(value) + 4, class: "burndown-label", "text-anchor": "end" }, String(value)),
    );
  }
  // Dates along the bottom: start, today (when inside the sprint) and end.
  const labels = [
    [0, formatDate(data.start, { day: "numeric", month: "short" }), "start"],
    [days, formatDate(data.end, { day: "numeric", month: "short" }), "end"],
  ];
  const todayDay = daysBetween(data.start, today());
  if (todayDay > 2 && todayDay < days - 2) labels.push([todayDay, "Today", "middle"]);
  for (const [day, text, anchor] of labels) {
    grid.append(svg("text", { x: x(day), y: HEIGHT - 8, class: "burndown-label", "text-anchor": anchor }, text));
  }
  if (todayDay >= 0 && todayDay <= days) {
    grid.append(
      svg("line", { class: "burndown-today", x1: x(todayDay), x2: x(todayDay), y1: PAD.top, y2: HEIGHT - PAD.bottom }),
    );
  }
  chart.append(grid);

  chart.append(
    svg("polyline", {
      class: "burndown-ideal",
      points: `${point(x(0), y(total))} ${point(x(days), y(0))}`,
      "data-series": "ideal",
    }),
  );
  const actualPoints = actual.map(({ day, open }) => point(x(day), y(open))).join(" ");
  chart.append(
    svg("polyline", { class: "burndown-actual", points: actualPoints, "data-series": "open-tasks" }),
  );
  const lastPoint = actual[actual.length - 1];
  if (lastPoint) {
    chart.append(svg("circle", { class: "burndown-dot", cx: x(lastPoint.day), cy: y(lastPoint.open), r: 3.5 }));
  }

  clear(container);
  container.append(chart);
  caption.textContent = total ? `${openNow} of ${total} open` : "No tasks in this sprint yet";
  return data;
}
