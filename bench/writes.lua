-- wrk script for the write benchmark (bench/writes.py): bench/rest.lua (REST_LUA, its
-- absolute path) in MODE=patch, with one addition. DISTINCT=1 gives each wrk thread a
-- task of its own (run it with -tN -cN): thread k PATCHes only the k-th of TASK_IDS, so
-- no two requests in flight ever want the same row lock. Without DISTINCT, rest.lua's
-- requests cycle over all of TASK_IDS, as in the REST benchmark.
dofile(os.getenv("REST_LUA"))

if os.getenv("DISTINCT") == "1" then
  local ids = {}
  for id in string.gmatch(os.getenv("TASK_IDS") or "1", "[^,]+") do
    table.insert(ids, id)
  end
  local rest_setup = setup
  local slots = 0
  function setup(thread)
    rest_setup(thread)
    slots = slots + 1
    thread:set("slot", slots)
  end
  function request()
    sent = sent + 1
    local body = string.format('{"order": %d}', sent % 30000)
    return wrk.format("PATCH", "/api/tasks/" .. ids[(slot - 1) % #ids + 1], nil, body)
  end
end
