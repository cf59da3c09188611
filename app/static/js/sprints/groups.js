// A project's sprints as the list shows them, free of the DOM: current (running
// today), upcoming (starting after today) and past (ended before today), and
// how each says when it runs.

import { addDays, daysBetween, formatDate, formatLongDate } from "../dates.js";

export const PAST_PAGE = 5; // past sprints fetched at a time ("Show more past sprints")

const byEnd = (a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : a.id - b.id);

/** The sprint's start as the API gives it, or the default for a sprint from before start dates. */
export function sprintStart(sprint) {
  return sprint.start || addDays(sprint.end, -14);
}

/** `sprints` on `now`: `{current, upcoming, past}`, the first two soonest first, the past newest first. */
export function groupSprints(sprints, now) {
  const groups = { current: [], upcoming: [], past: [] };
  for (const sprint of [...sprints].sort(byEnd)) {
    if (sprint.end < now) groups.past.push(sprint);
    else if (sprintStart(sprint) > now) groups.upcoming.push(sprint);
    else groups.current.push(sprint);
  }
  groups.past.reverse();
  return groups;
}

/** The `end_max` of the next page of past sprints: the day before the oldest one shown, or yesterday. */
export function pastCursor(sprints, now) {
  const ends = sprints.filter((sprint) => sprint.end < now).map((sprint) => sprint.end);
  const oldest = ends.length ? ends.reduce((a, b) => (a < b ? a : b)) : now;
  return addDays(oldest, -1);
}

/** "3 Mar – 17 Mar 2030 · 5 days left" (or "starts in 2 days", or "ended"). */
export function sprintRange(sprint, now) {
  const start = sprintStart(sprint);
  const range = `${formatDate(start, { day: "numeric", month: "short" })} – ${formatLongDate(sprint.end)}`;
  const left = daysBetween(now, sprint.end);
  const ahead = daysBetween(now, start);
  if (left < 0) return `${range} · ended`;
  if (ahead > 0) return `${range} · starts in ${ahead} ${ahead === 1 ? "day" : "days"}`;
  if (left === 0) return `${range} · last day`;
  return `${range} · ${left} ${left === 1 ? "day" : "days"} left`;
}
