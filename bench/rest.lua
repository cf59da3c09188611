-- wrk script for the REST benchmark (bench/rest.py).
-- Environment: MODE = list | get | patch, TOKEN (API token), SPRINT (sprint id),
--   TASK_IDS (comma-separated ids cycled by get/patch), MAX_REQUESTS (cap on
--   responses per wrk thread; wrk's -d bounds the time), OUT (JSON result file).
local mode = os.getenv("MODE") or "list"
local token = os.getenv("TOKEN") or ""
local sprint = os.getenv("SPRINT") or "1"
local max_requests = tonumber(os.getenv("MAX_REQUESTS") or "300000")
local out_path = os.getenv("OUT")

local task_ids = {}
for id in string.gmatch(os.getenv("TASK_IDS") or "1", "[^,]+") do
  table.insert(task_ids, id)
end

wrk.headers["Authorization"] = "Token " .. token
wrk.headers["Accept"] = "application/json"
if mode == "patch" then
  wrk.headers["Content-Type"] = "application/json"
end

sent, ok, bad = 0, 0, 0

function request()
  sent = sent + 1
  if mode == "list" then
    return wrk.format("GET", "/api/tasks?sprint=" .. sprint)
  end
  local id = task_ids[(sent - 1) % #task_ids + 1]
  if mode == "get" then
    return wrk.format("GET", "/api/tasks/" .. id)
  end
  local body = string.format('{"order": %d}', sent % 30000)
  return wrk.format("PATCH", "/api/tasks/" .. id, nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
  if ok + bad >= max_requests then
    wrk.thread:stop()
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local t_ok, t_bad = 0, 0
  for _, t in ipairs(threads) do
    t_ok = t_ok + (t:get("ok") or 0)
    t_bad = t_bad + (t:get("bad") or 0)
  end
  local e = summary.errors
  local json = string.format(
    '{"mode": "%s", "duration_us": %d, "requests": %d, "ok_2xx": %d, "not_2xx": %d, ' ..
    '"err_connect": %d, "err_read": %d, "err_write": %d, "err_timeout": %d, ' ..
    '"lat_p50_us": %d, "lat_p90_us": %d, "lat_p99_us": %d, "lat_mean_us": %.1f, "lat_max_us": %d}',
    mode, summary.duration, summary.requests, t_ok, t_bad,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max)
  if out_path then
    local f = assert(io.open(out_path, "w"))
    f:write(json, "\n")
    f:close()
  end
  io.write(json, "\n")
end
