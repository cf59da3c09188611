// Calendar dates as the API writes them (YYYY-MM-DD), computed in UTC so that
// daylight-saving changes never shift a day.

const DAY = 86400000;

function pad(number) {
  return String(number).padStart(2, "0");
}

/** Today in the person's own time zone. */
export function today() {
  const now = new Date();
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function toTime(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return Date.UTC(year, month - 1, day);
}

export function fromTime(time) {
  const date = new Date(time);
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

export function addDays(iso, days) {
  return fromTime(toTime(iso) + days * DAY);
}

export function daysBetween(from, to) {
  return Math.round((toTime(to) - toTime(from)) / DAY);
}

export function formatDate(iso, options = { weekday: "short", day: "numeric", month: "short" }) {
  if (!iso) return "";
  return new Date(toTime(iso)).toLocaleDateString(undefined, { timeZone: "UTC", ...options });
}

export function formatLongDate(iso) {
  return formatDate(iso, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
}

/** Today as a UTC calendar day: the days of a burndown are UTC days. */
export function utcToday(now = Date.now()) {
  return fromTime(now);
}
