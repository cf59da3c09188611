// A project's velocity: what each of its last six ended sprints committed to
// and completed (GET /api/projects/<id>/velocity), as pairs of bars drawn in
// inline SVG with DOM methods. Shown beside the sprint list to every member.

import { api } from "./api.js";
import { chartFrame, chartSize, PAD, yScale } from "./charts.js";
import { formatDate } from "./dates.js";
import { svg } from "./dom.js";
import { sprintName } from "./model.js";
import { formatAmount } from "./points.js";

const REFRESH_DELAY = 1000; // ms after a sprint change: several in a row fetch once

/** The average completed per sprint, one decimal (null with no sprint). */
export function averageCompleted(sprints) {
  if (!sprints.length) return null;
  const sum = sprints.reduce((total, sprint) => total + sprint.completed, 0);
  return Math.round((sum / sprints.length) * 10) / 10;
}

/** Draw `data` into `container`; returns the caption. */
export function renderVelocity(container, data) {
  const { width, height } = chartSize(container);
  const { unit, sprints } = data;
  const average = averageCompleted(sprints);
  const caption = sprints.length ? `${formatAmount(average, unit)} completed per sprint on average` : "";
  const max = Math.max(1, ...sprints.flatMap((sprint) => [sprint.committed, sprint.completed]));
  const scale = yScale(max, height);
  const { chart } = chartFrame({
    id: "velocity-svg",
    className: "velocity-svg",
    width,
    height,
    scale,
    title: `Velocity in ${unit}`,
    description: sprints
      .map((sprint) => `${sprintName(sprint)}: ${sprint.completed} of ${sprint.committed} ${unit} completed.`)
      .join(" "),
    attrs: { "data-unit": unit, "data-sprints": sprints.length },
  });
  const slot = (width - PAD.left - PAD.right) / Math.max(sprints.length, 1);
  const bar = Math.min(22, slot / 3);
  const base = scale.y(0);
  sprints.forEach((sprint, index) => {
    const middle = PAD.left + slot * (index + 0.5);
    const group = svg("g", {
      class: "velocity-sprint",
      "data-sprint": sprint.id,
      "data-committed": sprint.committed,
      "data-completed": sprint.completed,
    });
    group.append(
      svg("title", {}, `${sprintName(sprint)}: committed ${sprint.committed}, completed ${sprint.completed}`),
      barRect(middle - bar - 1, bar, scale.y(sprint.committed), base, "velocity-committed"),
      barRect(middle + 1, bar, scale.y(sprint.completed), base, "velocity-completed"),
      svg(
        "text",
        { x: middle, y: height - 8, class: "chart-label", "text-anchor": "middle" },
        formatDate(sprint.end, { day: "numeric", month: "short" }),
      ),
    );
    chart.append(group);
  });
  container.replaceChildren(chart);
  return caption;
}

function barRect(x, width, top, base, className) {
  return svg("rect", { class: className, x, y: top, width, height: Math.max(0, base - top), rx: 2 });
}

export class VelocityView {
  constructor() {
    this.container = document.getElementById("velocity-chart");
    this.caption = document.getElementById("velocity-caption");
    this.project = null;
    this.data = null;
    this.loads = 0;
    this.resizeObserver = new ResizeObserver(() => this.data && this.draw());
    this.resizeObserver.observe(this.container);
  }

  stop() {
    this.resizeObserver.disconnect();
    clearTimeout(this.timer);
  }

  show(project) {
    if (project?.id !== this.project?.id) {
      this.data = null;
      this.container.replaceChildren();
      this.caption.textContent = "";
    }
    this.project = project;
    if (project) this.load();
  }

  /** A sprint of the project changed (renamed, re-dated, deleted): fetch again shortly. */
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.project && this.load(), REFRESH_DELAY);
  }

  async load() {
    const project = this.project;
    const load = ++this.loads;
    try {
      const { body } = await api.get(`/api/projects/${project.id}/velocity`);
      if (load !== this.loads) return;
      this.data = body;
      this.draw();
    } catch (error) {
      if (load === this.loads && error.status !== 401) this.caption.textContent = "Velocity could not be loaded.";
    }
  }

  draw() {
    if (!this.data.sprints.length) {
      this.container.replaceChildren();
      this.caption.textContent = "Shown once a sprint has ended.";
      return;
    }
    this.caption.textContent = renderVelocity(this.container, this.data);
  }
}
