// The person's projects on the page: the list (./list.js), which one is shown
// (`?project=ID` in the address), the bar above the sprint list (./bar.js), the
// settings dialog (./settings.js), and what a `project` or `member` change means
// here: a new role, a new project, or a project lost (removed from it, or deleted).

import { getAll } from "../api.js";
import { announce } from "../dom.js";
import { ProjectBar } from "./bar.js";
import { ProjectList, projectIdFromSearch, searchWithProject } from "./list.js";
import { ProjectSettings } from "./settings.js";

export class Projects {
  /** `onShow()`: show the current project's sprints; `onChanged()`: roles or names changed; `onLost(project, message)`. */
  constructor({ onShow, onChanged, onLost }) {
    this.onShow = onShow;
    this.onChanged = onChanged;
    this.onLost = onLost;
    this.list = new ProjectList(null);
    this.ready = false;
    this.bar = new ProjectBar({
      onSelect: (id) => this.select(id),
      onCreated: (project) => {
        this.list.put(project);
        announce(`Created the project “${project.name}”.`);
        this.select(project.id);
      },
      onSettings: () => this.current && this.settings.open(this.current),
    });
    this.settings = new ProjectSettings({
      onRenamed: (project) => {
        this.list.put({ ...project, role: this.list.roleIn(project.id) ?? project.role });
        this.changed();
      },
    });
  }

  /** Follow the projects of `me` over `live`; resolves once they are loaded. */
  async start(live, me) {
    this.list = new ProjectList(me);
    this.unlisten = live.on("change", (change) => this.onChange(change));
    await this.load();
    this.ready = true;
  }

  stop() {
    this.unlisten?.();
    this.ready = false;
    this.settings.close();
    this.bar.showNotice(null);
  }

  async load() {
    try {
      this.list.load(await getAll("/api/projects"));
    } catch (error) {
      if (error.status !== 401) announce(`Your projects could not be loaded: ${error.message}`, "error");
    }
  }

  /** The project shown: the address's when I am in it, else the first. */
  get current() {
    return this.list.choose(projectIdFromSearch(window.location.search));
  }

  roleIn(id) {
    return this.list.roleIn(id);
  }

  /** Show project `id`'s sprints, remembering it in the address (a new history entry unless `replace`). */
  select(id, { replace = false, show = true } = {}) {
    const url = searchWithProject(window.location.search, id) + (show ? "#/" : window.location.hash);
    if (replace) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
    this.render();
    if (show) this.onShow();
  }

  /** Render the bar, and put the shown project in the address when it names another (or none). */
  render() {
    const current = this.current;
    const wanted = current ? current.id : null;
    if (projectIdFromSearch(window.location.search) !== wanted) {
      window.history.replaceState(null, "", searchWithProject(window.location.search, wanted) + window.location.hash);
    }
    this.bar.render(this.list.sorted(), current);
  }

  showNotice(text) {
    this.bar.showNotice(text);
  }

  changed() {
    this.render();
    this.onChanged();
  }

  async onChange(change) {
    const outcome = this.list.apply(change);
    if (outcome.members) this.settings.refresh(outcome.members);
    if (outcome.lost) {
      const removed = change.model === "member";
      if (this.settings.project?.id === outcome.lost.id) this.settings.close();
      const message = removed
        ? `You are no longer a member of “${outcome.lost.name}”, so its board has closed.`
        : `The project “${outcome.lost.name}” has been deleted, so its board has closed.`;
      this.onLost(outcome.lost, message);
    } else if (outcome.reload) {
      await this.load();
      this.changed();
    } else if (outcome.changed) {
      this.changed();
    }
  }
}
