// The projects the person is a member of, with their role in each, free of the
// DOM: loaded over REST, kept up to date from `project` and `member` changes
// (applied by the same per-object seq rule as the board), and which one is
// chosen (`?project=ID` in the address, else the first by name).

export const ROLES = ["viewer", "member", "admin"];
export const ROLE_LABELS = { viewer: "Viewer", member: "Member", admin: "Admin" };
export const ROLE_HELP = {
  viewer: "You can view this project but not change it.",
  member: "You can plan sprints and change tasks.",
  admin: "You can also rename the project and manage its members.",
};

export function canWrite(role) {
  return role === "member" || role === "admin";
}

export function isAdmin(role) {
  return role === "admin";
}

/** The project id an address's query names (`?project=ID`), or null. */
export function projectIdFromSearch(search) {
  const value = new URLSearchParams(search).get("project");
  return /^\d+$/.test(value || "") ? Number(value) : null;
}

/** `search` with `project` set to `projectId` (or removed for null), keeping any other parameter. */
export function searchWithProject(search, projectId) {
  const params = new URLSearchParams(search);
  if (projectId === null) params.delete("project");
  else params.set("project", String(projectId));
  const query = params.toString();
  return query ? `?${query}` : "";
}

export class ProjectList {
  constructor(me) {
    this.me = me;
    this.projects = new Map(); // id -> project as the REST API shows it to me (with my role)
    this.applied = new Map(); // "model:id" -> seq of the change last applied to it
  }

  load(projects) {
    this.projects = new Map(projects.map((project) => [project.id, project]));
  }

  get(id) {
    return this.projects.get(id) ?? null;
  }

  roleIn(id) {
    return this.get(id)?.role ?? null;
  }

  sorted() {
    return [...this.projects.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
  }

  /** The project to show: `wanted` when I am in it, else the first. */
  choose(wanted) {
    return this.get(wanted) ?? this.sorted()[0] ?? null;
  }

  /** Add or replace a project I just created or fetched. */
  put(project) {
    this.projects.set(project.id, project);
  }

  /**
   * Apply a live change. Resolves to what it means for the person:
   * `{changed}` (the list or a role changed), `{reload}` (I joined a project:
   * fetch the list for my role in it), `{lost: project}` (I was removed, or it
   * was deleted), `{members: projectId}` (someone else's membership changed).
   */
  apply(change) {
    if (!change || typeof change.seq !== "number" || !["project", "member"].includes(change.model)) return {};
    const key = `${change.model}:${change.id}`;
    if (change.seq <= (this.applied.get(key) ?? 0)) return {};
    this.applied.set(key, change.seq);
    return change.model === "project" ? this.applyProject(change) : this.applyMember(change);
  }

  applyProject({ id, action, body }) {
    const known = this.get(id);
    if (action === "remove" || !body) {
      this.projects.delete(id);
      return known ? { changed: true, lost: known } : {};
    }
    if (!known) return { reload: true };
    this.projects.set(id, { ...known, ...body, role: known.role }); // a logged body has no role: it is mine
    return { changed: true };
  }

  applyMember({ action, body }) {
    if (!body) return {};
    const known = this.get(body.project);
    if (body.username !== this.me) return { members: body.project };
    if (action === "remove") {
      this.projects.delete(body.project);
      return known ? { changed: true, lost: known } : {};
    }
    if (!known) return { reload: true };
    this.projects.set(body.project, { ...known, role: body.role });
    return { changed: true, members: body.project };
  }
}
