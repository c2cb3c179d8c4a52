-- wrk script: sends the request paths listed in $PATHS_FILE in turn, each
-- thread starting at a different place, and counts non-2xx answers
-- (benches/wrk-common.lua).
items = {}
for line in io.lines(os.getenv("PATHS_FILE")) do
  items[#items + 1] = line
end

function make_request(path)
  return wrk.format("GET", path)
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "wrk-common.lua")
