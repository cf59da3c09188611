// The page: signing in and out, the live connection, and which view is shown
// (the addresses are in routes.js; without ?project: the first project).
// The session is shared by every tab of this browser: signing in or out in one
// signs in or out in all (see session.js).

import { api, getAll, session, setUnauthorizedHandler } from "./api.js";
import { Board } from "./board/board.js";
import { announce, byIds, clearFormErrors, showFormErrors } from "./dom.js";
import { Live } from "./live.js";
import { Projects } from "./projects/projects.js";
import { LinkedTaskDialog, parseRoute } from "./routes.js";
import { SprintDialog } from "./sprints/dialog.js";
import { SprintsView } from "./sprints/list.js";

const views = byIds({ login: "login-view", sprints: "sprints-view", board: "board-view" });
const page = byIds({
  loginForm: "login-form",
  sessionBar: "session-bar",
  mainNav: "main-nav",
  connection: "connection",
  whoami: "whoami",
  main: "app",
});

const users = new Map(); // username -> user, kept up to date from the lobby
const taskDialog = new LinkedTaskDialog({ users });
const sprintDialog = new SprintDialog();
document.getElementById("sprint-edit-open").addEventListener("click", () => board && sprintDialog.open(board));
const projects = new Projects({
  onShow: () => route(),
  onChanged: () => {
    board?.render(); // a role change makes the board read-only, or writable again
    if (!board && sprintsView) sprintsView.show(projects.current);
  },
  onLost: (project, message) => {
    if (shownProject !== project.id) {
      projects.render();
      announce(message);
      return;
    }
    leaveBoard();
    taskDialog.close();
    window.history.replaceState(null, "", window.location.search + "#/");
    projects.showNotice(message);
    route();
    page.main.focus({ preventScroll: true });
  },
});

let live = null;
let activeToken = null; // the token this tab's views were started with
let sprintsView = null;
let board = null;
let shownProject = null; // the id of the project whose sprints or board are shown
let usersApplied = new Map();

function showView(name) {
  for (const [key, section] of Object.entries(views)) section.hidden = key !== name;
}

// -- signing in and out --------------------------------------------------------------

page.loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFormErrors(page.loginForm);
  const data = new FormData(page.loginForm);
  const username = String(data.get("username")).trim();
  const password = String(data.get("password"));
  const button = page.loginForm.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const { body } = await api.post("/api/token", { username, password }, { auth: false });
    session.save(body.token, username, body.expires);
    page.loginForm.reset();
    startSession();
  } catch (error) {
    showFormErrors(page.loginForm, error.body);
  } finally {
    button.disabled = false;
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  live?.close(); // before the server closes it, which would look like a revoked session
  try {
    await api.delete("/api/token"); // revokes the token (and closes its sockets) on the server
  } catch {
    // Signed out here either way; an unreachable server lets the token expire on its own.
  }
  endSession("You have signed out.");
});

setUnauthorizedHandler(() => {
  if (activeToken) endSession("Your session has ended. Please sign in again.");
});

// Another tab signed in or out (or in as someone else): this one follows.
session.onChange((token) => {
  if (token === activeToken) return;
  if (activeToken) endSession(token ? null : "You have signed out.");
  if (token) startSession();
});

function startSession() {
  activeToken = session.token;
  page.sessionBar.hidden = false;
  page.mainNav.hidden = false;
  page.whoami.textContent = session.username;
  live = new Live(activeToken, { onRefused: checkToken });
  live.on("state", renderConnection);
  live.on("change", onLobbyChange);
  renderConnection(live.state);
  live.connect();
  sprintsView = new SprintsView({ live });
  loadUsers();
  showView("sprints");
  projects.start(live, session.username).then(() => live && route());
}

function endSession(message) {
  leaveBoard();
  taskDialog.close();
  projects.stop();
  sprintsView?.destroy();
  sprintsView = null;
  live?.close();
  live = null;
  // Unless another tab has already signed in again with a token of its own.
  if (session.token === activeToken) session.clear();
  activeToken = null;
  users.clear();
  usersApplied = new Map();
  page.sessionBar.hidden = true;
  page.mainNav.hidden = true;
  document.title = "Sign in · Scrum board";
  showView("login");
  if (message) announce(message);
  document.getElementById("login-username").focus();
}

/** The socket was refused or closed by the server: find out whether the token still works. */
async function checkToken(reason) {
  try {
    await api.get("/api/users?page_size=1"); // a 401 here ends the session (see above)
    announce(`Live updates are unavailable (${reason}). Retrying…`, "error");
    setTimeout(() => live && !live.connected && live.connect(), 5000);
  } catch {
    // Ended by the unauthorized handler, or offline: the online event reconnects.
  }
}

function renderConnection(state) {
  page.connection.dataset.state = state;
  page.connection.querySelector(".connection-text").textContent = live ? live.stateText() : "Offline";
}

// -- users (assignees, presence names) ---------------------------------------------------

async function loadUsers() {
  try {
    const list = await getAll("/api/users");
    for (const user of list) users.set(user.username, user);
    board?.render(); // full names for the cards and the presence list
  } catch (error) {
    if (error.status !== 401) announce(`The list of people could not be loaded: ${error.message}`, "error");
  }
}

function onLobbyChange(change) {
  if (!change || change.model !== "user") return;
  if (change.seq <= (usersApplied.get(change.id) ?? 0)) return;
  usersApplied.set(change.id, change.seq);
  for (const [username, user] of users) if (user.id === change.id) users.delete(username);
  if (change.body) users.set(change.body.username, change.body);
}

// -- views ---------------------------------------------------------------------------

function leaveBoard() {
  sprintDialog.close();
  if (board) {
    board.stop();
    board = null;
  }
}

function route() {
  if (!session.token) {
    endSession();
    return;
  }
  if (!projects.ready) return; // routed once they are loaded
  projects.render();
  const current = projects.current;
  const { sprintId, taskId } = parseRoute(window.location.hash);
  if (sprintId && board && board.sprintId === sprintId) {
    if (taskId && board.sprint) openLinkedTask(board, taskId);
    return;
  }
  shownProject = current ? current.id : null;
  leaveBoard();
  taskDialog.close();
  if (sprintId) {
    sprintsView.hide();
    showView("board");
    let linkedTask = taskId; // opened once the board has loaded
    board = new Board({
      sprintId,
      live,
      users,
      me: session.username,
      taskDialog,
      sprintDialog,
      roleOf: (projectId) => projects.roleIn(projectId),
      onLoaded: (sprint) => {
        // A board opened by its address shows its own project's name and role around it.
        shownProject = sprint.project;
        if (projects.current?.id !== sprint.project && projects.roleIn(sprint.project)) {
          projects.select(sprint.project, { replace: true, show: false });
        }
        if (linkedTask) {
          const [shown, id] = [board, linkedTask];
          queueMicrotask(() => shown === board && openLinkedTask(shown, id));
          linkedTask = null;
        }
      },
      onGone: (message) => {
        announce(message, "error");
        window.location.hash = "#/";
      },
    });
    board.start();
  } else {
    showView("sprints");
    sprintsView.show(current);
  }
}

function openLinkedTask(shown, taskId) {
  if (!taskDialog.openLinked(shown, taskId)) announce("That task is not on this board.", "error");
}

// Following a link to a sprint, choosing a project, and Back and Forward all come here.
window.addEventListener("popstate", () => {
  if (!session.token) return;
  route();
  page.main.focus({ preventScroll: true });
});

if (session.token) startSession();
else endSession();
