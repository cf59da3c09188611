// The sprint's burndown: what remained at the end of each day as the server's
// change log recorded it (GET /api/sprints/<id>/burndown), with today's point
// worked out from the board's own tasks so that it follows every live change
// without fetching the history again. Drawn as inline SVG with DOM methods.

import { chartFrame, chartSize, PAD, point, yScale } from "./charts.js";
import { daysBetween, formatDate } from "./dates.js";
import { svg } from "./dom.js";
import { formatAmount, remainingOf, unitOf } from "./points.js";

/**
 * The numbers behind the chart on `now` (a UTC day): the fetched days, with
 * today's `remaining` from `tasks` (the sprint's tasks as the board shows them).
 * The unit follows the tasks as the server's does: points when one of them has
 * points. `stale` says the fetched history no longer fits: its unit changed (the
 * first points were given in a sprint counted in tasks, or the last pointed task
 * left it or lost its points).
 */
export function liveBurndown(fetched, tasks, now) {
  const unit = unitOf(tasks);
  const days = fetched.days.map((entry) => ({ date: entry.date, remaining: entry.remaining }));
  const inSprint = now >= fetched.start && now <= fetched.end;
  const today = remainingOf(tasks, unit);
  if (inSprint) {
    const entry = days.find((day) => day.date === now);
    if (entry) entry.remaining = today;
    else if (!days.length || days.at(-1).date < now) days.push({ date: now, remaining: today });
  }
  // The ideal starts from what the sprint held at the end of its first day (or holds now, before it).
  const total = !days.length || days[0].date === now ? today : fetched.total;
  const length = daysBetween(fetched.start, fetched.end);
  for (const entry of days) {
    entry.ideal = length ? Math.round((total * daysBetween(entry.date, fetched.end) * 100) / length) / 100 : 0;
  }
  const stale = unit !== fetched.unit;
  return { start: fetched.start, end: fetched.end, unit, total, days, today: inSprint ? today : null, stale };
}

/** Draw `data` (from liveBurndown) into `container`; returns the caption ("3 points remaining; 8 at the start"). */
export function renderBurndown(container, data, now) {
  const { width, height } = chartSize(container);
  const { start, end, unit, total, days } = data;
  const length = Math.max(daysBetween(start, end), 1);
  const remainingNow = days.length ? days.at(-1).remaining : total;
  const scale = yScale(Math.max(total, ...days.map((entry) => entry.remaining)), height);
  const x = (date) => PAD.left + (daysBetween(start, date) / length) * (width - PAD.left - PAD.right);
  const caption =
    total || remainingNow
      ? `${formatAmount(remainingNow, unit)} remaining; ${total} at the start`
      : "Nothing planned in this sprint yet";
  const { chart, grid } = chartFrame({
    id: "burndown-svg",
    className: "burndown-svg",
    width,
    height,
    scale,
    title: `Burndown in ${unit}`,
    description: `${caption}; the sprint runs from ${formatDate(start)} to ${formatDate(end)}.`,
    attrs: {
      "data-unit": unit,
      "data-start": start,
      "data-end": end,
      "data-total": total,
      "data-today": data.today === null ? null : now,
      "data-today-remaining": data.today,
    },
  });
  // Dates along the bottom: start, today (when well inside the sprint) and end.
  const short = (date) => formatDate(date, { day: "numeric", month: "short" });
  const labels = [
    [start, short(start), "start"],
    [end, short(end), "end"],
  ];
  const todayDay = daysBetween(start, now);
  if (todayDay > 2 && todayDay < length - 2) labels.push([now, "Today", "middle"]);
  for (const [date, text, anchor] of labels) {
    grid.append(svg("text", { x: x(date), y: height - 8, class: "chart-label", "text-anchor": anchor }, text));
  }
  if (todayDay >= 0 && todayDay <= length) {
    grid.append(svg("line", { class: "burndown-today", x1: x(now), x2: x(now), y1: PAD.top, y2: height - PAD.bottom }));
  }
  chart.append(
    svg("polyline", {
      class: "burndown-ideal",
      points: `${point(x(start), scale.y(total))} ${point(x(end), scale.y(0))}`,
      "data-series": "ideal",
    }),
    svg("polyline", {
      class: "burndown-actual",
      points: days.map((entry) => point(x(entry.date), scale.y(entry.remaining))).join(" "),
      "data-series": "remaining",
      "data-values": days.map((entry) => entry.remaining).join(" "),
    }),
  );
  const last = days.at(-1);
  if (last) {
    chart.append(
      svg("circle", {
        class: "burndown-dot",
        cx: x(last.date),
        cy: scale.y(last.remaining),
        r: 3.5,
        "data-date": last.date,
        "data-remaining": last.remaining,
      }),
    );
  }
  container.replaceChildren(chart);
  return caption;
}
